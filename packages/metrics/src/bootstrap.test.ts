import { describe, expect, it } from 'vitest';
import { bootstrapCI, comparePredictors, evaluate, plcc, srcc, williamsTest } from './index.js';
import { correlated, normals } from './__tests__/random.js';

describe('bootstrapCI', () => {
  const { x, y } = correlated(1, 300, 0.6);

  it('is reproducible from its seed and changes with it', () => {
    const a = bootstrapCI(x, y, { seed: 7, resamples: 200 });
    const b = bootstrapCI(x, y, { seed: 7, resamples: 200 });
    const c = bootstrapCI(x, y, { seed: 8, resamples: 200 });
    expect(a).toEqual(b);
    expect(a.srcc.lower).not.toBe(c.srcc.lower);
    expect(Object.keys(a).sort()).toEqual(['krcc', 'plcc', 'srcc']);
  });

  it('brackets the estimate, and a higher level gives a wider interval', () => {
    const ci95 = bootstrapCI(x, y, {
      seed: 3,
      resamples: 400,
      metrics: ['srcc', 'plcc', 'krcc', 'rmse', 'mae'],
    });
    const ci80 = bootstrapCI(x, y, { seed: 3, resamples: 400, level: 0.8, metrics: ['srcc', 'rmse'] });
    for (const ci of Object.values(ci95)) {
      expect(ci.lower).toBeLessThan(ci.estimate);
      expect(ci.upper).toBeGreaterThan(ci.estimate);
      expect(ci.standardError).toBeGreaterThan(0);
      expect(ci.resamples).toBe(400);
      expect(ci.undefinedResamples).toBe(0);
    }
    expect(ci95.srcc.estimate).toBe(srcc(x, y));
    expect(ci80.srcc.lower).toBeGreaterThan(ci95.srcc.lower);
    expect(ci80.srcc.upper).toBeLessThan(ci95.srcc.upper);
    // The same seed draws the same resamples whatever the metric list.
    expect(ci80.srcc.standardError).toBe(ci95.srcc.standardError);
  });

  it('covers the true correlation about as often as its level says (100 data sets, rho = 0.8)', () => {
    // y = x + e/2 has rho = 1/sqrt(1.25).
    const rho = 1 / Math.sqrt(1.25);
    let covered = 0;
    for (let s = 0; s < 100; s++) {
      const d = correlated(1000 + 2 * s, 150, 0.5);
      const ci = bootstrapCI(d.x, d.y, { seed: s, resamples: 300, metrics: ['plcc'] });
      if (ci.plcc.lower <= rho && rho <= ci.plcc.upper) covered++;
    }
    // Binomial(100, 0.95) lies in [88, 100] with probability > 0.999; the percentile bootstrap under-covers a little.
    expect(covered).toBeGreaterThanOrEqual(85);
  });

  it('counts resamples on which a correlation is undefined instead of inventing a value', () => {
    const ci = bootstrapCI([1, 2, 3], [1, 3, 2], { seed: 1, resamples: 500, metrics: ['srcc'] });
    // A resample draws 3 indices; all equal (constant) has probability 3/27 = 1/9.
    expect(ci.srcc.undefinedResamples).toBeGreaterThan(25);
    expect(ci.srcc.undefinedResamples).toBeLessThan(90);
    expect(Number.isFinite(ci.srcc.lower)).toBe(true);
  });

  it('applies lowerIsBetter to the correlations only', () => {
    const flipped = bootstrapCI(x, y, {
      seed: 5,
      resamples: 100,
      lowerIsBetter: true,
      metrics: ['plcc', 'rmse'],
    });
    const plain = bootstrapCI(x, y, { seed: 5, resamples: 100, metrics: ['plcc', 'rmse'] });
    expect(flipped.plcc.estimate).toBe(-plain.plcc.estimate);
    expect(flipped.plcc.lower).toBeCloseTo(-plain.plcc.upper, 14);
    expect(flipped.rmse).toEqual(plain.rmse);
  });

  it('rejects a missing seed and bad settings', () => {
    expect(() => bootstrapCI(x, y, {} as { seed: number })).toThrow(
      /seed must be an integer in \[0, 2\^32\), got undefined/,
    );
    expect(() => bootstrapCI(x, y, undefined as unknown as { seed: number })).toThrow(
      /options \{ seed \} is required/,
    );
    expect(() => bootstrapCI(x, y, { seed: 1, resamples: 1 })).toThrow(/resamples must be an integer >= 2/);
    expect(() => bootstrapCI(x, y, { seed: 1, level: 1 })).toThrow(/level must be in \(0, 1\)/);
    expect(() => bootstrapCI(x, y, { seed: 1, metrics: ['auc' as 'srcc'] })).toThrow(/unknown metric auc/);
  });

  it('evaluate attaches the same intervals when asked', () => {
    const e = evaluate(x, y, { bootstrap: { seed: 9, resamples: 150 }, logistic: false });
    expect(e.intervals).toEqual(bootstrapCI(x, y, { seed: 9, resamples: 150 }));
  });
});

