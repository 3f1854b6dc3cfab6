/**
 * Comparing training configurations rather than single predictors: each configuration was trained with the same seeds
 * and every run scored the same images. "Configuration A beats B" then carries two kinds of noise, the choice of test
 * images and the seed-to-seed spread of training; the two-level paired bootstrap here resamples both, and Holm's
 * step-down procedure adjusts the p-values of a family of such comparisons.
 */
import {
  metricValue,
  resolve,
  summariseDifference,
  type BootstrapMetric,
  type BootstrapOptions,
  type DEFAULT_BOOTSTRAP_METRICS,
  type PairedDifference,
} from './bootstrap.js';
import { readColumns, type Vector } from './input.js';
import { normalSf } from './normal.js';
import { createPrng } from './prng.js';

export interface SeededBootstrap<M extends BootstrapMetric = BootstrapMetric> {
  /** Images (rows) used. */
  readonly n: number;
  /** Rows dropped for a non-finite value in any run or in mos (nonFinite: 'drop'). */
  readonly dropped: number;
  /** Seeds per group (the paired runs). */
  readonly seeds: number;
  readonly groups: number;
  readonly seed: number;
  readonly resamples: number;
  readonly level: number;
  /** estimates[metric][g]: the mean over seeds of metric(run of group g with that seed) on all images. */
  readonly estimates: Record<M, number[]>;
  /** replicates[metric][g][b]: the same mean in resample b (NaN where a run's metric was undefined). */
  readonly replicates: Record<M, Float64Array[]>;
}

/**
 * Two-level paired bootstrap of groups of seeded runs scored on the same images. `runs[g][s]` are the predictions of
 * group g's run with seed s (seed s the same training seed in every group, so the runs are paired by seed), `mos` the
 * shared ground truth.
 *
 * Each resample draws, from one xoshiro128** stream: first `seeds` seed indices with replacement, then `n` image
 * indices with replacement; the same draws serve every group (paired over seeds and images). A group's replicate is
 * the mean over the drawn seeds of its run's metric on the drawn images; its estimate the mean over all seeds on all
 * images. Differences between groups, resample by resample, give paired intervals (see `seededDifference`).
 */
export function seededBootstrap<M extends BootstrapMetric = (typeof DEFAULT_BOOTSTRAP_METRICS)[number]>(
  runs: readonly (readonly Vector[])[],
  mos: Vector,
  options: BootstrapOptions<M>,
): SeededBootstrap<M> {
  const fn = 'seededBootstrap';
  if (!Array.isArray(runs) || runs.length === 0)
    throw new RangeError(`${fn}: runs must hold at least one group`);
  const seeds = runs[0].length;
  if (seeds === 0) throw new RangeError(`${fn}: runs[0] must hold at least one seed's predictions`);
  runs.forEach((g, i) => {
    if (!Array.isArray(g) || g.length !== seeds) {
      throw new RangeError(
        `${fn}: runs[${i}] has ${Array.isArray(g) ? g.length : 'no'} seeds but runs[0] has ${seeds}; groups are paired by seed`,
      );
    }
  });
  const named: [string, unknown][] = [];
  runs.forEach((g, i) => g.forEach((v: Vector, s: number) => named.push([`runs[${i}][${s}]`, v])));
  named.push(['mos', mos]);
  const { columns, dropped } = readColumns(fn, named, options?.nonFinite);
  const { seed, resamples, level, metrics, sign } = resolve(fn, options);
  const y = columns[columns.length - 1];
  const col = (g: number, s: number) => columns[g * seeds + s];
  const n = y.length;
  const G = runs.length;

  const estimates = {} as Record<M, number[]>;
  const replicates = {} as Record<M, Float64Array[]>;
  for (const m of metrics) {
    estimates[m] = Array.from({ length: G }, (_, g) => {
      let sum = 0;
      for (let s = 0; s < seeds; s++) sum += metricValue(m, col(g, s), y, sign);
      return sum / seeds;
    });
    replicates[m] = Array.from({ length: G }, () => new Float64Array(resamples));
  }

  const rng = createPrng(seed);
  const drawnSeeds = new Int32Array(seeds);
  const rows = new Int32Array(n);
  const ys = new Float64Array(n);
  const xs = new Float64Array(n);
  // metric value of (group, seed) in this resample, computed once per distinct drawn seed
  const cache = new Float64Array(G * seeds * metrics.length);
  const cached = new Uint8Array(G * seeds);
  for (let b = 0; b < resamples; b++) {
    for (let j = 0; j < seeds; j++) drawnSeeds[j] = rng.nextBelow(seeds);
    for (let i = 0; i < n; i++) rows[i] = rng.nextBelow(n);
    for (let i = 0; i < n; i++) ys[i] = y[rows[i]];
    cached.fill(0);
    for (let g = 0; g < G; g++) {
      for (let j = 0; j < seeds; j++) {
        const s = drawnSeeds[j];
        if (cached[g * seeds + s] === 1) continue;
        const x = col(g, s);
        for (let i = 0; i < n; i++) xs[i] = x[rows[i]];
        metrics.forEach((m, k) => {
          cache[(g * seeds + s) * metrics.length + k] = metricValue(m, xs, ys, sign);
        });
        cached[g * seeds + s] = 1;
      }
      metrics.forEach((m, k) => {
        let sum = 0;
        for (let j = 0; j < seeds; j++) sum += cache[(g * seeds + drawnSeeds[j]) * metrics.length + k];
        replicates[m][g][b] = sum / seeds;
      });
    }
  }
  return { n, dropped, seeds, groups: G, seed, resamples, level, estimates, replicates };
}

