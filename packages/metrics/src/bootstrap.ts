/**
 * Uncertainty of the coefficients: seeded percentile-bootstrap confidence intervals, and the paired
 * comparison of two predictors scored against the same MOS (paired bootstrap of the difference, plus
 * Williams' t test for dependent correlations).
 */
import { kendallF64, maeF64, pearsonF64, rmseF64, spearmanF64 } from './correlation.js';
import { readColumns, type NonFinitePolicy, type Vector } from './input.js';
import { checkSeed, createPrng } from './prng.js';
import { studentTSf } from './student-t.js';
import { quantileSorted } from './stats.js';

/** Metrics the bootstrap can resample. */
export type BootstrapMetric = 'srcc' | 'plcc' | 'krcc' | 'rmse' | 'mae';

const CORRELATIONS: ReadonlySet<BootstrapMetric> = new Set(['srcc', 'plcc', 'krcc']);

const METRIC_FUNCTIONS: Record<BootstrapMetric, (x: Float64Array, y: Float64Array) => number> = {
  srcc: spearmanF64,
  plcc: pearsonF64,
  krcc: kendallF64,
  rmse: rmseF64,
  mae: maeF64,
};

/** Default metrics of the bootstrap functions. */
export const DEFAULT_BOOTSTRAP_METRICS = ['srcc', 'plcc', 'krcc'] as const;

export interface BootstrapOptions<M extends BootstrapMetric = BootstrapMetric> {
  /** Seed of the resampling, an integer in [0, 2^32). Required: same seed, same interval. */
  seed: number;
  /** Number of bootstrap resamples (default 1000). */
  resamples?: number;
  /** Confidence level in (0, 1) (default 0.95). */
  level?: number;
  /** Metrics to resample (default srcc, plcc, krcc). */
  metrics?: readonly M[];
  /** Ground truth is lower-is-better (DMOS): correlations are computed against −mos. */
  lowerIsBetter?: boolean;
  /** NaN/±Infinity handling (default 'error'). */
  nonFinite?: NonFinitePolicy;
}

/** A percentile-bootstrap confidence interval. */
export interface ConfidenceInterval {
  /** The metric on the full data. */
  readonly estimate: number;
  readonly lower: number;
  readonly upper: number;
  readonly level: number;
  /** Standard deviation of the bootstrap replicates. */
  readonly standardError: number;
  readonly resamples: number;
  /** Resamples on which the metric was undefined (e.g. all drawn pairs tied); left out of the interval. */
  readonly undefinedResamples: number;
}

/** The difference metric(A) − metric(B) with its paired-bootstrap interval and p-value. */
export interface PairedDifference {
  readonly a: number;
  readonly b: number;
  /** a − b on the full data. */
  readonly difference: number;
  readonly lower: number;
  readonly upper: number;
  readonly level: number;
  /** Two-sided bootstrap p-value for "no difference": min(1, 2·(min(#{Δ* ≤ 0}, #{Δ* ≥ 0}) + 1) / (B + 1)). */
  readonly pValue: number;
  readonly resamples: number;
  readonly undefinedResamples: number;
}

/** Williams' t (Steiger 1980, eq. 7) for H0: corr(A, mos) = corr(B, mos), with df = n − 3. */
export interface WilliamsTest {
  readonly t: number;
  readonly df: number;
  /** Two-sided p-value from Student's t. */
  readonly pValue: number;
  /** corr(A, mos), corr(B, mos) and corr(A, B). */
  readonly rA: number;
  readonly rB: number;
  readonly rAB: number;
}

export interface PredictorComparison<M extends BootstrapMetric = BootstrapMetric> {
  /** Pairs used. */
  readonly n: number;
  /** Triples dropped for non-finite values (nonFinite: 'drop'). */
  readonly dropped: number;
  readonly seed: number;
  /** Paired bootstrap of metric(A) − metric(B) for each requested metric. */
  readonly differences: Record<M, PairedDifference>;
  /** Williams' test on the Pearson correlations (plcc) and on the rank correlations (srcc, an approximation). */
  readonly williams: { readonly plcc: WilliamsTest; readonly srcc: WilliamsTest };
}

interface Resolved<M extends BootstrapMetric> {
  seed: number;
  resamples: number;
  level: number;
  metrics: readonly M[];
  sign: number;
}

