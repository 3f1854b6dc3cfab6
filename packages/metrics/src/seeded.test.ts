import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { holm, normalSf, seededBootstrap, seededDifference, srcc, type BootstrapMetric } from './index.js';

/** Written by tools/golden/study/make_golden.py (numpy / scipy / statsmodels, xoshiro128** reimplemented there). */
interface Golden {
  seeded: {
    name: string;
    runs: number[][][];
    mos: number[];
    lowerIsBetter: boolean;
    metrics: BootstrapMetric[];
    seed: number;
    resamples: number;
    level: number;
    expected: Record<
      string,
      {
        estimates: (number | null)[];
        firstReplicates: (number | null)[][];
        differences: {
          groupA: number;
          groupB: number;
          a: number | null;
          b: number | null;
          difference: number | null;
          lower: number | null;
          upper: number | null;
          pValue: number | null;
          standardError: number | null;
          zPValue: number | null;
          undefinedResamples: number;
        }[];
      }
    >;
  }[];
  holm: { p: number[]; adjusted: number[] }[];
  normal: { z: number; sf: number }[];
}

const golden = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'seeded-golden.json'), 'utf8'),
) as Golden;

/** null in the fixture is NaN here; otherwise equal to 12 significant digits. */
function close(actual: number, expected: number | null, what: string): void {
  if (expected === null) {
    expect(actual, what).toBeNaN();
    return;
  }
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
    1e-12 * Math.max(1, Math.abs(expected)),
  );
}

describe('seededBootstrap / seededDifference against the numpy/scipy reference', () => {
  for (const c of golden.seeded) {
    it(c.name, () => {
      const boot = seededBootstrap(c.runs, c.mos, {
        seed: c.seed,
        resamples: c.resamples,
        level: c.level,
        metrics: c.metrics,
        lowerIsBetter: c.lowerIsBetter,
      });
      expect(boot.n).toBe(c.mos.length);
      expect(boot.seeds).toBe(c.runs[0].length);
      for (const m of c.metrics) {
        const e = c.expected[m];
        e.estimates.forEach((v, g) => close(boot.estimates[m][g], v, `${m} estimate ${g}`));
        e.firstReplicates.forEach((reps, g) =>
          reps.forEach((v, b) => close(boot.replicates[m][g][b], v, `${m} replicate ${g}/${b}`)),
        );
        for (const d of e.differences) {
          const got = seededDifference(boot, m, d.groupA, d.groupB);
          const what = `${m} ${d.groupA}-${d.groupB}`;
          close(got.difference, d.difference, `${what} difference`);
          close(got.lower, d.lower, `${what} lower`);
          close(got.upper, d.upper, `${what} upper`);
          close(got.pValue, d.pValue, `${what} p`);
          close(got.standardError, d.standardError, `${what} se`);
          close(got.zPValue, d.zPValue, `${what} z p`);
          expect(got.undefinedResamples, `${what} undefined`).toBe(d.undefinedResamples);
          expect(got.resamples).toBe(c.resamples);
        }
      }
    });
  }

  it('a collapsed run leaves undefined resamples, counted, not silently averaged', () => {
    const c = golden.seeded[2];
    const d = c.expected.srcc.differences[0];
    expect(d.undefinedResamples).toBeGreaterThan(0);
    expect(d.undefinedResamples).toBeLessThan(c.resamples);
  });

  it('with one seed and one group it is the plain bootstrap estimate', () => {
    const c = golden.seeded[0];
    const boot = seededBootstrap([[c.runs[0][0]]], c.mos, { seed: 1, resamples: 20, metrics: ['srcc'] });
    expect(boot.estimates.srcc[0]).toBe(srcc(c.runs[0][0], c.mos));
  });

  it('is reproducible from its seed and rejects unpaired or bad input by name', () => {
    const c = golden.seeded[0];
    const a = seededBootstrap(c.runs, c.mos, { seed: 9, resamples: 30 });
    const b = seededBootstrap(c.runs, c.mos, { seed: 9, resamples: 30 });
    const other = seededBootstrap(c.runs, c.mos, { seed: 10, resamples: 30 });
    expect(a.replicates.srcc[0]).toEqual(b.replicates.srcc[0]);
    expect(a.replicates.srcc[0]).not.toEqual(other.replicates.srcc[0]);
    expect(() => seededBootstrap([c.runs[0], c.runs[1].slice(0, 2)], c.mos, { seed: 1 })).toThrow(
      /runs\[1\] has 2 seeds but runs\[0\] has 3; groups are paired by seed/,
    );
    expect(() => seededBootstrap([[c.runs[0][0].slice(1)]], c.mos, { seed: 1 })).toThrow(
      /runs\[0\]\[0\] has 49 values but mos has 50/,
    );
    expect(() => seededBootstrap([], c.mos, { seed: 1 })).toThrow(/at least one group/);
    expect(() => seededDifference(a, 'srcc', 0, 2)).toThrow(/group 2 is not in \[0, 2\)/);
    expect(() => seededDifference(a as never, 'rmse', 0, 1)).toThrow(/did not resample rmse/);
  });
});

describe('holm', () => {
  it('matches statsmodels multipletests(method="holm")', () => {
    for (const c of golden.holm) {
      holm(c.p).forEach((v, i) => close(v, c.adjusted[i], `p[${i}] of ${c.p.join(',')}`));
    }
  });

  it('by hand: sorted p 0.005, 0.01, 0.03, 0.04 × 4, 3, 2, 1 with running maxima', () => {
    // 0.005·4 = 0.02; 0.01·3 = 0.03; 0.03·2 = 0.06; 0.04·1 = 0.04 → running max 0.06
    expect(holm([0.01, 0.04, 0.03, 0.005])).toEqual([0.03, 0.06, 0.06, 0.02]);
  });

  it('leaves NaN out of the family and keeps it NaN; rejects values that are no p-value', () => {
    expect(holm([0.01, Number.NaN, 0.02])).toEqual([0.02, Number.NaN, 0.02]);
    expect(holm([])).toEqual([]);
    expect(() => holm([0.1, 1.5])).toThrow(/pValues\[1\] is 1.5, expected a p-value in \[0, 1\]/);
  });
});

describe('normalSf', () => {
  it('matches scipy.stats.norm.sf to 1e-12 relative', () => {
    for (const { z, sf } of golden.normal) {
      const got = normalSf(z);
      expect(Math.abs(got - sf) / sf, `z = ${z}: ${got} vs ${sf}`).toBeLessThan(1e-12);
    }
    expect(normalSf(Infinity)).toBe(0);
    expect(normalSf(-Infinity)).toBe(1);
    expect(normalSf(Number.NaN)).toBeNaN();
  });
});
