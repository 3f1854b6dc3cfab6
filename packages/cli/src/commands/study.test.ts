/**
 * `iqa-bench study plan | run | status | report` on a tiny synthetic study (two variants, one seed, one epoch of a
 * micro model), and its bad input: unknown fields, a queue that does not answer, a hand-edited run.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { generateSynthetic, writeSplitManifest } from '@iqa-bench/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../tools/testing/temp-dir.js';
import { runCliIn } from '../__tests__/run-cli.js';

function cli(cwd: string, ...argv: string[]) {
  return runCliIn(cwd, argv);
}

let dir = '';
const study = (variants: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    name: 'cli-tiny',
    base: {
      backend: 'wasm',
      dataset: { preprocess: 'none' },
      model: {
        preset: 'smart-iqa-micro',
        backbone: { windowSize: 2 },
        head: { targetInSize: 16, targetFc: [8, 8, 4, 4] },
      },
      patches: { train: 1, test: 1, size: 64 },
      memory: { microBatchSize: 4, evalBatchSize: 8 },
      training: { epochs: 1, batchSize: 4 },
    },
    dataset: { kind: 'kadid10k', root: 'data' },
    split: { manifest: 'split.json' },
    seeds: [1],
    variants,
    ...extra,
  });

beforeAll(async () => {
  dir = tempDir('cli-study-');
  const syn = await generateSynthetic({
    layout: 'kadid10k',
    out: join(dir, 'data'),
    seed: 5,
    refs: 3,
    width: 72,
    height: 72,
  });
  const ids = (ref: number) =>
    syn.images
      .filter((i) => i.ref === ref)
      .map((i) => i.id)
      .sort()
      .filter((_, k) => k % 5 === 0);
  await writeSplitManifest(join(dir, 'split.json'), {
    dataset: 'kadid10k',
    method: 'custom',
    seed: null,
    round: null,
    ratios: null,
    selection: 'validation',
    parts: { train: [...ids(1), ...ids(2)].sort(), val: ids(3).slice(0, 3), test: ids(3).slice(3) },
  });
  writeFileSync(join(dir, 'study.json'), study({ full: {}, concat: { 'model.fusion': 'concat' } }));
}, 60_000);

describe('iqa-bench study', () => {
  it('plans, runs, reuses, reports status and the report input; a hand-edited run is reported', async () => {
    const plan = await cli(dir, 'study', 'plan', 'study.json', '--out', 'out', '--json');
    expect(plan.code, plan.stderr).toBe(0);
    const planned = JSON.parse(plan.stdout) as { runs: { variant: string; state: string; runId: string }[] };
    expect(planned.runs.map((r) => `${r.variant}:${r.state}`)).toEqual(['full:missing', 'concat:missing']);

    const run = await cli(dir, 'study', 'run', 'study.json', '--out', 'out', '--parallel', '2');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^2 run\(s\) trained, 0 reused, 0 failed, in /);
    expect(run.stderr).toContain('2 runs: 0 done, 2 to run');
    expect(run.stderr).toMatch(/\[2\/2\] done (full|concat) seed 1 \(r-[0-9a-f]{20}\): trained in /);

    const again = await cli(dir, 'study', 'run', 'study.json', '--out', 'out', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      trained: [],
      reused: planned.runs.map((r) => r.runId),
      failed: [],
    });

    const status = await cli(dir, 'study', 'status', 'study.json', '--out', 'out', '--json');
    expect(JSON.parse(status.stdout)).toMatchObject({
      counts: { done: 2, running: 0, queued: 0, failed: 0, missing: 0 },
      etaSeconds: 0,
    });

    const report = await cli(dir, 'study', 'report', 'study.json', '--out', 'out', '--json');
    expect(report.code, report.stderr).toBe(0);
    const aggregate = JSON.parse(report.stdout) as {
      schema: string;
      baseline: string;
      runs: { status: string; metrics: { dataset: string; srcc: number | null }[] }[];
      complexity: { variant: string; params: number }[];
      comparisons: { variant: string; reference: string; metric: string; value: number | null }[];
    };
    expect(aggregate.schema).toBe('iqa-bench/study-report@1');
    expect(aggregate.baseline).toBe('full');
    expect(aggregate.runs.map((r) => r.status)).toEqual(['done', 'done']);
    expect(aggregate.runs[0].metrics[0].srcc).toEqual(expect.any(Number));
    const params = Object.fromEntries(aggregate.complexity.map((c) => [c.variant, c.params]));
    expect(params.full).toBeGreaterThan(params.concat);
    const delta = aggregate.comparisons.find((c) => c.variant === 'concat' && c.metric === 'srcc');
    expect(delta?.value).toBeCloseTo(
      (aggregate.runs[1].metrics[0].srcc as number) - (aggregate.runs[0].metrics[0].srcc as number),
      12,
    );

    // The rendered report, then the CI gate: against itself it passes; against a better baseline it fails (exit 1).
    const page = await cli(dir, 'study', 'report', 'study.json', '--out', 'out');
    expect(page.code, page.stderr).toBe(0);
    const html = readFileSync(join(dir, 'out', 'report', 'report.html'), 'utf8');
    expect(html).toContain('concat');
    expect(existsSync(join(dir, 'out', 'report', 'report.md'))).toBe(true);
    const saved = join(dir, 'out', 'report', 'study-report.json');
    expect(JSON.parse(readFileSync(saved, 'utf8'))).toEqual(aggregate);
    const pass = await cli(dir, 'study', 'report', 'study.json', '--out', 'out', '--json', '--check', saved);
    expect(pass.code, pass.stderr).toBe(0);
    expect(pass.stderr).toContain('PASS');
    const better = JSON.parse(readFileSync(saved, 'utf8')) as {
      variants: { metrics: { values: { srcc: { median: number | null } } }[] }[];
    };
    for (const v of better.variants)
      for (const m of v.metrics) if (m.values.srcc.median !== null) m.values.srcc.median += 0.5;
    writeFileSync(join(dir, 'better.json'), JSON.stringify(better));
    const fail = await cli(
      dir,
      'study',
      'report',
      'study.json',
      '--out',
      'out',
      '--json',
      '--check',
      'better.json',
    );
    expect(fail.code, fail.stderr).toBe(1);
    expect(fail.stderr).toContain('FAIL');

    // A result file edited by hand: plan and status name it, run refuses to train over it.
    const result = join(dir, 'out', 'runs', planned.runs[1].runId, 'result.json');
    writeFileSync(result, readFileSync(result, 'utf8').replace('"n": ', '"n":  '));
    const edited = await cli(dir, 'study', 'plan', 'study.json', '--out', 'out');
    expect(edited.stdout).toContain(
      'EDITED (files changed since it finished): changed since the run finished: result.json',
    );
    const rerun = await cli(dir, 'study', 'run', 'study.json', '--out', 'out');
    expect(rerun.code).toBe(2);
    expect(rerun.stdout).toMatch(/0 run\(s\) trained, 1 reused, 1 failed/);
    expect(rerun.stderr).toContain('1 of 2 runs failed');
  }, 240_000);

  it('--devices pins one device per run, never two runs on one device', async () => {
    const res = await cli(
      dir,
      'study',
      'run',
      'study.json',
      '--out',
      'devices-out',
      '--devices',
      '3,5',
      '--parallel',
      '2',
    );
    expect(res.code, res.stderr).toBe(0);
    const starts = [...res.stderr.matchAll(/^start (\S+) seed 1 \(r-[0-9a-f]+\) on device (\d)$/gm)].map(
      (m) => m[2],
    );
    expect(starts.sort()).toEqual(['3', '5']);
    const bad = await cli(dir, 'study', 'run', 'study.json', '--out', 'devices-out', '--devices', '0,x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected device indices separated by commas, e.g. 0,1');
  }, 120_000);

  it('names unknown fields and override paths with a suggestion (exit 2)', async () => {
    writeFileSync(join(dir, 'bad.json'), study({ full: {}, a: { 'model.fuson': 'concat' } }, { seed: [1] }));
    const bad = await cli(dir, 'study', 'plan', 'bad.json', '--out', 'out');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("bad.json: (root): unknown field(s) 'seed' (did you mean 'seeds'?)");
    writeFileSync(join(dir, 'bad2.json'), study({ full: {}, a: { 'model.fuson': 'concat' } }));
    const bad2 = await cli(dir, 'study', 'plan', 'bad2.json', '--out', 'out');
    expect(bad2.code).toBe(2);
    expect(bad2.stderr).toContain(
      "variants.a.model.fuson: the training config has no field 'model.fuson' (did you mean 'model.fusion'?)",
    );
  }, 60_000);

  it('a queue URL that does not answer: a clear error within seconds, exit 2', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      writeFileSync(join(dir, 'q.json'), study({ full: {}, single: { 'model.fusion': 'single' } }));
      const t0 = Date.now();
      const res = await cli(
        dir,
        'study',
        'run',
        'q.json',
        '--out',
        'q-out',
        '--queue',
        `redis://:secret@127.0.0.1:${port}`,
      );
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(
        /queue redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ does not answer \(waited at most 5(\.0)? s\)/,
      );
      expect(res.stderr).not.toContain('secret');
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      silent.close();
    }
  }, 30_000);
});
