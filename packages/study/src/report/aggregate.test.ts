import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticStudy } from '../../../../tools/testing/study-input.js';
import { aggregateStudy, StudyReportError } from './aggregate.js';
import type { StudyReportInput } from './input.js';
import { STUDY_REPORT_SCHEMA, type Spread, type StudyMetric } from './types.js';

/** Written by tools/golden/study/make_golden.py: a synthetic study and what numpy/scipy/statsmodels make of it. */
interface Golden {
  input: StudyReportInput;
  options: { seed: number; resamples: number; level: number; metrics: StudyMetric[] };
  expected: {
    variants: Record<string, { dataset: string; values: Record<StudyMetric, Spread> }[]>;
    comparisons: {
      kind: string;
      variant: string;
      dataset: string;
      metric: StudyMetric;
      seeds: number[];
      delta: number | null;
      lower: number | null;
      upper: number | null;
      pValue: number | null;
      pHolm: number | null;
    }[];
    ablation: {
      dataset: string;
      metric: StudyMetric;
      seeds: number[];
      total: { delta: number; lower: number; upper: number };
      steps: {
        variant: string;
        delta: number;
        lower: number;
        upper: number;
        share: number;
        shareLower: number;
        shareUpper: number;
      }[];
    }[];
    family: number;
  };
}

const golden = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'report-golden.json'), 'utf8'),
) as Golden;

