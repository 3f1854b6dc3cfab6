import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as metrics from './index.js';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

/** The first fenced block of the given language after `after`. */
function block(lang: string, after = 0): { code: string; end: number } {
  const open = readme.indexOf('```' + lang + '\n', after);
  if (open < 0) throw new Error(`README has no \`\`\`${lang} block`);
  const start = open + lang.length + 4;
  const close = readme.indexOf('\n```', start);
  return { code: readme.slice(start, close), end: close };
}

describe('README example', () => {
  it('runs and prints exactly the output the README shows', async () => {
    const example = block('js');
    const output = block('text', example.end).code;
    // Bind the package import to this source tree, and capture console.log.
    const code = example.code.replace(
      /^import \{([^}]*)\} from '@iqa-bench\/metrics';$/m,
      (_, names: string) => `const {${names}} = metrics;`,
    );
    expect(code).not.toMatch(/^import /m);
    const lines: string[] = [];
    const console = { log: (...args: unknown[]) => lines.push(args.map(String).join(' ')) };
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...args: string[]
    ) => (...values: unknown[]) => Promise<void>;
    await new AsyncFunction('metrics', 'console', code)(metrics, console);
    expect(lines.join('\n')).toBe(output);
  });
});
