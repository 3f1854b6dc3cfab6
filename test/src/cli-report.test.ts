import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtures, iqa } from './cli-run.js';

const work = mkdtempSync(join(tmpdir(), 'iqa-cli-report-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A result file with per-image predictions (a smooth monotone relation plus a deterministic wiggle). */
function resultWithPredictions(): string {
  const n = 50;
  const image: string[] = [];
  const score: number[] = [];
  const mos: number[] = [];
  for (let i = 0; i < n; i++) {
    const q = i / (n - 1);
    image.push(`img${i}.png`);
    score.push(Number((q + 0.05 * Math.sin(i * 7.3)).toFixed(4)));
    mos.push(Number((1 + 4 / (1 + Math.exp(-(q - 0.5) * 8)) + 0.2 * Math.cos(i * 3.1)).toFixed(4)));
  }
  const file = join(work, 'cross.json');
  writeFileSync(
    file,
    JSON.stringify({
      schema: 'iqa-bench/result@1',
      kind: 'cross-dataset',
      datasets: [
        { name: 'synth-kadid', n, metrics: { srcc: 0.95, plcc: 0.93 }, predictions: { image, score, mos } },
        { name: 'synth-koniq', n: 30, metrics: { srcc: 0.88, plcc: 0.9 } },
      ],
      mean: { srcc: 0.915, plcc: 0.915 },
    }),
  );
  return file;
}

describe('iqa-bench report', () => {
  it('writes a self-contained HTML report, Markdown tables and SVG + PNG figures, byte-identical on a rerun', async () => {
    const result = resultWithPredictions();
    const runs = [join(work, 'a'), join(work, 'b')];
    for (const out of runs) {
      const r = await iqa(['report', '--result', 'cross.json', '--out', out], { cwd: work });
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n')).toContain(`${out}/report.html`);
    }
    expect(readdirSync(join(runs[0], 'figures')).sort()).toEqual([
      'heatmap.png',
      'heatmap.svg',
      'scatter-synth-kadid.png',
      'scatter-synth-kadid.svg',
    ]);
    for (const f of ['report.html', 'report.md', 'figures/heatmap.svg', 'figures/scatter-synth-kadid.svg']) {
      expect(readFileSync(join(runs[1], f), 'utf8')).toBe(readFileSync(join(runs[0], f), 'utf8'));
    }
    const html = readFileSync(join(runs[0], 'report.html'), 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).not.toMatch(/<script|<link|src=|href=/);
    expect(html).toContain('<td>synth-kadid</td><td class="r">50</td><td class="r">0.9500</td>');
    const md = readFileSync(join(runs[0], 'report.md'), 'utf8');
    expect(md).toContain(
      '| dataset | n | SRCC | PLCC |\n|---|---:|---:|---:|\n| synth-kadid | 50 | 0.9500 | 0.9300 |',
    );
    expect(readFileSync(join(runs[0], 'figures/scatter-synth-kadid.png')).subarray(1, 4).toString()).toBe(
      'PNG',
    );
    expect(
      readFileSync(join(runs[0], 'figures/scatter-synth-kadid.svg'), 'utf8').match(/<circle /g),
    ).toHaveLength(50);
    expect(result).toContain('cross.json');
  });

  it('--no-png writes SVG only; --json lists the files', async () => {
    resultWithPredictions();
    const out = join(work, 'svg-only');
    const r = await iqa(['report', '--result', 'cross.json', '--out', out, '--no-png', '--json'], {
      cwd: work,
    });
    expect(r.code).toBe(0);
    const listed = JSON.parse(r.stdout) as { files: string[] };
    expect(listed.files).toEqual([
      'figures/heatmap.svg',
      'figures/scatter-synth-kadid.svg',
      'report.md',
      'report.tex',
      'report.html',
    ]);
  });

  it('--run draws the training curves from metrics.jsonl and the results from summary.json', async () => {
    const out = join(work, 'run-report');
    const r = await iqa(['report', '--run', join(fixtures, 'run'), '--out', out, '--no-png', '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { files: string[] }).files).toEqual([
      'figures/heatmap.svg',
      'figures/training-loss-run.svg',
      'figures/training-correlation-run.svg',
      'report.md',
      'report.tex',
      'report.html',
    ]);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| kadid10k | 60 | 0.8412 | 0.8603 | 0.6511 | 0.1510 |');
    expect(md).toContain('| 4 | 0.2050 | 0.8100 | 0.8600 | 0.8800 | 0.6800 | * |');
    const curves = readFileSync(join(out, 'figures/training-correlation-run.svg'), 'utf8');
    expect(curves.match(/<polyline /g)).toHaveLength(3); // train SRCC, val SRCC, val PLCC
  });

  it('a killed run (partial last line) is reported; a corrupt line is an error naming file and line', async () => {
    const run = join(work, 'killed');
    mkdirSync(run);
    const lines = readFileSync(join(fixtures, 'run', 'metrics.jsonl'), 'utf8')
      .split('\n')
      .slice(0, 3);
    writeFileSync(join(run, 'metrics.jsonl'), `${lines.join('\n')}\n{"kind":"epoch","rou`);
    const r = await iqa(['report', '--run', run, '--out', join(work, 'killed-report'), '--no-png']);
    expect(r.code).toBe(0);
    expect(readFileSync(join(work, 'killed-report', 'report.md'), 'utf8')).toContain(
      'ends in a partial line',
    );
    writeFileSync(join(run, 'metrics.jsonl'), `${lines[0]}\nnot json\n`);
    const bad = await iqa(['report', '--run', run, '--out', join(work, 'bad-report')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      `iqa-bench: error: ${run}/metrics.jsonl: line 2: not valid JSON (Unexpected token 'o', "not json" is not valid JSON)\n`,
    );
  });

  it('labels results (<label>=<file>, else the checkpoint short name), keeps same-named files apart, states settings', async () => {
    const result = (checkpoint: string, srcc: [number, number]) =>
      JSON.stringify({
        schema: 'iqa-bench/result@1',
        kind: 'cross-dataset',
        producer: '@iqa-bench/cli 0.1.0',
        checkpoint,
        settings: {
          patches: 25,
          crop: 'random',
          preprocess: { kadid: 'seed', live: 'none' },
          seed: 1,
          backend: 'wasm',
        },
        datasets: [
          { name: 'kadid', n: 40, metrics: { srcc: srcc[0], plccLogistic: 0.9 } },
          {
            name: 'live',
            n: 30,
            metrics: { srcc: srcc[1], plccLogistic: null },
            reasons: { plccLogistic: 'the 4-parameter logistic fit did not converge: x' },
          },
        ],
        mean: { srcc: (srcc[0] + srcc[1]) / 2, plccLogistic: 0.9 },
      });
    for (const d of ['a', 'b']) mkdirSync(join(work, 'same', d), { recursive: true });
    writeFileSync(
      join(work, 'same', 'a', 'cross.json'),
      result('runs/koniq/round-0/best.safetensors', [0.9, 0.8]),
    );
    writeFileSync(
      join(work, 'same', 'b', 'cross.json'),
      result('runs/spaq/round-0/best.safetensors', [0.85, -0.42]),
    );
    writeFileSync(join(work, 'same', 'c.json'), result('/ckpt/smart-tiny.pkl', [0.7, 0.6]));
    const out = join(work, 'labelled');
    const r = await iqa(
      [
        'report',
        '--result',
        'same/a/cross.json',
        '--result',
        'same/b/cross.json',
        '--result',
        'tiny=same/c.json',
        '--out',
        out,
        '--no-png',
        '--json',
      ],
      { cwd: work },
    );
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { files: string[] }).files).toEqual([
      'figures/heatmap.svg',
      'report.md',
      'report.tex',
      'report.html',
    ]);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    // Checkpoints by their short name; each table with its settings and the reason for every –.
    for (const label of ['**koniq/round-0/best**', '**spaq/round-0/best**', '**tiny**'])
      expect(md).toContain(label);
    expect(md).toContain(
      '- Settings: patches 25, crop random, preprocessing seed (kadid), none (live), seed 1, backend wasm; @iqa-bench/cli 0.1.0',
    );
    expect(md).toContain('- live: PLCC (logistic) –: the 4-parameter logistic fit did not converge: x');
    expect(md).toContain('| mean of 2 |  | 0.6500 | 0.9000 (1/2) |');
    expect(md).toContain('- mean PLCC (logistic): over 1 of 2 datasets (without live)');
    const tex = readFileSync(join(out, 'report.tex'), 'utf8');
    expect(tex).toContain('\\caption{koniq/round-0/best}');
    expect(tex).toContain('kadid & 40 & 0.9000 & 0.9000 \\\\');
    // The heatmap's scale reaches −1 for the negative SRCC, which gets a red cell.
    const heat = readFileSync(join(out, 'figures', 'heatmap.svg'), 'utf8');
    expect(heat).toContain('>-1.00</text>');
    expect(heat).toMatch(/fill="#[89a-f][0-9a-f]{5}"[^>]*\/><text[^>]*>-0\.420</);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).not.toContain('ops.hypernet');
    expect(html.match(/<div class="table-wrap">/g)).toHaveLength(3);
    // Two default labels alike: the path tells them apart.
    const twin = join(work, 'twin');
    writeFileSync(
      join(work, 'same', 'b', 'cross.json'),
      result('runs/koniq/round-0/best.safetensors', [0.85, 0.4]),
    );
    const t = await iqa(
      ['report', '--result', 'same/a/cross.json', '--result', 'same/b/cross.json', '--out', twin, '--no-png'],
      { cwd: work },
    );
    expect(t.code).toBe(0);
    const twinMd = readFileSync(join(twin, 'report.md'), 'utf8');
    expect(twinMd).toContain('**koniq/round-0/best (a/cross)**');
    expect(twinMd).toContain('**koniq/round-0/best (b/cross)**');
  });

  it('a report with nothing to report is an error', async () => {
    const r = await iqa(['report', '--out', join(work, 'nothing')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'iqa-bench: error: nothing to report: give at least one --result, --run, --complexity or --predictions\n',
    );
  });

  it('exit 2 without --out or with a malformed result', async () => {
    const noOut = await iqa(['report', '--result', join(fixtures, 'check', 'baseline.json')]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr.startsWith("iqa-bench: error: required option '--out <dir>' not specified")).toBe(
      true,
    );
    const bad = await iqa([
      'report',
      '--result',
      join(fixtures, 'check', 'truncated.json'),
      '--out',
      join(work, 'x'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^iqa-bench: error: .*truncated\.json: not valid JSON/);
  });
});