describe('comparePredictors', () => {
  const mos = normals(21, 400);
  const eA = normals(22, 400);
  const eB = normals(23, 400);
  const good = mos.map((m, i) => m + 0.3 * eA[i]);
  const worse = mos.map((m, i) => m + 0.9 * eB[i]);

  it('finds a clearly better predictor better, with the sign of A − B', () => {
    const c = comparePredictors(good, worse, mos, { seed: 1, resamples: 300 });
    expect(c.n).toBe(400);
    expect(c.seed).toBe(1);
    const d = c.differences.plcc;
    expect(d.a).toBe(plcc(good, mos));
    expect(d.b).toBe(plcc(worse, mos));
    expect(d.difference).toBe(d.a - d.b);
    expect(d.lower).toBeGreaterThan(0);
    expect(d.pValue).toBeLessThan(0.01);
    expect(c.williams.plcc.t).toBeGreaterThan(3);
    expect(c.williams.plcc.pValue).toBeLessThan(0.01);
    const swapped = comparePredictors(worse, good, mos, { seed: 1, resamples: 300 });
    expect(swapped.differences.srcc.difference).toBe(-c.differences.srcc.difference);
    expect(swapped.differences.srcc.upper).toBeCloseTo(-c.differences.srcc.lower, 14);
    expect(swapped.williams.plcc.t).toBeCloseTo(-c.williams.plcc.t, 12);
    expect(swapped.differences.srcc.pValue).toBe(c.differences.srcc.pValue);
  });

  it('finds no difference between a predictor and itself', () => {
    const c = comparePredictors(good, good, mos, { seed: 2, resamples: 100, metrics: ['srcc'] });
    expect(c.differences.srcc).toMatchObject({ difference: 0, lower: 0, upper: 0, pValue: 1 });
    expect(c.williams.plcc.t).toBe(0);
    expect(c.williams.plcc.pValue).toBe(1);
  });

  it('does not call two near-equal predictors different (the 0.9378 vs 0.9353 question)', () => {
    const other = mos.map((m, i) => m + 0.31 * eB[i]);
    const c = comparePredictors(good, other, mos, { seed: 3, resamples: 300 });
    expect(Math.abs(c.differences.srcc.difference)).toBeLessThan(0.02);
    expect(c.differences.srcc.lower).toBeLessThan(0);
    expect(c.differences.srcc.upper).toBeGreaterThan(0);
    expect(c.differences.srcc.pValue).toBeGreaterThan(0.05);
  });

  it('checks its three inputs as aligned columns', () => {
    expect(() => comparePredictors([1, 2, 3], [1, 2], [1, 2, 3], { seed: 1 })).toThrow(
      /predA has 3 values but predB has 2/,
    );
    const c = comparePredictors([1, 2, Number.NaN, 4, 5], [2, 1, 3, 5, 4], [1, 2, 3, 4, 5], {
      seed: 1,
      resamples: 10,
      nonFinite: 'drop',
    });
    expect(c.dropped).toBe(1);
    expect(c.n).toBe(4);
  });

  it("Williams' t needs n >= 4 and defined correlations", () => {
    expect(williamsTest(0.9, 0.8, 0.85, 3).t).toBeNaN();
    expect(williamsTest(Number.NaN, 0.8, 0.85, 100).pValue).toBeNaN();
    const w = williamsTest(0.9378, 0.9353, 0.95, 2010);
    expect(w.df).toBe(2007);
    expect(w.t).toBeGreaterThan(0);
  });
});
