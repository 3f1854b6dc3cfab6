import { describe, expect, it } from 'vitest';
import { median, quantile, quantileSorted } from './stats.js';

// numpy.quantile(values, q) (default method 'linear'), numpy 1.26.
const VALUES = [3.5, -1.0, 7.25, 0.0, 2.0, 9.5, 4.0];
const NUMPY: [number, number][] = [
  [0, -1.0],
  [0.1, -0.3999999999999999],
  [0.25, 1.0],
  [0.5, 3.5],
  [0.75, 5.625],
  [0.9, 8.15],
  [1, 9.5],
];

describe('quantile', () => {
  it.each(NUMPY)('q = %f equals numpy', (q, expected) => {
    expect(quantile(VALUES, q)).toBeCloseTo(expected, 14);
    const sorted = Float64Array.from(VALUES).sort();
    expect(quantileSorted(sorted, q)).toBe(quantile(VALUES, q));
  });

  it('is exact at order statistics even next to infinities', () => {
    expect(quantileSorted([1, 2, Infinity], 0.5)).toBe(2);
    expect(quantileSorted([-Infinity, 2, 3], 0.5)).toBe(2);
  });

  it('refuses empty samples and q outside [0, 1]', () => {
    expect(quantileSorted([], 0.5)).toBeNaN();
    expect(() => quantile([], 0.5)).toThrow(/no values/);
    expect(() => quantile([1, 2], 1.5)).toThrow(/q must be in \[0, 1\]/);
    expect(() => quantile([1, 2], Number.NaN)).toThrow(/q must be in \[0, 1\]/);
  });

  it('median', () => {
    expect(median([5, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/no values/);
  });
});
