import { describe, expect, it } from 'vitest';
import { krcc, plcc, srcc } from './index.js';
import { argsort, averageRanks } from './rank.js';
import { countInversions } from './correlation.js';
import { correlated, integers, normals } from './__tests__/random.js';

/** O(n²) tau-b straight from the definition: an independent reference for the O(n log n) version. */
function naiveTauB(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i] - x[j]);
      const dy = Math.sign(y[i] - y[j]);
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiesX++;
      else if (dy === 0) tiesY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  }
  return (
    (concordant - discordant) /
    Math.sqrt((concordant + discordant + tiesX) * (concordant + discordant + tiesY))
  );
}

/** Average ranks by counting: rank = #smaller + (#equal + 1) / 2. */
function naiveRanks(v: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) {
    let less = 0;
    let equal = 0;
    for (let j = 0; j < v.length; j++) {
      if (v[j] < v[i]) less++;
      else if (v[j] === v[i]) equal++;
    }
    out.push(less + (equal + 1) / 2);
  }
  return out;
}

const SEEDS = [1, 2, 3, 4, 5];

describe('ranking', () => {
  it('argsort is a stable ascending sort across signs, zeros, subnormals and huge values', () => {
    const special = [
      3,
      -0,
      0,
      -1e-310,
      5e-324,
      -Number.MAX_VALUE,
      Number.MAX_VALUE,
      -2.5,
      1e-300,
      -1e300,
      0,
      7,
      3,
    ];
    const values = Float64Array.from([...special, ...normals(9, 500).map((v) => v * 1e5)]);
    const order = argsort(values);
    const expected = Array.from(values.keys()).sort((a, b) => values[a] - values[b] || a - b);
    expect(Array.from(order)).toEqual(expected);
  });

  it('argsort agrees with a comparison sort above the large-input threshold (16-bit digits)', () => {
    const n = 150_000;
    const values = Float64Array.from(normals(12, n), (v, i) => (i % 3 === 0 ? Math.round(v * 50) : v * 1e-3));
    const order = argsort(values);
    const expected = Uint32Array.from(values.keys()).sort((a, b) => values[a] - values[b] || a - b);
    expect(order).toEqual(expected);
  });

  it('average ranks equal the counting definition on tie-heavy data', () => {
    for (const seed of SEEDS) {
      const v = integers(seed, 300, 12);
      expect(Array.from(averageRanks(v))).toEqual(naiveRanks(v));
    }
  });

  it('counts strict inversions (ties are not inversions)', () => {
    const a = Uint32Array.from([3, 1, 2, 2, 0, 3]);
    // (3,1) (3,2) (3,2) (3,0) (1,0) (2,0) (2,0) (3,0 from the last 3? no: it comes after 0) → 7
    expect(countInversions(a)).toBe(7);
    expect(Array.from(a)).toEqual([0, 1, 2, 2, 3, 3]);
  });
});

describe('KRCC equals the O(n²) definition of tau-b', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: ties in x, in y and in both`, () => {
      const x = integers(seed, 400, 7);
      const y = x.map((v, i) => v + integers(seed + 100, 400, 5)[i]);
      expect(krcc(x, y)).toBeCloseTo(naiveTauB(x, y), 13);
      const { x: cx, y: cy } = correlated(seed, 250, 0.8);
      expect(krcc(cx, cy)).toBeCloseTo(naiveTauB(cx, cy), 13);
    });
  }
});

describe('invariances and symmetries', () => {
  const monotone: Array<[string, (v: number) => number]> = [
    ['exp', Math.exp],
    ['cube', (v) => v ** 3],
    ['affine', (v) => 3.5 * v - 100],
    ['logistic', (v) => 1 / (1 + Math.exp(-2 * v))],
    ['floor-free shift by 1e6', (v) => v + 1e6],
  ];
  for (const seed of SEEDS) {
    const { x, y } = correlated(seed, 500, 0.7);
    const base = { s: srcc(x, y), k: krcc(x, y), p: plcc(x, y) };

    it(`seed ${seed}: SRCC and KRCC are unchanged by strictly increasing transforms of either side`, () => {
      for (const [, f] of monotone) {
        const fx = x.map(f);
        const fy = y.map(f);
        expect(srcc(fx, y)).toBe(base.s);
        expect(srcc(x, fy)).toBe(base.s);
        expect(krcc(fx, fy)).toBe(base.k);
      }
      // A decreasing transform flips the sign exactly.
      const neg = x.map((v) => -Math.exp(v));
      expect(srcc(neg, y)).toBeCloseTo(-base.s, 15);
      expect(krcc(neg, y)).toBeCloseTo(-base.k, 15);
    });

    it(`seed ${seed}: PLCC is invariant to affine maps with positive slope and flips with negative slope`, () => {
      expect(
        plcc(
          x.map((v) => 4 * v + 7),
          y,
        ),
      ).toBeCloseTo(base.p, 13);
      expect(
        plcc(
          x,
          y.map((v) => 0.01 * v - 3),
        ),
      ).toBeCloseTo(base.p, 13);
      expect(
        plcc(
          x.map((v) => -2 * v + 1),
          y,
        ),
      ).toBeCloseTo(-base.p, 13);
      expect(
        plcc(
          x.map((v) => 1e6 + v),
          y.map((v) => 1e6 + v),
        ),
      ).toBeCloseTo(base.p, 9);
    });

    it(`seed ${seed}: symmetric in its arguments, invariant to the order of the pairs, bounded`, () => {
      expect(srcc(y, x)).toBe(base.s);
      expect(krcc(y, x)).toBe(base.k);
      expect(plcc(y, x)).toBe(base.p);
      const perm = argsort(normals(seed + 50, x.length));
      const px = Array.from(perm, (i) => x[i]);
      const py = Array.from(perm, (i) => y[i]);
      expect(srcc(px, py)).toBeCloseTo(base.s, 13);
      expect(krcc(px, py)).toBe(base.k);
      expect(plcc(px, py)).toBeCloseTo(base.p, 13);
      for (const r of [base.s, base.k, base.p]) expect(Math.abs(r)).toBeLessThanOrEqual(1);
      expect(srcc(x, x)).toBe(1);
      expect(krcc(x, x)).toBeCloseTo(1, 15); // scipy rounds the same way: n0 / √n0 / √n0
      expect(plcc(x, x)).toBeCloseTo(1, 15);
    });
  }

  it('independent data gives coefficients near 0 (|r| < 4/sqrt(n))', () => {
    const x = normals(77, 4000);
    const y = normals(78, 4000);
    for (const r of [srcc(x, y), plcc(x, y), krcc(x, y)])
      expect(Math.abs(r)).toBeLessThan(4 / Math.sqrt(4000));
  });
});
