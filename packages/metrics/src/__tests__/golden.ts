/**
 * Test support (not built): loads fixtures/golden.json (written by tools/golden/metrics/make_golden.py)
 * and rebuilds the recipe-generated data sets exactly as the generator does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Recipe {
  kind: 'ties' | 'offset' | 'negative';
  seed: number;
  n: number;
  offset?: number;
}

export interface CorrelationCase {
  name: string;
  n: number;
  pred?: number[];
  mos?: number[];
  recipe?: Recipe;
  float32?: boolean;
  srcc: number | null;
  plcc: number | null;
  krcc: number | null;
  rmse: number | null;
  mae: number | null;
}

export interface LogisticCase {
  name: string;
  params: 4 | 5;
  lowerIsBetter: boolean;
  pred: number[];
  mos: number[];
  start: number[];
  /** curve_fit's parameters with its default tolerances (b4 of the 4-parameter logistic as |b4|). */
  popt: number[];
  /** The same fit with ftol = xtol = 1e-15. */
  poptTight: number[];
  ier: number;
  nfev: number;
  cost: number;
  mappedPlcc: number;
  mappedRmse: number;
  scipySpread: ScipySpread;
}

/**
 * How far curve_fit's own answer moves (relative, the largest over parameters) when exp() changes by an
 * ulp: the C library's exp instead of numpy's, or one value one ulp larger.
 */
export interface ScipySpread {
  mappedPlcc: number;
  mappedRmse: number;
  cost: number;
  popt: number;
  poptTight: number;
  /** Whether every variant took exactly `nfev` evaluations. */
  sameNfev: boolean;
}

export interface WilliamsReference {
  t: number;
  pValue: number;
  rA: number;
  rB: number;
  rAB: number;
}

export interface WilliamsCase {
  n: number;
  predA: number[];
  predB: number[];
  mos: number[];
  plcc: WilliamsReference;
  srcc: WilliamsReference;
}

export interface Golden {
  scipy: string;
  correlation: CorrelationCase[];
  logistic: LogisticCase[];
  williams: WilliamsCase[];
  studentT: Array<{ t: number; df: number; sf: number }>;
}

export const golden = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'golden.json'), 'utf8'),
) as Golden;

/** The generator's 32-bit LCG: state = 1664525·state + 1013904223 mod 2^32; each draw is the top 16 bits. */
export function lcgDraws(seed: number, count: number): Uint32Array {
  let state = seed >>> 0;
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 16;
  }
  return out;
}

/** The data of a recipe, bit-identical to recipe_data() in make_golden.py. */
export function recipeData(recipe: Recipe): { pred: Float64Array; mos: Float64Array } {
  const { kind, seed, n } = recipe;
  const offset = recipe.offset ?? 0;
  const draws = lcgDraws(seed, 2 * n);
  const pred = new Float64Array(n);
  const mos = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = draws[2 * i];
    const b = draws[2 * i + 1];
    if (kind === 'ties') {
      pred[i] = Math.floor(a / 4) / 16384;
      mos[i] = Math.floor((4 * a + b) / 2048) / 8;
    } else if (kind === 'offset') {
      pred[i] = offset + a / 65536;
      mos[i] = offset + (4 * a + b) / 262144;
    } else {
      pred[i] = a / 65536;
      mos[i] = -(a + b) / 131072;
    }
  }
  return { pred, mos };
}

/** The (pred, mos) of a correlation case, typed as the case asks (Float32Array for float32 cases). */
export function caseData(c: CorrelationCase): {
  pred: number[] | Float32Array | Float64Array;
  mos: number[] | Float64Array;
} {
  if (c.recipe !== undefined) return recipeData(c.recipe);
  if (c.pred === undefined || c.mos === undefined) throw new Error(`golden case ${c.name} has no data`);
  return { pred: c.float32 === true ? Float32Array.from(c.pred) : c.pred, mos: c.mos };
}

/** |a − b| ≤ tol, with null standing for NaN. */
export function closeOrBothNaN(actual: number, expected: number | null, tol: number): boolean {
  if (expected === null) return Number.isNaN(actual);
  return Math.abs(actual - expected) <= tol;
}
