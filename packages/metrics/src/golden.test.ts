import { describe, expect, it } from 'vitest';
import { comparePredictors, evaluate, fitLogistic, krcc, mae, plcc, rmse, srcc } from './index.js';
import { studentTSf } from './student-t.js';
import { caseData, closeOrBothNaN, golden, type LogisticCase } from './__tests__/golden.js';

// References: scipy.stats spearmanr / pearsonr / kendalltau and scipy.optimize.curve_fit, see fixtures/golden.json.
describe(`correlations against scipy ${golden.scipy} (within 1e-9)`, () => {
  for (const c of golden.correlation) {
    it(`${c.name}`, () => {
      const { pred, mos } = caseData(c);
      expect(pred.length).toBe(c.n);
      const got = { srcc: srcc(pred, mos), plcc: plcc(pred, mos), krcc: krcc(pred, mos) };
      for (const key of ['srcc', 'plcc', 'krcc'] as const) {
        expect(closeOrBothNaN(got[key], c[key], 1e-9), `${key}: got ${got[key]}, scipy ${c[key]}`).toBe(true);
      }
      // RMSE/MAE are plain means; the offset cases subtract numbers near 1e6-1e9, so compare relatively.
      const scale = Math.max(1, Math.abs(c.rmse ?? 0));
      expect(closeOrBothNaN(rmse(pred, mos), c.rmse, 1e-12 * scale)).toBe(true);
      expect(closeOrBothNaN(mae(pred, mos), c.mae, 1e-12 * scale)).toBe(true);
    });
  }

  it('covers the required spread of cases', () => {
    const sizes = golden.correlation.map((c) => c.n);
    expect(Math.min(...sizes)).toBe(2);
    expect(Math.max(...sizes)).toBe(20000);
    expect(golden.correlation.filter((c) => c.srcc === null).length).toBeGreaterThanOrEqual(3);
    expect(golden.correlation.some((c) => (c.plcc ?? 0) < -0.5)).toBe(true);
  });
});

describe('logistic mapping against curve_fit from the same start', () => {
  // Relative agreement asked for: at least `floor`, or twice the amount by which scipy's own answer moves
  // when exp() changes by an ulp (scipySpread; ~1e-15 for the mapped PLCC of a well-determined fit, up to
  // ~1e-6 for a flat one, where no implementation can agree more closely).
  const within = (got: number, want: number, floor: number, spread: number, what: string): void => {
    const rel = Math.abs(got - want) / Math.abs(want);
    expect(rel, `${what}: got ${got}, scipy ${want}`).toBeLessThanOrEqual(Math.max(floor, 2 * spread));
  };
  const canonical = (c: LogisticCase, b: readonly number[]): number[] => {
    const p = c.lowerIsBetter ? negate(c.params, b) : [...b];
    if (c.params === 4) p[3] = Math.abs(p[3]);
    return p;
  };

  for (const c of golden.logistic) {
    it(
      c.name,
      () => {
        const spread = c.scipySpread;
        const fit = fitLogistic(c.pred, c.mos, { params: c.params, lowerIsBetter: c.lowerIsBetter });
        expect(fit.converged).toBe(true);
        // Same VQEG start (the generator fitted −mos for the lower-is-better case).
        const start = c.lowerIsBetter ? negate(c.params, c.start) : c.start;
        fit.initial.forEach((v, j) => expect(v).toBeCloseTo(start[j], 12));
        // Same path: the same stopping test, and (where scipy's own count is stable) the same evaluations.
        expect(fit.status).toBe(c.ier);
        if (spread.sameNfev) expect(fit.evaluations).toBe(c.nfev);
        // Same stopping point with the default tolerances.
        within(fit.cost, c.cost, 1e-10, spread.cost, 'cost');
        canonical(c, fit.params).forEach((v, j) => within(v, c.popt[j], 1e-6, spread.popt, `b${j + 1}`));
        // Converged tightly, the parameters match curve_fit's tightly converged ones.
        const tight = fitLogistic(c.pred, c.mos, {
          params: c.params,
          lowerIsBetter: c.lowerIsBetter,
          ftol: 1e-15,
          xtol: 1e-15,
          maxEvaluations: 10000,
        });
        expect(tight.converged).toBe(true);
        canonical(c, tight.params).forEach((v, j) =>
          within(v, c.poptTight[j], 1e-5, spread.poptTight, `tight b${j + 1}`),
        );
        // The mapped PLCC and RMSE (default tolerances on both sides).
        const e = evaluate(c.pred, c.mos, { logistic: c.params, lowerIsBetter: c.lowerIsBetter });
        expect(e.mapped?.fit?.converged).toBe(true);
        within(e.mapped?.plcc ?? Number.NaN, c.mappedPlcc, 1e-10, spread.mappedPlcc, 'mapped PLCC');
        within(e.mapped?.rmse ?? Number.NaN, c.mappedRmse, 1e-10, spread.mappedRmse, 'mapped RMSE');
      },
      30_000,
    ); // the tight fit of the flat n = 5000 case takes ~7,000 evaluations
  }

  it('includes fits whose stopping point scipy reproduces and one where it does not', () => {
    const stable = golden.logistic.filter((c) => c.scipySpread.mappedPlcc < 1e-10 && c.scipySpread.sameNfev);
    expect(stable.length).toBeGreaterThanOrEqual(8);
    expect(golden.logistic.some((c) => c.scipySpread.mappedPlcc > 1e-7)).toBe(true);
  });
});

/** Parameters of −f (the golden lower-is-better fit is of −mos). */
function negate(params: 4 | 5, b: readonly number[]): number[] {
  return params === 4 ? [-b[0], -b[1], b[2], b[3]] : [-b[0], b[1], b[2], -b[3], -b[4]];
}

describe("Williams' test against a scipy-based reference", () => {
  for (const c of golden.williams) {
    it(`n=${c.n}`, () => {
      const cmp = comparePredictors(c.predA, c.predB, c.mos, { seed: 1, resamples: 20 });
      for (const key of ['plcc', 'srcc'] as const) {
        const w = cmp.williams[key];
        const ref = c[key];
        expect(w.rA).toBeCloseTo(ref.rA, 12);
        expect(w.rB).toBeCloseTo(ref.rB, 12);
        expect(w.rAB).toBeCloseTo(ref.rAB, 12);
        expect(w.df).toBe(c.n - 3);
        expect(Math.abs(w.t - ref.t)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ref.t)));
        expect(Math.abs(w.pValue - ref.pValue)).toBeLessThanOrEqual(1e-9 * ref.pValue + 1e-15);
      }
    });
  }
});

describe('Student t survival function against scipy.stats.t.sf', () => {
  it('matches on a grid of t and df to 1e-9 relative', () => {
    for (const { t, df, sf } of golden.studentT) {
      const got = studentTSf(t, df);
      expect(Math.abs(got - sf), `t=${t} df=${df}: ${got} vs ${sf}`).toBeLessThanOrEqual(1e-9 * sf + 1e-300);
    }
  });
});
