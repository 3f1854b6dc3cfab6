import { describe, expect, it } from 'vitest';
import { evaluate, fitLogistic } from './index.js';
import { normals } from './__tests__/random.js';

const grid = Float64Array.from({ length: 60 }, (_, i) => i / 59);

function logistic4(b: number[], x: number): number {
  return (b[0] - b[1]) / (1 + Math.exp(-(x - b[2]) / Math.abs(b[3]))) + b[1];
}
function logistic5(b: number[], x: number): number {
  return b[0] * (0.5 - 1 / (1 + Math.exp(b[1] * (x - b[2])))) + b[3] * x + b[4];
}

describe('fitLogistic', () => {
  it('recovers the parameters of noise-free 4-parameter data', () => {
    const truth = [4.6, 1.2, 0.55, 0.09];
    const mos = grid.map((x) => logistic4(truth, x));
    const fit = fitLogistic(grid, mos, { params: 4, ftol: 1e-15, xtol: 1e-15 });
    expect(fit.converged).toBe(true);
    expect(fit.model).toBe(4);
    const got = [...fit.params];
    got[3] = Math.abs(got[3]);
    got.forEach((v, j) => expect(v).toBeCloseTo(truth[j], 8));
    expect(fit.cost).toBeLessThan(1e-20);
    expect(fit.iterations).toBeGreaterThan(0);
    expect(fit.evaluations).toBeGreaterThanOrEqual(fit.iterations);
    // The VQEG start: [max y, min y, mean x, std x / 4] (population std).
    const mean = 0.5;
    const std = Math.sqrt(grid.reduce((s, x) => s + (x - mean) ** 2, 0) / grid.length);
    expect(fit.initial[0]).toBe(Math.max(...mos));
    expect(fit.initial[1]).toBe(Math.min(...mos));
    expect(fit.initial[2]).toBeCloseTo(mean, 15);
    expect(fit.initial[3]).toBeCloseTo(std / 4, 15);
    expect(Array.from(fit.predict([0.55]))[0]).toBeCloseTo((4.6 + 1.2) / 2, 8);
  });

  it('recovers the parameters of noise-free 5-parameter data from [10, 0, mean y, 0.1, 0.1]', () => {
    // From this start curve_fit recovers these parameters (for [30, 0.12, 48, 0.25, 12] it stops at a
    // local optimum instead, and so does fitLogistic: see the golden case "noise-free, local optimum").
    const x = Float64Array.from({ length: 80 }, (_, i) => (i * 100) / 79);
    const truth = [15, 0.15, 45, 0.2, 5];
    const mos = x.map((v) => logistic5(truth, v));
    const fit = fitLogistic(x, mos, { params: 5, ftol: 1e-15, xtol: 1e-15 });
    expect(fit.converged).toBe(true);
    expect(fit.initial.slice(0, 2)).toEqual([10, 0]);
    expect(fit.initial[2]).toBeCloseTo(mos.reduce((s, v) => s + v, 0) / mos.length, 12);
    expect(fit.initial.slice(3)).toEqual([0.1, 0.1]);
    fit.params.forEach((v, j) => expect(v).toBeCloseTo(truth[j], 6));
  });

  it('gives the same fit when mos is scaled beyond the range where its sum of squares is a double', () => {
    const noise = normals(4, grid.length);
    const mos = grid.map((x, i) => logistic4([5, 1, 0.5, 0.1], x) + 0.2 * noise[i]);
    const scale = 2 ** 560; // exact; Σ mos² overflows to Infinity, so the norms take their rescaled path
    const huge = mos.map((v) => v * scale);
    expect(huge.reduce((s, v) => s + v * v, 0)).toBe(Infinity);
    const tight = { params: 4, ftol: 1e-15, xtol: 1e-15 } as const;
    const fit = fitLogistic(grid, mos, tight);
    const big = fitLogistic(grid, huge, tight);
    expect(fit.converged && big.converged).toBe(true);
    // The same mapping and parameters as far as a difference Jacobian fixes them (~1e-9 here).
    big.fitted.forEach((v, i) => expect(Math.abs(v / scale - fit.fitted[i])).toBeLessThanOrEqual(1e-8));
    const want = [fit.params[0] * scale, fit.params[1] * scale, fit.params[2], fit.params[3]];
    big.params.forEach((v, j) => expect(Math.abs(v - want[j])).toBeLessThanOrEqual(1e-7 * Math.abs(want[j])));
  });

  it('lowerIsBetter fits a decreasing mapping with the same optimum as fitting −mos', () => {
    const noise = normals(5, grid.length);
    const dmos = grid.map((x, i) => 90 - 80 / (1 + Math.exp(-(x - 0.4) / 0.1)) + 2 * noise[i]);
    const down = fitLogistic(grid, dmos, { params: 4, lowerIsBetter: true });
    const up = fitLogistic(
      grid,
      dmos.map((v) => -v),
      { params: 4 },
    );
    expect(down.converged && up.converged).toBe(true);
    expect(down.cost).toBeCloseTo(up.cost, 9);
    expect(down.params[0]).toBeCloseTo(-up.params[0], 9);
    expect(down.params[1]).toBeCloseTo(-up.params[1], 9);
    down.fitted.forEach((v, i) => expect(v).toBeCloseTo(-up.fitted[i], 9));
    expect(down.fitted[0]).toBeGreaterThan(down.fitted[down.fitted.length - 1]);
  });

  it('reports a fit that stops early as not converged, and evaluate turns it into NaN with the reason', () => {
    const noise = normals(8, grid.length);
    const mos = grid.map((x, i) => logistic4([5, 1, 0.5, 0.1], x) + 0.3 * noise[i]);
    const fit = fitLogistic(grid, mos, { params: 4, maxEvaluations: 2 });
    expect(fit.converged).toBe(false);
    expect(fit.status).toBe(5);
    expect(fit.message).toMatch(/maxEvaluations/);
    expect(fit.fitted.length).toBe(grid.length);
  });

  it('a constant pred cannot be mapped', () => {
    const fit = fitLogistic([1, 1, 1, 1, 1], [1, 2, 3, 4, 5], { params: 4 });
    expect(fit.converged).toBe(false);
    expect(fit.message).toMatch(/^pred is constant/);
  });

  it('rejects bad options and too few pairs', () => {
    expect(() => fitLogistic([1, 2, 3], [1, 2, 3], { params: 4 })).toThrow(
      new RangeError('fitLogistic: a 4-parameter logistic needs at least 4 pairs, got 3'),
    );
    expect(() => fitLogistic([1, 2, 3, 4], [1, 2, 3, 4], { params: 3 as 4 })).toThrow(
      /params must be 4 or 5, got 3/,
    );
    expect(() => fitLogistic([1, 2, 3, 4], [1, 2, 3, 4], { params: 4, initial: [1, 2] })).toThrow(
      /initial must be 4 finite numbers/,
    );
    expect(() => fitLogistic([1, 2, 3, 4], [1, 2, 3, 4], { params: 4, maxEvaluations: 0 })).toThrow(
      /maxEvaluations must be a positive integer/,
    );
    expect(() => fitLogistic([1, 2, 3, 4], [1, 2, 3, 4], undefined as unknown as { params: 4 })).toThrow(
      /options \{ params: 4 \| 5 \} is required/,
    );
    const e = evaluate([1, 2, 3], [2, 1, 3]);
    expect(e.mapped?.plcc).toBeNaN();
    expect(e.reasons.mapped).toBe('a 4-parameter logistic needs at least 4 pairs, got 3');
  });

  it('an explicit initial guess is used as given', () => {
    const noise = normals(3, grid.length);
    const mos = grid.map((x, i) => logistic4([5, 1, 0.5, 0.1], x) + 0.2 * noise[i]);
    const fit = fitLogistic(grid, mos, { params: 4, initial: [4, 2, 0.4, 0.2] });
    expect(fit.initial).toEqual([4, 2, 0.4, 0.2]);
    expect(fit.converged).toBe(true);
    const vqeg = fitLogistic(grid, mos, { params: 4 });
    expect(fit.cost).toBeCloseTo(vqeg.cost, 6);
  });
});

