import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'iqa-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack of @iqa-bench/metrics', () => {
  it('ships dist with types and imports from a clean install', () => {
    const out = execFileSync(
      'npm',
      ['pack', '--json', '--pack-destination', work, '-w', '@iqa-bench/metrics'],
      {
        cwd: repo,
        encoding: 'utf8',
      },
    );
    const [info] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const shipped = info.files.map((f) => f.path);
    expect(shipped).toContain('dist/index.js');
    expect(shipped).toContain('dist/index.d.ts');
    expect(shipped).toContain('README.md');
    expect(shipped.filter((p) => p.includes('.test.'))).toEqual([]);
    expect(shipped.filter((p) => p.startsWith('src/'))).toEqual([]);

    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tgz).toBe('iqa-bench-metrics-0.1.0.tgz');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(work, tgz as string)], {
      cwd: app,
      encoding: 'utf8',
    });
    const script = [
      "import * as m from '@iqa-bench/metrics';",
      'const r = m.srcc([1, 2, 3, 4], [10, 20, 40, 30]);',
      'console.log(JSON.stringify({ keys: Object.keys(m).sort(), r }));',
    ].join('\n');
    writeFileSync(join(app, 'main.mjs'), script);
    const res = JSON.parse(execFileSync('node', ['main.mjs'], { cwd: app, encoding: 'utf8' })) as {
      keys: string[];
      r: number;
    };
    expect(res.keys).toEqual(
      expect.arrayContaining(['srcc', 'plcc', 'krcc', 'rmse', 'mae', 'fitLogistic', 'evaluate']),
    );
    // scipy.stats.spearmanr([1,2,3,4],[10,20,40,30]) = 0.8
    expect(res.r).toBeCloseTo(0.8, 12);
  });
});
