import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as pkg from '../index.js';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Weights and checkpoints'));

/** The first fenced block of the given language in the weights section after `after`. */
function block(lang: string, after = 0): { code: string; end: number } {
  const open = section.indexOf('```' + lang + '\n', after);
  if (open < 0) throw new Error(`README weights section has no \`\`\`${lang} block`);
  const start = open + lang.length + 4;
  const close = section.indexOf('\n```', start);
  return { code: section.slice(start, close), end: close };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('README: Weights and checkpoints', () => {
  it('runs the example and prints exactly the output shown', async () => {
    expect(section.length).toBeGreaterThan(100);
    const example = block('js');
    const output = block('text', example.end).code;
    const code = example.code
      .replace(
        /^import \{([^}]*)\} from '@iqa-bench\/model';$/m,
        (_, names: string) => `const {${names}} = __pkg;`,
      )
      .replace(
        /^import \{([^}]*)\} from '(node:[a-z]+)';$/gm,
        (_, names: string, mod: string) => `const {${names}} = await importNode('${mod}');`,
      );
    expect(code).not.toMatch(/^import /m);
    const lines: string[] = [];
    const console = { log: (...args: unknown[]) => lines.push(args.map(String).join(' ')) };
    const importNode = (m: string): Promise<unknown> => import(m);
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...args: string[]
    ) => (...values: unknown[]) => Promise<void>;
    await new AsyncFunction('__pkg', 'console', 'importNode', code)(pkg, console, importNode);
    expect(lines.join('\n')).toBe(output);
  });
});