function close(actual: number | null, expected: number | null, what: string): void {
  if (expected === null) {
    expect(actual, what).toBeNull();
    return;
  }
  expect(actual, what).not.toBeNull();
  expect(Math.abs((actual as number) - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
    1e-12 * Math.max(1, Math.abs(expected)),
  );
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('aggregateStudy against the numpy/scipy/statsmodels reference', () => {
  const agg = aggregateStudy(golden.input, golden.options);

  it('reports the median, quartiles and range over seeds of every metric, per variant and dataset', () => {
    expect(agg.schema).toBe(STUDY_REPORT_SCHEMA);
    expect(agg.variants.map((v) => v.name)).toEqual(Object.keys(golden.expected.variants));
    for (const v of agg.variants) {
      v.metrics.forEach((d, i) => {
        const e = golden.expected.variants[v.name][i];
        expect(d.dataset).toBe(e.dataset);
        for (const m of ['srcc', 'plcc', 'krcc', 'rmse'] as const) {
          const what = `${v.name} ${d.dataset} ${m}`;
          expect(d.values[m].n, what).toBe(e.values[m].n);
          for (const k of ['median', 'q1', 'q3', 'min', 'max'] as const)
            close(d.values[m][k], e.values[m][k], `${what} ${k}`);
        }
      });
    }
  });

  it('gives every comparison the reference Δ, interval, p-value and Holm-adjusted p-value', () => {
    expect(agg.comparisons).toHaveLength(golden.expected.comparisons.length);
    expect(agg.statistics.family).toBe(golden.expected.family);
    agg.comparisons.forEach((c, k) => {
      const e = golden.expected.comparisons[k];
      const what = `${c.kind} ${c.variant} ${c.dataset} ${c.metric}`;
      expect([c.kind, c.variant, c.dataset, c.metric], what).toEqual([
        e.kind,
        e.variant,
        e.dataset,
        e.metric,
      ]);
      expect(c.seeds, what).toEqual(e.seeds);
      close(c.delta, e.delta, `${what} delta`);
      close(c.lower, e.lower, `${what} lower`);
      close(c.upper, e.upper, `${what} upper`);
      close(c.pValue, e.pValue, `${what} p`);
      close(c.pHolm, e.pHolm, `${what} p Holm`);
    });
  });

  it('builds the forward-ablation table with each step’s share of the total and its interval', () => {
    expect(agg.ablation).toHaveLength(golden.expected.ablation.length);
    agg.ablation.forEach((t, k) => {
      const e = golden.expected.ablation[k];
      const what = `${t.dataset} ${t.metric}`;
      expect([t.dataset, t.metric, t.seeds]).toEqual([e.dataset, e.metric, e.seeds]);
      close(t.total.delta, e.total.delta, `${what} total`);
      close(t.total.lower, e.total.lower, `${what} total lower`);
      close(t.total.upper, e.total.upper, `${what} total upper`);
      expect(t.steps[0]).toMatchObject({ variant: 'A2-single', previous: null, delta: null });
      e.steps.forEach((s, i) => {
        const got = t.steps[i + 1];
        expect(got.variant).toBe(s.variant);
        for (const key of ['delta', 'lower', 'upper', 'share', 'shareLower', 'shareUpper'] as const)
          close(got[key], s[key], `${what} ${s.variant} ${key}`);
      });
      // the shares of a chain add up to the whole improvement
      const sum = t.steps.reduce((acc, s) => acc + (s.share ?? 0), 0);
      expect(sum).toBeCloseTo(1, 12);
    });
  });

  it('gives verdicts from the interval and flags significance from the Holm-adjusted p-value', () => {
    for (const c of agg.comparisons) {
      if (c.lower === null || c.upper === null) {
        expect(c.verdict).toBe('not compared');
        continue;
      }
      const zeroInside = c.lower <= 0 && c.upper >= 0;
      expect(c.verdict).toBe(zeroInside ? 'within noise' : (c.delta as number) > 0 ? 'better' : 'worse');
      expect(c.significant).toBe((c.pHolm as number) <= 0.05);
    }
    const e2 = agg.comparisons.find(
      (c) => c.variant === 'E2-lr-1e-06' && c.dataset === 'live' && c.metric === 'srcc',
    );
    expect(e2?.verdict).toBe('within noise');
    const e1 = agg.comparisons.find(
      (c) => c.variant === 'E1-lr-1e-07' && c.dataset === 'koniq-test' && c.metric === 'srcc',
    );
    expect(e1?.verdict).toBe('worse');
    expect(e1?.significant).toBe(true);
  });

  it('lists failed, running and never-started runs instead of dropping them', () => {
    const c1 = agg.variants.find((v) => v.name === 'C1-alpha-0.3');
    expect(c1?.state).toBe('no finished run');
    expect(c1?.runs).toEqual({ planned: 3, done: 0, failed: 0, running: 0, queued: 0, missing: 3 });
    expect(c1?.metrics[0].values.srcc).toEqual({
      n: 0,
      median: null,
      q1: null,
      q3: null,
      min: null,
      max: null,
    });
    const e3 = agg.variants.find((v) => v.name === 'E3-lr-1e-05');
    expect(e3?.state).toBe('partial');
    expect(e3?.seedsDone).toEqual([0, 1]);
    expect(agg.runs).toHaveLength(golden.input.runs.length);
    const failed = agg.runs.find((r) => r.variant === 'E3-lr-1e-05' && r.seed === 2);
    expect(failed).toMatchObject({ status: 'failed', error: 'loss became NaN at epoch 3' });
    expect(failed?.metrics[0]).toEqual({
      dataset: 'koniq-test',
      srcc: null,
      plcc: null,
      krcc: null,
      rmse: null,
    });
    const notCompared = agg.comparisons.filter((c) => c.variant === 'C1-alpha-0.3');
    expect(notCompared).toHaveLength(4);
    for (const c of notCompared) {
      expect(c).toMatchObject({
        verdict: 'not compared',
        pHolm: null,
        reason: 'no finished run of C1-alpha-0.3',
      });
    }
    expect(agg.notes).toContain('C1-alpha-0.3: no finished run (3 missing)');
    expect(agg.notes).toContain('B1-tiny: 2 of 3 runs finished (2 done, 1 running)');
  });

  it('keeps the sweep on a log axis, the size variants with their complexity, the median curves and the settings', () => {
    expect(agg.sweeps).toHaveLength(1);
    expect(agg.sweeps[0].log).toBe(true);
    expect(agg.sweeps[0].points.map((p) => [p.variant, p.value])).toEqual([
      ['E1-lr-1e-07', 1e-7],
      ['E2-lr-1e-06', 1e-6],
      ['E3-lr-1e-05', 1e-5],
    ]);
    expect(agg.complexity.map((p) => [p.variant, p.params, p.gmacs])).toEqual([
      ['baseline', 88.1e6, 15.4],
      ['B1-tiny', 28.3e6, 4.5],
    ]);
    const base = agg.curves.find((c) => c.variant === 'baseline');
    expect(base?.runs).toBe(3);
    expect(base?.points[0]).toEqual({ epoch: 1, trainLoss: 0.8, valSrcc: 0.75, valPlcc: null });
    expect(agg.settings).toEqual(golden.input.settings);
    expect(agg.datasets).toEqual([
      { index: 0, name: 'koniq-test', role: 'in-domain', n: 80, direction: 'higher-better' },
      { index: 1, name: 'live', role: 'cross-dataset', n: 50, direction: 'lower-better' },
    ]);
  });

  it('is deterministic: same input and seed, same bytes; another seed moves the intervals', () => {
    const again = aggregateStudy(clone(golden.input), golden.options);
    expect(JSON.stringify(again)).toBe(JSON.stringify(agg));
    const other = aggregateStudy(golden.input, { ...golden.options, seed: 8 });
    expect(other.comparisons[0].delta).toBe(agg.comparisons[0].delta);
    expect(other.comparisons[0].lower).not.toBe(agg.comparisons[0].lower);
    // plain JSON: no NaN or undefined survives a round trip
    expect(JSON.parse(JSON.stringify(agg))).toEqual(agg);
  }, 60_000);
});

describe('aggregateStudy on a synthetic study generated here', () => {
  const input = syntheticStudy({
    variants: [
      { name: 'base', noise: 0.3 },
      { name: 'same', noise: 0.3 },
      { name: 'much-better', noise: 0.1 },
      { name: 'much-worse', noise: 0.9, status: { 1: 'failed' } },
    ],
    seeds: [0, 1, 2, 3],
    images: 120,
    chain: ['much-worse', 'base', 'much-better'],
  });
  const agg = aggregateStudy(input, { resamples: 300, seed: 3 });

  it('finds a clearly better and a clearly worse variant, and no difference where there is none', () => {
    const srcc = (v: string) =>
      agg.comparisons.find((c) => c.kind === 'baseline' && c.variant === v && c.dataset === 'koniq-test');
    expect(srcc('much-better')).toMatchObject({ verdict: 'better', significant: true });
    expect(srcc('much-worse')).toMatchObject({ verdict: 'worse', significant: true, seeds: [0, 2, 3] });
    expect(srcc('same')?.verdict).toBe('within noise');
    expect(srcc('same')?.significant).toBe(false);
    const rmse = aggregateStudy(input, { resamples: 100, metrics: ['rmse'] }).comparisons.find(
      (c) => c.variant === 'much-better' && c.dataset === 'koniq-test',
    );
    // a lower RMSE is better
    expect(rmse?.delta).toBeLessThan(0);
    expect(rmse?.verdict).toBe('better');
  });

  it('pairs the chain on the seeds every step finished', () => {
    expect(agg.ablation[0].seeds).toEqual([0, 2, 3]);
    expect(agg.ablation[0].steps.map((s) => s.previous)).toEqual([null, 'much-worse', 'base']);
  });
});

describe('aggregateStudy refuses runs that cannot be compared', () => {
  const base = () =>
    syntheticStudy({
      variants: [
        { name: 'base', noise: 0.3 },
        { name: 'other', noise: 0.4 },
      ],
      seeds: [0, 1],
      images: 20,
      crossImages: 10,
    });

  it('names the run and the image where the test images differ', () => {
    const input = base();
    const preds = input.runs[3].result?.datasets[0].predictions;
    if (preds) preds.image[7] = 'elsewhere.jpg';
    expect(() => aggregateStudy(input, { resamples: 10 })).toThrow(StudyReportError);
    expect(() => aggregateStudy(input, { resamples: 10 })).toThrow(
      'run other-s1 (variant other, seed 1): result.datasets[0].predictions.image[7] is "elsewhere.jpg" but run base-s0 (variant base, seed 0) has "img0007.jpg" there',
    );
  });

  it('names the run when it scored fewer images, another MOS or other datasets', () => {
    let input = base();
    const p = input.runs[1].result?.datasets[1].predictions;
    if (p) {
      p.image.pop();
      p.score.pop();
      p.mos.pop();
    }
    expect(() => aggregateStudy(input, { resamples: 10 })).toThrow(
      /run base-s1 \(variant base, seed 1\): result.datasets\[1\].predictions holds 9 images but run base-s0 \(variant base, seed 0\) holds 10 on "live"/,
    );
    input = base();
    const q = input.runs[2].result?.datasets[0].predictions;
    if (q) q.mos[3] += 1;
    expect(() => aggregateStudy(input, { resamples: 10 })).toThrow(
      /run other-s0 .*predictions.mos\[3\] \(image "img0003.jpg"\) is .* but run base-s0 .* has/,
    );
    input = base();
    input.runs[2].result?.datasets.pop();
    expect(() => aggregateStudy(input, { resamples: 10 })).toThrow(
      /run other-s0 .*: result.datasets has 1 entries but run base-s0 .* has 2/,
    );
    input = base();
    const d = input.runs[2].result?.datasets[1];
    if (d) d.name = 'kadid';
    expect(() => aggregateStudy(input, { resamples: 10 })).toThrow(
      /result.datasets\[1\].name is "kadid" but run base-s0 .* has "live" there/,
    );
  });

  it('names a baseline or chain step without planned runs, and bad options', () => {
    const input = base();
    expect(() => aggregateStudy({ ...input, baseline: 'nope' })).toThrow(
      'baseline "nope" has no planned runs; the variants are base, other',
    );
    expect(() => aggregateStudy({ ...input, chain: ['base', 'ghost'] })).toThrow(
      'chain[1] names "ghost", which has no planned runs',
    );
    expect(() => aggregateStudy(input, { resamples: 1 })).toThrow(/resamples must be an integer >= 2/);
    expect(() => aggregateStudy(input, { metrics: ['mae' as StudyMetric] })).toThrow(
      /metrics must name some of srcc, plcc, krcc, rmse/,
    );
  });

  it('still reports a study in which nothing finished', () => {
    const input = base();
    for (const r of input.runs) {
      r.status = 'queued';
      delete r.result;
    }
    const agg = aggregateStudy(input, { resamples: 10 });
    expect(agg.datasets).toEqual([]);
    expect(agg.variants.map((v) => v.state)).toEqual(['no finished run', 'no finished run']);
    expect(agg.runs.map((r) => r.status)).toEqual(['queued', 'queued', 'queued', 'queued']);
  });
});