describe('evaluate', () => {
  it('reports raw and mapped PLCC/RMSE; the mapping never lowers PLCC on monotone-but-curved data', () => {
    const noise = normals(11, 400);
    const pred = Float64Array.from({ length: 400 }, (_, i) => i / 399);
    const mos = pred.map((x, i) => logistic4([80, 10, 0.6, 0.08], x) + 3 * noise[i]);
    const e = evaluate(pred, mos);
    expect(e.n).toBe(400);
    expect(e.mapped).not.toBeNull();
    const mapped = e.mapped as NonNullable<typeof e.mapped>;
    expect(mapped.fit?.converged).toBe(true);
    expect(mapped.plcc).toBeGreaterThan(e.plcc);
    // RMSE of the mapped values is in MOS units and close to the noise level (3).
    expect(mapped.rmse).toBeGreaterThan(2.5);
    expect(mapped.rmse).toBeLessThan(3.5);
    expect(e.rmse).toBeGreaterThan(30); // raw pred is on [0, 1], mos on [10, 80]
    expect(e.intervals).toBeNull();
    expect(evaluate(pred, mos, { logistic: false }).mapped).toBeNull();
    expect(evaluate(pred, mos, { logistic: 5 }).mapped?.fit?.model).toBe(5);
    expect(() => evaluate(pred, mos, { logistic: 3 as 4 })).toThrow(/logistic must be 4, 5 or false/);
  });
});
