/**
 * Quantiles as numpy computes them, shared by every table iqa-bench prints (bootstrap intervals, latency
 * percentiles, the median and IQR of training rounds), so that they all compute a quantile the same way.
 */

/**
 * Linear-interpolation quantile of ascending-sorted values (numpy's default `linear` method, Hyndman–Fan type 7):
 * the value at position (n - 1)·q. NaN for an empty sample.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  if (lo === h) return sorted[lo];
  return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

/** `quantileSorted` of unsorted values (sorted numerically first); throws on an empty sample. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile: no values');
  return quantileSorted(
    [...values].sort((a, b) => a - b),
    q,
  );
}

/** The median of unsorted values; throws on an empty sample. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}
