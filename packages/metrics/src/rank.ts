/**
 * Sorting and ranking of finite float64 values in O(n): a stable LSD radix argsort on the IEEE-754
 * bit pattern, and the average / dense ranks built on it.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;

/**
 * Digit plans for the radix passes over the 32-bit halves: three digits of 11, 11 and 10 bits for small
 * inputs (small histograms), two 16-bit digits for large ones (fewer passes over memory).
 */
interface DigitPlan {
  radix: number;
  shifts: readonly number[];
  masks: readonly number[];
}
const SMALL_PLAN: DigitPlan = { radix: 2048, shifts: [0, 11, 22], masks: [2047, 2047, 1023] };
const LARGE_PLAN: DigitPlan = { radix: 65536, shifts: [0, 16], masks: [0xffff, 0xffff] };
const LARGE_INPUT = 1 << 17;

/**
 * Writes order-preserving unsigned keys of `values`: unsigned lexicographic order of (hi, lo)
 * equals numeric order; -0 and +0 get the same key.
 */
function sortableKeys(values: Float64Array, lo: Uint32Array, hi: Uint32Array): void {
  const n = values.length;
  const copy = new Float64Array(n);
  for (let i = 0; i < n; i++) copy[i] = values[i] === 0 ? 0 : values[i];
  const bits = new Uint32Array(copy.buffer);
  for (let i = 0; i < n; i++) {
    const h = bits[2 * i + HI];
    const l = bits[2 * i + LO];
    if (h >>> 31 === 1) {
      // Negative: flipping every bit reverses their order and puts them below the positives.
      hi[i] = ~h >>> 0;
      lo[i] = ~l >>> 0;
    } else {
      hi[i] = (h | 0x80000000) >>> 0;
      lo[i] = l;
    }
  }
}

/**
 * Stable ascending argsort of finite values: `values[order[0]] <= values[order[1]] <= ...`,
 * equal values keep their input order.
 */
export function argsort(values: Float64Array): Uint32Array {
  const n = values.length;
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  sortableKeys(values, lo, hi);

  const { radix, shifts, masks } = n >= LARGE_INPUT ? LARGE_PLAN : SMALL_PLAN;
  const digits = shifts.length; // per 32-bit half
  const passes = 2 * digits;
  const hist = new Uint32Array(passes * radix);
  for (let d = 0; d < digits; d++) {
    const shift = shifts[d];
    const mask = masks[d];
    const low = hist.subarray(d * radix, (d + 1) * radix);
    const high = hist.subarray((digits + d) * radix, (digits + d + 1) * radix);
    for (let i = 0; i < n; i++) {
      low[(lo[i] >>> shift) & mask]++;
      high[(hi[i] >>> shift) & mask]++;
    }
  }

  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let order2 = new Uint32Array(n);
  let lo2 = new Uint32Array(n);
  let hi2 = new Uint32Array(n);
  const start = new Uint32Array(radix);

  for (let pass = 0; pass < passes; pass++) {
    const base = pass * radix;
    // A pass in which every key has the same digit changes nothing.
    let trivial = false;
    let sum = 0;
    for (let d = 0; d < radix; d++) {
      const c = hist[base + d];
      if (c === n) trivial = true;
      start[d] = sum;
      sum += c;
    }
    if (trivial) continue;
    const onLow = pass < digits;
    const key = onLow ? lo : hi;
    const shift = shifts[pass % digits];
    const mask = masks[pass % digits];
    // The low half is only read by the low passes, so it travels only through those.
    const carryLow = onLow && pass < digits - 1;
    for (let i = 0; i < n; i++) {
      const pos = start[(key[i] >>> shift) & mask]++;
      order2[pos] = order[i];
      hi2[pos] = hi[i];
      if (carryLow) lo2[pos] = lo[i];
    }
    [order, order2] = [order2, order];
    [hi, hi2] = [hi2, hi];
    if (carryLow) [lo, lo2] = [lo2, lo];
  }
  return order;
}

/**
 * Ranks 1..n with ties given the mean of the positions they span, as
 * `scipy.stats.rankdata(method='average')`.
 */
export function averageRanks(values: Float64Array): Float64Array {
  const n = values.length;
  const order = argsort(values);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    const v = values[order[i]];
    while (j < n && values[order[j]] === v) j++;
    // Positions i..j-1 (0-based) hold ranks i+1..j; their mean is (i + 1 + j) / 2.
    const r = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) ranks[order[k]] = r;
    i = j;
  }
  return ranks;
}

/** Dense ranks 0..count-1 (equal values share a rank, no gaps) and the number of distinct values. */
export function denseRanks(values: Float64Array): { ranks: Uint32Array; count: number } {
  const n = values.length;
  const order = argsort(values);
  const ranks = new Uint32Array(n);
  if (n === 0) return { ranks, count: 0 };
  let rank = 0;
  let previous = values[order[0]];
  for (let k = 1; k < n; k++) {
    const i = order[k];
    const v = values[i];
    if (v !== previous) {
      rank++;
      previous = v;
    }
    ranks[i] = rank;
  }
  return { ranks, count: rank + 1 };
}
