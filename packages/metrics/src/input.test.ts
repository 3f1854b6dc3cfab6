import { describe, expect, it } from 'vitest';
import { dropNonFinite, evaluate, krcc, mae, plcc, rmse, srcc } from './index.js';

const fns = { srcc, plcc, krcc, rmse, mae };

describe('bad input gets a clear error', () => {
  for (const [name, fn] of Object.entries(fns)) {
    it(`${name}: length mismatch, too few pairs, NaN, Infinity, wrong types`, () => {
      expect(() => fn([1, 2, 3], [1, 2])).toThrow(
        new RangeError(`${name}: pred has 3 values but mos has 2; they must be paired one to one`),
      );
      expect(() => fn([1], [2])).toThrow(new RangeError(`${name}: needs at least 2 pairs, got 1`));
      expect(() => fn([], [])).toThrow(/needs at least 2 pairs, got 0/);
      expect(() => fn([1, Number.NaN, 3], [1, 2, 3])).toThrow(/pred\[1\] is NaN; every value must be finite/);
      expect(() => fn([1, 2, 3], Float64Array.from([1, 2, -Infinity]))).toThrow(/mos\[2\] is -Infinity/);
      expect(() => fn(['1', 2] as unknown as number[], [1, 2])).toThrow(
        new TypeError(`${name}: pred[0] is a string, expected a number`),
      );
      expect(() => fn(new Int32Array([1, 2]) as unknown as number[], [1, 2])).toThrow(
        /pred must be a number\[\], Float32Array or Float64Array, got a object/,
      );
      expect(() => fn([1, 2], null as unknown as number[])).toThrow(/mos must be .* got null/);
    });
  }

  it("evaluate: nonFinite: 'drop' leaves the bad pairs out and reports how many", () => {
    const pred = [1, 2, Number.NaN, 4, 5, Infinity];
    const mos = [1, 3, 2, Number.NaN, 4, 6];
    expect(() => evaluate(pred, mos)).toThrow(/pred\[2\] is NaN/);
    const e = evaluate(pred, mos, { nonFinite: 'drop', logistic: false });
    expect(e.dropped).toBe(3);
    expect(e.n).toBe(3);
    expect(e.srcc).toBe(srcc([1, 2, 5], [1, 3, 4]));
    expect(() => evaluate([Number.NaN, 1, 2], [1, Number.NaN, 2], { nonFinite: 'drop' })).toThrow(
      new RangeError('evaluate: needs at least 2 pairs, got 1 after dropping 2 non-finite pair(s)'),
    );
    expect(() => evaluate([1, 2], [1, 2], { nonFinite: 'skip' as 'drop' })).toThrow(
      /nonFinite must be 'error' or 'drop'/,
    );
  });

  it('dropNonFinite returns fresh arrays and the count', () => {
    const pred = Float64Array.from([1, 2, 3]);
    const out = dropNonFinite(pred, [4, 5, 6]);
    expect(out.dropped).toBe(0);
    expect(out.pred).not.toBe(pred);
    expect(Array.from(out.pred)).toEqual([1, 2, 3]);
    const bad = dropNonFinite([1, Number.NaN, 3, 4], [Infinity, 5, 6, 7]);
    expect(bad).toEqual({ pred: Float64Array.from([3, 4]), mos: Float64Array.from([6, 7]), dropped: 2 });
  });

  it('accepts number[], Float32Array and Float64Array with the same result', () => {
    const p = [0.5, 0.25, 0.75, 0.125, 1];
    const m = [3, 1, 4, 1.5, 5];
    const r = srcc(p, m);
    expect(srcc(Float32Array.from(p), m)).toBe(r);
    expect(srcc(Float64Array.from(p), Float32Array.from(m))).toBe(r);
    expect(plcc(Float32Array.from(p), m)).toBe(plcc(p, m));
  });
});

describe('undefined coefficients are NaN with the reason, never 0 or 1', () => {
  it('constant pred or mos', () => {
    for (const fn of [srcc, plcc, krcc]) {
      expect(fn([2, 2, 2], [1, 2, 3])).toBeNaN();
      expect(fn([1, 2, 3], [5, 5, 5])).toBeNaN();
    }
    const e = evaluate([2, 2, 2, 2, 2], [1, 2, 3, 4, 5]);
    expect(e.srcc).toBeNaN();
    expect(e.plcc).toBeNaN();
    expect(e.krcc).toBeNaN();
    expect(e.reasons.srcc).toBe('pred (all 5 values are 2) is constant: the correlation is undefined');
    expect(e.mapped?.plcc).toBeNaN();
    expect(e.reasons.mapped).toMatch(/pred is constant/);
    const both = evaluate([1, 1], [3, 3], { logistic: false });
    expect(both.reasons.plcc).toBe(
      'pred (all 2 values are 1) and mos (all 2 values are 3) are constant: the correlation is undefined',
    );
  });

  it('a defined evaluation has no reasons', () => {
    const e = evaluate([1, 2, 3, 4, 5, 6], [1.1, 2.3, 2.9, 4.2, 5.5, 5.6]);
    expect(e.reasons).toEqual({});
  });
});

describe('lower-is-better ground truth (DMOS) is explicit', () => {
  const quality = [0.9, 0.7, 0.8, 0.2, 0.4, 0.1, 0.55];
  const dmos = [10, 35, 20, 80, 60, 95, 40];

  it('coefficients are negated, not abs()-ed', () => {
    expect(srcc(quality, dmos)).toBeLessThan(0);
    expect(srcc(quality, dmos, { lowerIsBetter: true })).toBe(-srcc(quality, dmos));
    expect(plcc(quality, dmos, { lowerIsBetter: true })).toBe(-plcc(quality, dmos));
    expect(krcc(quality, dmos, { lowerIsBetter: true })).toBe(-krcc(quality, dmos));
    // A predictor that disagrees stays negative under the option.
    const wrong = dmos.map((d) => d / 100);
    expect(srcc(wrong, dmos, { lowerIsBetter: true })).toBeCloseTo(-1, 15);
  });

  it('evaluate applies it to every coefficient and fits a decreasing mapping', () => {
    // DMOS falling along a logistic in the predicted quality, with a little deterministic wobble.
    const q = Array.from({ length: 40 }, (_, i) => i / 39);
    const d = q.map((x, i) => 90 - 80 / (1 + Math.exp(-(x - 0.5) / 0.1)) + 3 * Math.sin(7 * i));
    const e = evaluate(q, d, { lowerIsBetter: true });
    expect(e.lowerIsBetter).toBe(true);
    expect(e.srcc).toBe(-srcc(q, d));
    expect(e.krcc).toBe(-krcc(q, d));
    expect(e.plcc).toBe(-plcc(q, d));
    expect(e.srcc).toBeGreaterThan(0.9);
    const fit = e.mapped?.fit;
    expect(fit?.converged).toBe(true);
    // Mapped values are in DMOS units, so PLCC(f(pred), dmos) is positive without any sign flip.
    expect(e.mapped?.plcc).toBeGreaterThan(0.95);
    const f = fit?.predict([0, 1]) ?? new Float64Array(2);
    expect(f[0]).toBeGreaterThan(80);
    expect(f[1]).toBeLessThan(20);
  });
});
