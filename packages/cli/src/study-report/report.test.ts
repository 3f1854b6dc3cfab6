import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, srcc } from '@iqa-bench/metrics';
import type { StudyAggregate } from '@iqa-bench/study';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticStudy } from '../../../../tools/testing/study-input.js';
import { tempDir } from '../../../../tools/testing/temp-dir.js';
import { logTickLabel, logTicks } from '../report/svg.js';
import { writeStudyReport } from './report.js';

const input = syntheticStudy({
  variants: [
    { name: 'base', noise: 0.3, complexity: { params: 88e6, gmacs: 15.4 } },
    {
      name: 'concat',
      noise: 0.4,
      overrides: { 'model.fusion': 'concat' },
      complexity: { params: 88e6, gmacs: 15.4 },
    },
    {
      name: 'single',
      noise: 0.6,
      overrides: { 'model.multiScale': false },
      complexity: { params: 88e6, gmacs: 15.4 },
    },
    { name: 'tiny', noise: 0.5, complexity: { params: 28e6, gmacs: 4.5 }, status: { 2: 'failed' } },
    { name: 'lr-1e-7', noise: 0.8, overrides: { 'optim.lr': 1e-7 } },
    { name: 'lr-1e-6', noise: 0.32, overrides: { 'optim.lr': 1e-6 } },
    { name: 'lr-1e-5', noise: 0.5, overrides: { 'optim.lr': 1e-5 }, status: { 1: 'running' } },
    { name: 'never-ran', noise: 0.3, status: { 0: 'missing', 1: 'missing', 2: 'queued' } },
  ],
  chain: ['single', 'concat', 'base'],
  sweeps: [
    {
      field: 'optim.lr',
      variants: [
        { name: 'lr-1e-7', value: 1e-7 },
        { name: 'lr-1e-6', value: 1e-6 },
        { name: 'lr-1e-5', value: 1e-5 },
      ],
    },
  ],
});

/** The median over its finished runs of a variant's SRCC on koniq-test, straight from the predictions. */
function medianSrcc(variant: string): number {
  const values = input.runs
    .filter((r) => r.variant === variant && r.status === 'done')
    .map((r) => {
      const p = r.result?.datasets[0].predictions;
      if (!p) throw new Error('no predictions');
      return srcc(p.score, p.mos);
    });
  return median(values);
}

const read = (dir: string, rel: string) => readFileSync(join(dir, rel), 'utf8');

