import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..', '..', '..');
const readme = readFileSync(resolve(import.meta.dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('the in-process example prints what the README says (against the built package)', () => {
    const section = readme.slice(readme.indexOf('## In-process use'));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    const expected = /Output:\n\n```text\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toContain("from '@iqa-bench/cli'");
    expect(expected).toMatch(/^false\n/);
    const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', code as string], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect(stdout).toBe(expected);
  });
});
