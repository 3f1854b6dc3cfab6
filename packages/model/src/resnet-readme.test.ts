import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as model from './index.js';

// Runs the examples of the README section "ResNet-50 and backends" and compares what they print with the text shown.
const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
const start = readme.indexOf('## ResNet-50 and backends');
const next = readme.indexOf('\n## ', start + 1);
const section = readme.slice(start, next < 0 ? undefined : next);

function examples(): { code: string; output: string }[] {
  const out: { code: string; output: string }[] = [];
  const re = /```js\n([\s\S]*?)\n```\s*\n```text\n([\s\S]*?)\n```/g;
  for (let m = re.exec(section); m; m = re.exec(section)) out.push({ code: m[1], output: m[2] });
  return out;
}

async function run(code: string): Promise<string> {
  const body = code.replace(
    /^import \{([^}]*)\} from '@iqa-bench\/model';$/m,
    (_, names: string) => `const {${names}} = iqaModelPackage;`,
  );
  expect(body).not.toMatch(/^import /m);
  const lines: string[] = [];
  const console = { log: (...args: unknown[]) => lines.push(args.map(String).join(' ')) };
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (
    ...args: string[]
  ) => (...a: unknown[]) => Promise<void>;
  await new AsyncFunction('iqaModelPackage', 'console', body)(model, console);
  return lines.join('\n');
}

const require = createRequire(import.meta.url);
function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

describe('README: ResNet-50 and backends', () => {
  it('has the section and two runnable examples with their output', () => {
    expect(start).toBeGreaterThanOrEqual(0);
    expect(examples().length).toBe(2);
  });

  it('selectBackend example prints what is shown (on a machine without tfjs-node)', async () => {
    const [ex] = examples();
    const printed = await run(ex.code);
    if (installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu')) {
      expect(printed).toMatch(/^tensorflow /);
    } else {
      expect(printed).toBe(ex.output);
    }
  });

  it('ScoringPool example prints what is shown', async () => {
    await model.selectBackend('wasm');
    const ex = examples()[1];
    expect(await run(ex.code)).toBe(ex.output);
  }, 120_000);
});
