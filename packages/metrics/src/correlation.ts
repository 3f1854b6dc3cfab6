/**
 * The correlation and error metrics, computed as scipy.stats computes them:
 * SRCC = spearmanr (average ranks), PLCC = pearsonr, KRCC = kendalltau (tau-b), plus RMSE and MAE.
 *
 * The `*F64` functions take already-checked Float64Array columns; the public wrappers check their input.
 */
import { isConstant, readColumns, type Vector } from './input.js';
import { averageRanks, denseRanks } from './rank.js';

/** Options of the coefficient functions. */
export interface CorrelationOptions {
  /**
   * The ground truth is lower-is-better (e.g. DMOS) while the predictions are higher-is-better:
   * the coefficient is computed against −mos, so agreement is positive. Default `false`.
   */
  lowerIsBetter?: boolean;
}

/** Scales by a power of two, which is exact, so that the largest |deviation| lies in [1, 2). */
function powerOfTwoScale(maxAbs: number): number {
  if (maxAbs === 0) return 1;
  const e = Math.max(-1000, Math.min(1000, Math.floor(Math.log2(maxAbs))));
  return 2 ** -e;
}

/** Mean by summation plus one correction pass (the corrected two-pass algorithm). */
export function meanF64(v: Float64Array): number {
  const n = v.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += v[i];
  const m = s / n;
  let c = 0;
  for (let i = 0; i < n; i++) c += v[i] - m;
  return m + c / n;
}

/**
 * Pearson's r, two-pass: the mean is removed first (with a correction pass), then the deviations,
 * scaled by an exact power of two against overflow, are multiplied. Offsets such as 1e6 ± 1 keep
 * their digits. NaN when either column is constant; exactly ±1 for n = 2 (as scipy).
 */
export function pearsonF64(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  if (isConstant(x) || isConstant(y)) return Number.NaN;
  const mx = meanF64(x);
  const my = meanF64(y);
  let ax = 0;
  let ay = 0;
  for (let i = 0; i < n; i++) {
    const dx = Math.abs(x[i] - mx);
    const dy = Math.abs(y[i] - my);
    if (dx > ax) ax = dx;
    if (dy > ay) ay = dy;
  }
  const sx = powerOfTwoScale(ax);
  const sy = powerOfTwoScale(ay);
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] - mx) * sx;
    const dy = (y[i] - my) * sy;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  let r = sxy / (Math.sqrt(sxx) * Math.sqrt(syy));
  if (r > 1) r = 1;
  else if (r < -1) r = -1;
  return n === 2 ? Math.round(r) : r;
}

/** Spearman's rho: Pearson's r of the average ranks. NaN when either column is constant. */
export function spearmanF64(x: Float64Array, y: Float64Array): number {
  if (isConstant(x) || isConstant(y)) return Number.NaN;
  return pearsonF64(averageRanks(x), averageRanks(y));
}

/** Sum over groups of c·(c−1)/2 for the group sizes in `counts`. */
function tiedPairs(counts: Uint32Array): number {
  let t = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    t += (c * (c - 1)) / 2;
  }
  return t;
}

/** Run length sorted by insertion before the merge passes start. */
const INSERTION_RUN = 32;

/**
 * Sorts `a` ascending in place and returns the number of strict inversions, i.e. pairs i < j with
 * a[i] > a[j] (equal values are not inversions): insertion sort on runs of 32 (each shift is one
 * inversion), then bottom-up merge passes (taking from the right half counts the left elements it passes).
 */
export function countInversions(a: Uint32Array): number {
  const n = a.length;
  let inversions = 0;
  for (let lo = 0; lo < n; lo += INSERTION_RUN) {
    const hi = Math.min(lo + INSERTION_RUN, n);
    for (let i = lo + 1; i < hi; i++) {
      const v = a[i];
      let j = i - 1;
      while (j >= lo && a[j] > v) {
        a[j + 1] = a[j];
        j--;
      }
      inversions += i - 1 - j;
      a[j + 1] = v;
    }
  }
  let src: Uint32Array = a;
  let dst: Uint32Array = new Uint32Array(n);
  for (let width = INSERTION_RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      // Already in order: copy the block.
      if (mid === hi || src[mid - 1] <= src[mid]) {
        dst.set(src.subarray(lo, hi), lo);
        continue;
      }
      while (i < mid && j < hi) {
        if (src[j] < src[i]) {
          inversions += mid - i;
          dst[k++] = src[j++];
        } else {
          dst[k++] = src[i++];
        }
      }
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    [src, dst] = [dst, src];
  }
  if (src !== a) a.set(src);
  return inversions;
}

