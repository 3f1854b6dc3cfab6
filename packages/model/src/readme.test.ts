import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from './__tests__/helpers.js';
import * as pkg from './index.js';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
const start = readme.indexOf('## SMART-IQA and HyperIQA');
const section = readme.slice(start, readme.indexOf('\n## ', start + 5));

function block(lang: string, after = 0): { code: string; end: number } {
  const open = section.indexOf('```' + lang + '\n', after);
  if (open < 0) throw new Error(`README SMART-IQA section has no \`\`\`${lang} block`);
  const begin = open + lang.length + 4;
  const close = section.indexOf('\n```', begin);
  return { code: section.slice(begin, close), end: close };
}

beforeAll(() => useBackend('wasm'));

describe('README: SMART-IQA and HyperIQA', () => {
  it('runs the example and prints exactly the output shown', async () => {
    expect(start).toBeGreaterThanOrEqual(0);
    const example = block('js');
    const expected = block('text', example.end).code;
    const code = example.code
      .replace(/^import \* as tf from '@tensorflow\/tfjs';$/m, '')
      .replace(/^import '@tensorflow\/tfjs-backend-wasm';$/m, '')
      .replace(
        /^import \{([^}]*)\} from '@iqa-bench\/model';$/m,
        (_, names: string) => `const {${names}} = __pkg;`,
      );
    expect(code).not.toMatch(/^import /m);
    const lines: string[] = [];
    const console = { log: (...args: unknown[]) => lines.push(args.map(String).join(' ')) };
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (
      ...args: string[]
    ) => (...a: unknown[]) => Promise<void>;
    const before = tf.memory().numTensors;
    await new AsyncFunction('tf', '__pkg', 'console', code)(tf, pkg, console);
    expect(lines.join('\n')).toBe(expected);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
