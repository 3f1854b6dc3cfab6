import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { iqa } from './cli-run.js';

const work = mkdtempSync(join(tmpdir(), 'iqa-cli-demo-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('iqa-bench demo', () => {
  it('runs synthetic data → training → cross-dataset → complexity → report, offline (small settings)', async () => {
    const out = join(work, 'demo');
    const r = await iqa([
      'demo',
      '--out',
      out,
      '--refs',
      '5',
      '--size',
      '224x224',
      '--epochs',
      '1',
      '--presets',
      'smart-iqa-micro',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as {
      train: { schema: string };
      crossDataset: { datasets: Array<{ name: string; n: number; split: string }> };
      complexity: { models: Array<{ name: string; params: number }> };
      files: string[];
    };
    expect(res.train.schema).toBe('iqa-bench/train-summary@1');
    expect(res.crossDataset.datasets.map((d) => [d.name, d.split])).toEqual([
      ['synth-kadid', 'test'],
      ['synth-kadid-new-scenes', 'all'],
      ['synth-koniq', 'all'],
    ]);
    // The variants have half the scenes (3): × 25 distortions in the KADID-10k layout; × 26 images (references
    // included) in KonIQ's.
    expect(res.crossDataset.datasets.slice(1).map((d) => d.n)).toEqual([75, 78]);
    expect(res.complexity.models.map((m) => m.name)).toEqual(['smart-iqa-micro', 'small HyperIQA (trained)']);
    expect(res.complexity.models[1].params).toBeGreaterThan(0);
    expect(readdirSync(out).sort()).toEqual([
      'complexity.json',
      'cross-dataset.json',
      'data',
      'figures',
      'report.html',
      'report.md',
      'report.tex',
      'train',
    ]);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    // heatmap, 3 scatter plots, 2 training curves, complexity bars — all inline
    expect(html.match(/<svg /g)).toHaveLength(7);
    expect(html).not.toMatch(/<script|src=|href=/);
    expect(res.files.filter((f) => f.endsWith('.png'))).toHaveLength(7);
    // The demo's files are what check and report read.
    const check = await iqa([
      'check',
      '--result',
      join(out, 'cross-dataset.json'),
      '--baseline',
      join(out, 'cross-dataset.json'),
      '-q',
    ]);
    expect(check.code).toBe(0);
    const summary = await iqa([
      'check',
      '--result',
      join(out, 'train', 'summary.json'),
      '--baseline',
      join(out, 'train', 'summary.json'),
      '-q',
    ]);
    expect(summary.code).toBe(0);
  });

  it('refuses a non-empty --out without --force', async () => {
    writeFileSync(join(work, 'note.txt'), 'mine');
    const r = await iqa(['demo', '--out', work]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `iqa-bench: error: --out ${work}: the folder is not empty; choose another or pass --force\n`,
    );
  });
});