/**
 * Kendall's tau-b in O(n log n) (Knight's algorithm): order the pairs by (x, y), count the
 * discordant pairs as the inversions of the y sequence (merge sort), and correct for ties:
 * tau-b = (n0 − n1 − n2 + n3 − 2·D) / √(n0 − n1) / √(n0 − n2) with n0 = n(n−1)/2, n1/n2 the pairs
 * tied in x/y and n3 the pairs tied in both. All counts are exact integers below 2^53.
 * NaN when either column is constant.
 */
export function kendallF64(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  const { ranks: rx, count: kx } = denseRanks(x);
  const { ranks: ry, count: ky } = denseRanks(y);
  const cx = new Uint32Array(kx);
  const cy = new Uint32Array(ky);
  for (let i = 0; i < n; i++) {
    cx[rx[i]]++;
    cy[ry[i]]++;
  }
  const total = (n * (n - 1)) / 2;
  const xTies = tiedPairs(cx);
  const yTies = tiedPairs(cy);
  if (xTies === total || yTies === total) return Number.NaN;

  // Counting sort by ry, then a stable counting sort by rx: the pairs in (x, y) order.
  const byY = new Uint32Array(n);
  const startY = new Uint32Array(ky);
  for (let r = 1; r < ky; r++) startY[r] = startY[r - 1] + cy[r - 1];
  for (let i = 0; i < n; i++) byY[startY[ry[i]]++] = i;
  const startX = new Uint32Array(kx);
  for (let r = 1; r < kx; r++) startX[r] = startX[r - 1] + cx[r - 1];
  const ySeq = new Uint32Array(n);
  const xSeq = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    const i = byY[k];
    const pos = startX[rx[i]]++;
    ySeq[pos] = ry[i];
    xSeq[pos] = rx[i];
  }
  // Pairs tied in both x and y sit next to each other in this order.
  let jointTies = 0;
  let run = 1;
  for (let k = 1; k <= n; k++) {
    if (k < n && xSeq[k] === xSeq[k - 1] && ySeq[k] === ySeq[k - 1]) {
      run++;
    } else {
      jointTies += (run * (run - 1)) / 2;
      run = 1;
    }
  }
  const discordant = countInversions(ySeq);
  const tau =
    (total - xTies - yTies + jointTies - 2 * discordant) /
    Math.sqrt(total - xTies) /
    Math.sqrt(total - yTies);
  return Math.min(1, Math.max(-1, tau));
}

/** Root mean squared error √(mean((pred − mos)²)) (no epsilon added). */
export function rmseF64(pred: Float64Array, mos: Float64Array): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) {
    const d = pred[i] - mos[i];
    s += d * d;
  }
  return Math.sqrt(s / pred.length);
}

/** Mean absolute error mean(|pred − mos|). */
export function maeF64(pred: Float64Array, mos: Float64Array): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += Math.abs(pred[i] - mos[i]);
  return s / pred.length;
}

function pairs(fn: string, pred: Vector, mos: Vector): [Float64Array, Float64Array] {
  const { columns } = readColumns(fn, [
    ['pred', pred],
    ['mos', mos],
  ]);
  return [columns[0], columns[1]];
}

function orient(r: number, options: CorrelationOptions | undefined): number {
  return options?.lowerIsBetter === true ? -r : r;
}

/**
 * Spearman rank-order correlation (SRCC) with average ranks for ties, as `scipy.stats.spearmanr`.
 * NaN when pred or mos is constant (`evaluate` reports the reason).
 */
export function srcc(pred: Vector, mos: Vector, options?: CorrelationOptions): number {
  return orient(spearmanF64(...pairs('srcc', pred, mos)), options);
}

/**
 * Pearson linear correlation (PLCC) on the raw values, as `scipy.stats.pearsonr`, computed two-pass.
 * NaN when pred or mos is constant. For the VQEG logistic-mapped PLCC use `evaluate`.
 */
export function plcc(pred: Vector, mos: Vector, options?: CorrelationOptions): number {
  return orient(pearsonF64(...pairs('plcc', pred, mos)), options);
}

/** Kendall rank correlation tau-b (KRCC), as `scipy.stats.kendalltau`, in O(n log n). NaN when pred or mos is constant. */
export function krcc(pred: Vector, mos: Vector, options?: CorrelationOptions): number {
  return orient(kendallF64(...pairs('krcc', pred, mos)), options);
}

/** Root mean squared error between pred and mos (same scale assumed; see `evaluate` for the mapped RMSE). */
export function rmse(pred: Vector, mos: Vector): number {
  return rmseF64(...pairs('rmse', pred, mos));
}

/** Mean absolute error between pred and mos. */
export function mae(pred: Vector, mos: Vector): number {
  return maeF64(...pairs('mae', pred, mos));
}