export function resolve<M extends BootstrapMetric>(fn: string, options: BootstrapOptions<M>): Resolved<M> {
  if (options === undefined || options === null) throw new TypeError(`${fn}: options { seed } is required`);
  const seed = checkSeed(fn, options.seed);
  const resamples = options.resamples ?? 1000;
  if (!Number.isInteger(resamples) || resamples < 2) {
    throw new RangeError(`${fn}: resamples must be an integer >= 2, got ${resamples}`);
  }
  const level = options.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new RangeError(`${fn}: level must be in (0, 1), got ${level}`);
  const metrics = options.metrics ?? (DEFAULT_BOOTSTRAP_METRICS as unknown as readonly M[]);
  if (metrics.length === 0) throw new RangeError(`${fn}: metrics must name at least one metric`);
  for (const m of metrics) {
    if (!(m in METRIC_FUNCTIONS)) {
      throw new RangeError(
        `${fn}: unknown metric ${String(m)}; expected one of ${Object.keys(METRIC_FUNCTIONS).join(', ')}`,
      );
    }
  }
  return { seed, resamples, level, metrics, sign: options.lowerIsBetter === true ? -1 : 1 };
}

/** metric(x, y), sign-corrected for lower-is-better ground truth on the correlations. */
export function metricValue(metric: BootstrapMetric, x: Float64Array, y: Float64Array, sign: number): number {
  const v = METRIC_FUNCTIONS[metric](x, y);
  return CORRELATIONS.has(metric) ? sign * v : v;
}

/** The finite replicates, sorted, and how many were NaN. */
function finiteSorted(replicates: Float64Array): { sorted: Float64Array; undefinedCount: number } {
  const finite = replicates.filter((v) => !Number.isNaN(v));
  finite.sort();
  return { sorted: finite, undefinedCount: replicates.length - finite.length };
}

function standardDeviation(v: Float64Array): number {
  if (v.length < 2) return Number.NaN;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  const m = s / v.length;
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += (v[i] - m) * (v[i] - m);
  return Math.sqrt(ss / (v.length - 1));
}

/**
 * Draws `resamples` bootstrap resamples of the row indices (n draws with replacement each) and calls
 * `visit` with the resampled columns. The same seed gives the same resamples.
 */
function forEachResample(
  columns: readonly Float64Array[],
  seed: number,
  resamples: number,
  visit: (b: number, resampled: Float64Array[]) => void,
): void {
  const n = columns[0].length;
  const rng = createPrng(seed);
  const out = columns.map(() => new Float64Array(n));
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) {
      const k = rng.nextBelow(n);
      for (let c = 0; c < columns.length; c++) out[c][i] = columns[c][k];
    }
    visit(b, out);
  }
}

/** Bootstrap on checked columns (used by evaluate). */
export function bootstrapF64<M extends BootstrapMetric>(
  fn: string,
  x: Float64Array,
  y: Float64Array,
  options: BootstrapOptions<M>,
): Record<M, ConfidenceInterval> {
  const { seed, resamples, level, metrics, sign } = resolve(fn, options);
  const replicates = metrics.map(() => new Float64Array(resamples));
  forEachResample([x, y], seed, resamples, (b, [xs, ys]) => {
    metrics.forEach((m, k) => {
      replicates[k][b] = metricValue(m, xs, ys, sign);
    });
  });
  const alpha = (1 - level) / 2;
  const result = {} as Record<M, ConfidenceInterval>;
  metrics.forEach((m, k) => {
    const { sorted, undefinedCount } = finiteSorted(replicates[k]);
    result[m] = {
      estimate: metricValue(m, x, y, sign),
      lower: quantileSorted(sorted, alpha),
      upper: quantileSorted(sorted, 1 - alpha),
      level,
      standardError: standardDeviation(sorted),
      resamples,
      undefinedResamples: undefinedCount,
    };
  });
  return result;
}

/**
 * Percentile-bootstrap confidence intervals of SRCC, PLCC, KRCC (and optionally RMSE, MAE): resample the
 * (pred, mos) pairs with replacement `resamples` times from an explicit seed and take the
 * (1 − level)/2 and (1 + level)/2 quantiles of the replicates.
 */
