import { describe, expect, it } from 'vitest';
import { MetricAccumulator, evaluate, type Evaluation } from './index.js';
import { correlated } from './__tests__/random.js';

/** The evaluation without the fit's predict closure (functions compare by identity). */
function data(e: Evaluation): unknown {
  const fit = e.mapped?.fit;
  return { ...e, mapped: e.mapped && { ...e.mapped, fit: fit && { ...fit, predict: typeof fit.predict } } };
}

describe('MetricAccumulator', () => {
  const { x, y } = correlated(4, 3000, 0.5);

  it('gives the same evaluation as evaluate on all pairs, across batches and buffer growth', () => {
    const acc = new MetricAccumulator({ initialCapacity: 4 });
    let i = 0;
    for (const size of [1, 7, 100, 892, 2000]) {
      acc.pushMany(x.subarray(i, i + size), Array.from(y.subarray(i, i + size)));
      i += size;
    }
    expect(acc.size).toBe(3000);
    expect(data(acc.evaluate())).toEqual(data(evaluate(x, y)));
    expect(acc.pairs()).toEqual({ pred: x, mos: y });
  });

  it('push adds single pairs; reset forgets them', () => {
    const acc = new MetricAccumulator();
    for (let k = 0; k < 50; k++) acc.push(x[k], y[k]);
    expect(acc.evaluate({ logistic: false })).toEqual(
      evaluate(x.subarray(0, 50), y.subarray(0, 50), { logistic: false }),
    );
    acc.reset();
    expect(acc.size).toBe(0);
    expect(() => acc.evaluate()).toThrow(
      new RangeError('MetricAccumulator.evaluate: needs at least 2 pairs, got 0'),
    );
  });

  it('rejects non-finite pairs by default, or drops and counts them', () => {
    const strict = new MetricAccumulator();
    expect(() => strict.push(1, Number.NaN)).toThrow(/pair #0 is \(1, NaN\); values must be finite/);
    expect(() => strict.pushMany([1, 2], [3, Infinity])).toThrow(/mos\[1\] is Infinity/);
    expect(strict.size).toBe(0);
    expect(() => strict.push('1' as unknown as number, 2)).toThrow(TypeError);

    const lenient = new MetricAccumulator({ nonFinite: 'drop' });
    lenient.push(Number.NaN, 1);
    lenient.pushMany([1, 2, Number.NaN, 4], [1, 3, 2, 5]);
    lenient.push(5, 4);
    expect(lenient.size).toBe(4);
    expect(lenient.dropped).toBe(2);
    const e = lenient.evaluate({ logistic: false });
    expect(e.dropped).toBe(2);
    expect(e.n).toBe(4);
    expect(() => new MetricAccumulator({ initialCapacity: 0 })).toThrow(
      /initialCapacity must be a positive integer/,
    );
  });
});
