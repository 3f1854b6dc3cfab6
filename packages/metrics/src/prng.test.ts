import { describe, expect, it } from 'vitest';
import { createPrng } from './prng.js';

describe('seeded generator', () => {
  it('same seed, same stream; different seeds, different streams', () => {
    const draw = (seed: number): number[] => {
      const rng = createPrng(seed);
      return Array.from({ length: 8 }, () => rng.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(0)).not.toEqual(draw(0xffffffff));
    for (const v of draw(7)) expect(Number.isInteger(v) && v >= 0 && v < 2 ** 32).toBe(true);
  });

  it('nextBelow is uniform (chi-square over 10 cells, 100k draws)', () => {
    const rng = createPrng(2024);
    const counts = new Array<number>(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[rng.nextBelow(10)]++;
    const expected = n / 10;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: P(chi2 > 27.9) = 0.001.
    expect(chi2).toBeLessThan(27.9);
  });

  it('bits are balanced (each of the 32 bits set about half the time)', () => {
    const rng = createPrng(99);
    const ones = new Array<number>(32).fill(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const v = rng.nextUint32();
      for (let b = 0; b < 32; b++) ones[b] += (v >>> b) & 1;
    }
    // 5 standard deviations of a binomial(n, 1/2).
    for (const c of ones) expect(Math.abs(c - n / 2)).toBeLessThan(5 * Math.sqrt(n / 4));
  });

  it('rejects bad seeds and bounds', () => {
    expect(() => createPrng(-1)).toThrow(/seed must be an integer in \[0, 2\^32\), got -1/);
    expect(() => createPrng(1.5)).toThrow(/got 1.5/);
    expect(() => createPrng(2 ** 32)).toThrow(/seed must be/);
    expect(() => createPrng(1).nextBelow(0)).toThrow(/bound must be an integer/);
  });
});