export function bootstrapCI<M extends BootstrapMetric = (typeof DEFAULT_BOOTSTRAP_METRICS)[number]>(
  pred: Vector,
  mos: Vector,
  options: BootstrapOptions<M>,
): Record<M, ConfidenceInterval> {
  const { columns } = readColumns(
    'bootstrapCI',
    [
      ['pred', pred],
      ['mos', mos],
    ],
    options?.nonFinite,
  );
  return bootstrapF64('bootstrapCI', columns[0], columns[1], options);
}

/**
 * The paired difference a − b with the percentile interval and the two-sided bootstrap p-value of its replicates
 * `deltas` (NaN replicates, where a metric was undefined, are counted and left out).
 */
export function summariseDifference(
  a: number,
  b: number,
  deltas: Float64Array,
  level: number,
): PairedDifference {
  const { sorted, undefinedCount } = finiteSorted(deltas);
  let atMost = 0;
  let atLeast = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i] <= 0) atMost++;
    if (sorted[i] >= 0) atLeast++;
  }
  const alpha = (1 - level) / 2;
  return {
    a,
    b,
    difference: a - b,
    lower: quantileSorted(sorted, alpha),
    upper: quantileSorted(sorted, 1 - alpha),
    level,
    pValue:
      sorted.length === 0
        ? Number.NaN
        : Math.min(1, (2 * (Math.min(atMost, atLeast) + 1)) / (sorted.length + 1)),
    resamples: deltas.length,
    undefinedResamples: undefinedCount,
  };
}

/** Williams' t for corr(A, mos) vs corr(B, mos) given corr(A, B); NaN when a correlation is undefined or n < 4. */
export function williamsTest(rA: number, rB: number, rAB: number, n: number): WilliamsTest {
  const df = n - 3;
  const det = 1 - rA * rA - rB * rB - rAB * rAB + 2 * rA * rB * rAB;
  const mean = (rA + rB) / 2;
  const t =
    df > 0
      ? (rA - rB) *
        Math.sqrt(((n - 1) * (1 + rAB)) / (((2 * (n - 1)) / (n - 3)) * det + mean * mean * (1 - rAB) ** 3))
      : Number.NaN;
  const pValue = Number.isNaN(t) ? Number.NaN : Math.min(1, 2 * studentTSf(Math.abs(t), df));
  return { t, df, pValue, rA, rB, rAB };
}

/**
 * Is predictor A better than predictor B on the same images? Paired bootstrap: each resample draws the
 * same images for both, so the correlation between A's and B's errors is kept; the interval and p-value
 * are for metric(A) − metric(B). Also Williams' t test, the classic parametric test for two dependent
 * correlations sharing a variable (exact for Pearson under normality; applied to ranks for SRCC).
 */
export function comparePredictors<M extends BootstrapMetric = (typeof DEFAULT_BOOTSTRAP_METRICS)[number]>(
  predA: Vector,
  predB: Vector,
  mos: Vector,
  options: BootstrapOptions<M>,
): PredictorComparison<M> {
  const fn = 'comparePredictors';
  const { columns, dropped } = readColumns(
    fn,
    [
      ['predA', predA],
      ['predB', predB],
      ['mos', mos],
    ],
    options?.nonFinite,
  );
  const [a, b, y] = columns;
  const { seed, resamples, level, metrics, sign } = resolve(fn, options);
  const deltas = metrics.map(() => new Float64Array(resamples));
  forEachResample(columns, seed, resamples, (r, [as, bs, ys]) => {
    metrics.forEach((m, k) => {
      deltas[k][r] = metricValue(m, as, ys, sign) - metricValue(m, bs, ys, sign);
    });
  });
  const differences = {} as Record<M, PairedDifference>;
  metrics.forEach((m, k) => {
    differences[m] = summariseDifference(
      metricValue(m, a, y, sign),
      metricValue(m, b, y, sign),
      deltas[k],
      level,
    );
  });
  const n = y.length;
  const williams = {
    plcc: williamsTest(sign * pearsonF64(a, y), sign * pearsonF64(b, y), pearsonF64(a, b), n),
    srcc: williamsTest(sign * spearmanF64(a, y), sign * spearmanF64(b, y), spearmanF64(a, b), n),
  };
  return { n, dropped, seed, differences, williams };
}