describe('writeStudyReport', () => {
  const dir = tempDir('iqa-study-report-');
  let aggregate: StudyAggregate;
  let files: string[];

  beforeAll(async () => {
    ({ aggregate, files } = await writeStudyReport(input, dir, { resamples: 120, seed: 4 }));
  }, 120_000);

  it('writes HTML, Markdown, LaTeX, JSON and every figure as SVG and PNG', () => {
    expect(files).toEqual([
      'figures/bars-0-koniq-test.svg',
      'figures/bars-0-koniq-test.png',
      'figures/bars-1-live.svg',
      'figures/bars-1-live.png',
      'figures/sweep-0-optim-lr.svg',
      'figures/sweep-0-optim-lr.png',
      'figures/accuracy-vs-params.svg',
      'figures/accuracy-vs-params.png',
      'figures/accuracy-vs-gmacs.svg',
      'figures/accuracy-vs-gmacs.png',
      'figures/curves-val-srcc.svg',
      'figures/curves-val-srcc.png',
      'figures/curves-train-loss.svg',
      'figures/curves-train-loss.png',
      'report.md',
      'report.tex',
      'report.html',
      'study-report.json',
    ]);
    expect(readdirSync(dir).sort()).toEqual([
      'figures',
      'report.html',
      'report.md',
      'report.tex',
      'study-report.json',
    ]);
    expect(JSON.parse(read(dir, 'study-report.json'))).toEqual(aggregate);
  });

  it('shows each variant’s median SRCC as computed from its runs’ predictions', () => {
    const md = read(dir, 'report.md');
    const html = read(dir, 'report.html');
    for (const v of ['base', 'concat', 'single', 'tiny', 'lr-1e-6']) {
      const m = medianSrcc(v).toFixed(4);
      const label = v === 'base' ? 'base (baseline)' : v;
      const row = md
        .split('\n')
        .find((l) => l.startsWith(`| ${label} | `) && /^\d+\/\d+$/.test(l.split(' | ')[1]));
      // runs done / planned, as the aggregate counts them
      const counts = aggregate.variants.find((x) => x.name === v)?.runs;
      expect(row?.split(' | ')[1], v).toBe(`${counts?.done}/${counts?.planned}`);
      // runs done, then "SRCC median (IQR)"
      expect(row?.split(' | ')[2].startsWith(m), `${v}: ${row}`).toBe(true);
      expect(html).toContain(`<span class="nw">${m}</span>`);
    }
    expect(md).toContain('| tiny | 2/3 | ');
  });

  it('tabulates Δ vs baseline with interval, p, Holm p and verdict, and the forward ablation with shares', () => {
    const md = read(dir, 'report.md');
    const c = aggregate.comparisons.find(
      (x) =>
        x.kind === 'baseline' && x.variant === 'single' && x.dataset === 'koniq-test' && x.metric === 'srcc',
    );
    expect(c?.verdict).toBe('worse');
    const sign = (v: number) => (v >= 0 ? `+${v.toFixed(4)}` : v.toFixed(4));
    const row = md.split('\n').find((l) => l.startsWith('| single | SRCC ↑ |'));
    expect(row).toContain(
      `| ${sign(c?.delta as number)} | [${sign(c?.lower as number)}, ${sign(c?.upper as number)}] |`,
    );
    expect(row).toMatch(/\| worse( \(not significant after Holm\))? \| 0, 1, 2 \|$/);
    expect(md).toContain('## Forward ablation');
    expect(md).toContain('Chain: single → concat → base.');
    const t = aggregate.ablation[0];
    const step = t.steps[2];
    expect(md).toContain(
      `| 2 | base | ${(step.value as number).toFixed(4)} | ${sign(step.delta as number)} |`,
    );
    expect(md).toContain(`| ${(100 * (step.share as number)).toFixed(1)} % |`);
    expect(md).toContain(`|  | total |  | ${sign(t.total.delta as number)} |`);
  });

  it('shows failed, running and never-started runs, and states the evaluation settings', () => {
    const html = read(dir, 'report.html');
    expect(html).toContain('<td>NO FINISHED RUN (1 queued, 2 missing)</td>');
    expect(html).toMatch(
      /<tr><td>tiny<\/td><td class="r">2<\/td><td>tiny-s2<\/td><td>FAILED<\/td><td>loss became NaN at epoch 2<\/td><\/tr>/,
    );
    expect(html).toContain('<td>lr-1e-5</td><td class="r">1</td><td>lr-1e-5-s1</td><td>RUNNING</td>');
    expect(html).toContain('<td>never-ran</td><td class="r">2</td><td>never-ran-s2</td><td>QUEUED</td>');
    expect(html).toContain('never-ran: no finished run (1 queued, 2 missing)');
    // the bars figure marks the variant instead of dropping it
    expect(read(dir, 'figures/bars-0-koniq-test.svg')).toContain('>no finished run</text>');
    for (const s of [
      '<td>patches</td><td>25</td>',
      '<td>crop</td><td>center</td>',
      '<td>preprocess</td><td>resize 512</td>',
      '<td>split</td><td>sha256:ab12</td>',
      '<td>seeds</td><td>0, 1, 2</td>',
    ])
      expect(html).toContain(s);
    expect(html).toContain(
      'Evaluation: patches 25 · crop center · preprocess resize 512 · seeds 0, 1, 2 · split sha256:ab12',
    );
    expect(html).toContain('two-level paired bootstrap');
  });

  it('draws the learning-rate sweep on a log axis and the size variants against parameters', () => {
    const sweep = read(dir, 'figures/sweep-0-optim-lr.svg');
    for (const label of ['>1e-7<', '>1e-6<', '>1e-5<']) expect(sweep).toContain(label);
    expect(sweep).toContain('baseline SRCC');
    const md = read(dir, 'report.md');
    expect(md).toContain('| 1e-6 | lr-1e-6 | 3/3 | ');
    expect(md).toContain('| lr-1e-5 | optim.lr: 1e-5 | 3 | 2 | 0 | 1 | 0 | 0 | partial (1 running) |');
    const size = read(dir, 'figures/accuracy-vs-params.svg');
    expect(size).toContain('>tiny</text>');
    expect(size).toContain('>base</text>');
    expect(size).not.toContain('>concat</text>'); // same size as the baseline: not a size variant
    expect(logTicks(1e-7, 1e-5).ticks).toEqual([-7, -6, -5]);
    expect(logTicks(1e-6, 5e-6).ticks.map(logTickLabel)).toEqual(['1e-6', '2e-6', '5e-6']);
  });

  it('writes SVGs that rasterise and PNGs that decode', async () => {
    for (const f of files.filter((x) => x.endsWith('.svg'))) {
      const svg = read(dir, f);
      expect(svg).toMatch(
        /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="(\d+(\.\d+)?)" height="(\d+(\.\d+)?)"/,
      );
      const width = Number(/width="([\d.]+)"/.exec(svg)?.[1]);
      const png = readFileSync(join(dir, f.replace(/\.svg$/, '.png')));
      const meta = await sharp(png).metadata();
      expect(meta.format, f).toBe('png');
      expect(meta.width, f).toBe(Math.round(width * 2));
      const { data } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      // not a blank page: some pixels are far from white
      let dark = 0;
      for (let i = 0; i < data.length; i += meta.channels ?? 4) if (data[i] < 128) dark++;
      expect(dark, f).toBeGreaterThan(100);
    }
  });

  it('writes LaTeX with balanced environments, braces and columns, and ASCII only', () => {
    const tex = read(dir, 'report.tex');
    const count = (re: RegExp) => (tex.match(re) ?? []).length;
    expect(count(/\\begin\{tabular\}/g)).toBeGreaterThanOrEqual(6);
    expect(count(/\\begin\{tabular\}/g)).toBe(count(/\\end\{tabular\}/g));
    expect(count(/\\begin\{table\}/g)).toBe(count(/\\end\{table\}/g));
    let depth = 0;
    for (const ch of tex.replace(/\\[{}]/g, '')) {
      if (ch === '{') depth++;
      if (ch === '}') depth--;
      expect(depth).toBeGreaterThanOrEqual(0);
    }
    expect(depth).toBe(0);
    expect([...tex].every((ch) => ch.charCodeAt(0) < 128)).toBe(true);
    for (const block of tex.split('\\begin{tabular}{').slice(1)) {
      const spec = block.slice(0, block.indexOf('}'));
      const body = block.slice(block.indexOf('\\toprule'), block.indexOf('\\bottomrule'));
      const rows = body.split('\n').filter((l) => l.endsWith('\\\\'));
      expect(rows.length).toBeGreaterThan(1);
      for (const r of rows) expect(r.replace(/\\&/g, '').split('&').length, r).toBe(spec.length);
    }
    expect(tex).toContain('$\\Delta$ vs baseline');
  });

  it('gives the same bytes for the same input and seed, from the input or from its aggregate', async () => {
    const again = tempDir('iqa-study-report-');
    const other = tempDir('iqa-study-report-');
    await writeStudyReport(structuredClone(input), again, { resamples: 120, seed: 4, png: false });
    await writeStudyReport(aggregate, other, { png: false });
    for (const f of [
      'report.html',
      'report.md',
      'report.tex',
      'study-report.json',
      'figures/bars-0-koniq-test.svg',
    ]) {
      expect(read(again, f), f).toBe(read(dir, f));
      expect(read(other, f), f).toBe(read(dir, f));
    }
    expect(readdirSync(join(again, 'figures')).some((f) => f.endsWith('.png'))).toBe(false);
  }, 120_000);
});
