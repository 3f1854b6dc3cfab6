/**
 * Input checking shared by every public function: one place that turns the accepted vector
 * types into Float64Array columns and rejects (or, on request, drops) bad pairs.
 */

/** A vector of scores: a plain array or a float typed array. Float32 values are widened exactly to float64. */
export type Vector = readonly number[] | Float32Array | Float64Array;

/**
 * What to do with a pair in which any value is NaN or ±Infinity.
 * - `'error'` (default): throw a RangeError that names the vector and the index.
 * - `'drop'`: leave such pairs out and report how many were dropped.
 */
export type NonFinitePolicy = 'error' | 'drop';

/** Columns read by {@link readColumns}: aligned Float64Arrays and the number of pairs dropped. */
export interface Columns {
  readonly columns: Float64Array[];
  readonly dropped: number;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function checkVector(fn: string, name: string, v: unknown): asserts v is Vector {
  if (Array.isArray(v) || v instanceof Float64Array || v instanceof Float32Array) return;
  throw new TypeError(`${fn}: ${name} must be a number[], Float32Array or Float64Array, got ${describe(v)}`);
}

/**
 * Reads aligned columns (e.g. pred and mos) into Float64Arrays.
 * Throws on a type error, a length mismatch, fewer than `minPairs` pairs, or (policy `'error'`) a non-finite value.
 * A Float64Array column with nothing dropped is returned as is (never written to).
 */
export function readColumns(
  fn: string,
  named: ReadonlyArray<readonly [string, unknown]>,
  policy: NonFinitePolicy = 'error',
  minPairs = 2,
): Columns {
  if (policy !== 'error' && policy !== 'drop') {
    throw new RangeError(`${fn}: nonFinite must be 'error' or 'drop', got ${String(policy)}`);
  }
  for (const [name, v] of named) checkVector(fn, name, v);
  const vectors = named.map(([, v]) => v as Vector);
  const n = vectors[0].length;
  for (let c = 1; c < vectors.length; c++) {
    if (vectors[c].length !== n) {
      throw new RangeError(
        `${fn}: ${named[0][0]} has ${n} values but ${named[c][0]} has ${vectors[c].length}; they must be paired one to one`,
      );
    }
  }
  const keep = new Uint8Array(n).fill(1);
  let dropped = 0;
  for (let c = 0; c < vectors.length; c++) {
    const v = vectors[c];
    const plain = Array.isArray(v);
    for (let i = 0; i < n; i++) {
      const value: unknown = v[i];
      if (plain && typeof value !== 'number') {
        throw new TypeError(`${fn}: ${named[c][0]}[${i}] is ${describe(value)}, expected a number`);
      }
      if (!Number.isFinite(value)) {
        if (policy === 'error') {
          throw new RangeError(
            `${fn}: ${named[c][0]}[${i}] is ${String(value)}; every value must be finite ` +
              `(pass { nonFinite: 'drop' } to drop such pairs explicitly)`,
          );
        }
        if (keep[i] === 1) {
          keep[i] = 0;
          dropped++;
        }
      }
    }
  }
  const kept = n - dropped;
  if (kept < minPairs) {
    const after = dropped > 0 ? ` after dropping ${dropped} non-finite pair(s)` : '';
    throw new RangeError(`${fn}: needs at least ${minPairs} pairs, got ${kept}${after}`);
  }
  const columns = vectors.map((v) => {
    if (dropped === 0) return v instanceof Float64Array ? v : Float64Array.from(v);
    const out = new Float64Array(kept);
    let j = 0;
    for (let i = 0; i < n; i++) if (keep[i] === 1) out[j++] = v[i];
    return out;
  });
  return { columns, dropped };
}

/** The pairs of `pred` and `mos` in which both values are finite, and how many pairs were left out. */
export function dropNonFinite(
  pred: Vector,
  mos: Vector,
): { pred: Float64Array; mos: Float64Array; dropped: number } {
  const { columns, dropped } = readColumns(
    'dropNonFinite',
    [
      ['pred', pred],
      ['mos', mos],
    ],
    'drop',
    0,
  );
  const [p, m] = columns;
  // Never hand back the caller's own array: the result is the caller's to modify.
  return { pred: p === pred ? p.slice() : p, mos: m === mos ? m.slice() : m, dropped };
}

/** `true` when every value equals the first (scipy's test for a constant input). */
export function isConstant(v: Float64Array): boolean {
  const first = v[0];
  for (let i = 1; i < v.length; i++) if (v[i] !== first) return false;
  return true;
}

/** Why a correlation between these columns is undefined, or `undefined` when it is defined. */
export function constantReason(pred: Float64Array, mos: Float64Array): string | undefined {
  const which = [isConstant(pred) ? 'pred' : '', isConstant(mos) ? 'mos' : ''].filter(Boolean);
  if (which.length === 0) return undefined;
  const detail = which.map((w) => `${w} (all ${pred.length} values are ${(w === 'pred' ? pred : mos)[0]})`);
  return `${detail.join(' and ')} ${which.length > 1 ? 'are' : 'is'} constant: the correlation is undefined`;
}