/** A paired difference of a seeded bootstrap, with its bootstrap standard error and normal-approximation p-value. */
export interface SeededDifference extends PairedDifference {
  /** Standard deviation of the finite replicates of Δ. */
  readonly standardError: number;
  /**
   * Two-sided p-value of the bootstrap z test, 2·P(Z > |Δ| / standardError). Unlike the percentile p-value (`pValue`,
   * at least 2/(B + 1)) it does not bottom out at the resample count, so it survives a multiple-testing correction
   * over many comparisons; NaN when Δ and its standard error are both 0.
   */
  readonly zPValue: number;
}

/**
 * metric(group a) − metric(group b) of a seeded bootstrap: the estimate, the percentile interval at the bootstrap's
 * level, the two-sided bootstrap p-value min(1, 2·(min(#Δ* ≤ 0, #Δ* ≥ 0) + 1)/(B + 1)) as `comparePredictors` reports
 * it, and the bootstrap z test.
 */
export function seededDifference<M extends BootstrapMetric>(
  boot: SeededBootstrap<M>,
  metric: M,
  a: number,
  b: number,
): SeededDifference {
  const reps = boot.replicates[metric];
  if (reps === undefined) throw new RangeError(`seededDifference: the bootstrap did not resample ${metric}`);
  for (const g of [a, b]) {
    if (!Number.isInteger(g) || g < 0 || g >= boot.groups) {
      throw new RangeError(`seededDifference: group ${g} is not in [0, ${boot.groups})`);
    }
  }
  const deltas = new Float64Array(boot.resamples);
  for (let r = 0; r < deltas.length; r++) deltas[r] = reps[a][r] - reps[b][r];
  const d = summariseDifference(boot.estimates[metric][a], boot.estimates[metric][b], deltas, boot.level);
  let count = 0;
  let sum = 0;
  for (const v of deltas) {
    if (Number.isNaN(v)) continue;
    count++;
    sum += v;
  }
  const mean = sum / count;
  let ss = 0;
  for (const v of deltas) if (!Number.isNaN(v)) ss += (v - mean) * (v - mean);
  const standardError = count >= 2 ? Math.sqrt(ss / (count - 1)) : Number.NaN;
  const zPValue = Math.min(1, 2 * normalSf(Math.abs(d.difference) / standardError));
  return { ...d, standardError, zPValue };
}

/**
 * Holm's step-down adjustment of a family of p-values (Holm 1979): sorted ascending, the i-th smallest (1-based) is
 * multiplied by (m − i + 1), running maxima keep the order, and values are capped at 1. Rejecting where the adjusted
 * p-value is ≤ α controls the family-wise error rate at α. NaN entries (tests that could not be run) stay NaN and do
 * not count in m. Returns the adjusted values in the input's order.
 */
export function holm(pValues: readonly number[]): number[] {
  const out = pValues.map(() => Number.NaN);
  const order: number[] = [];
  pValues.forEach((p, i) => {
    if (typeof p !== 'number') throw new TypeError(`holm: pValues[${i}] is not a number`);
    if (Number.isNaN(p)) return;
    if (!(p >= 0 && p <= 1))
      throw new RangeError(`holm: pValues[${i}] is ${p}, expected a p-value in [0, 1]`);
    order.push(i);
  });
  order.sort((i, j) => pValues[i] - pValues[j] || i - j);
  const m = order.length;
  let running = 0;
  order.forEach((idx, k) => {
    running = Math.max(running, Math.min(1, (m - k) * pValues[idx]));
    out[idx] = running;
  });
  return out;
}
