/** Runs the README example as a user would (built dists, a fresh folder), so the documented code keeps working. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../tools/testing/temp-dir.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const dist = (name: string) => join(pkg, '..', name, 'dist', 'index.js');

describe('README', () => {
  it('the example trains, writes the run directory and prints the test SRCC', () => {
    const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
    const code = /```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toContain("from '@iqa-bench/train'");
    const script = (code as string)
      .replace("'@iqa-bench/data'", `'${pathToFileURL(dist('data')).href}'`)
      .replace("'@iqa-bench/train'", `'${pathToFileURL(dist('train')).href}'`);
    const dir = tempDir('train-readme-');
    writeFileSync(join(dir, 'example.mjs'), script);
    const out = execFileSync(process.execPath, ['example.mjs'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: 'pipe',
    });
    expect(out).toMatch(/^-?0\.\d+ \{ train: 75, select: 25, test: 25 \}\n$/);
    for (const f of [
      'config.json',
      'metrics.jsonl',
      'summary.json',
      'round-0/best.safetensors',
      'round-0/split.json',
    ]) {
      expect(existsSync(join(dir, 'runs/demo', f))).toBe(true);
    }
  }, 120_000);
});
