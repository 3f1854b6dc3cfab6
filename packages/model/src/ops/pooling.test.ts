import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { adaptiveAvgPool2d, avgPool2d, globalAvgPool, maxPool2d } from './pooling.js';
import { maxAbsError } from '../parity.js';

function values(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * scale + shift;
  }
  return out;
}

/** float64 reference of torch MaxPool2d(k, s, p) (padding never wins) and AvgPool2d(k) on NHWC values. */
function refPool(
  x: Float32Array,
  shape: number[],
  k: number,
  s: number,
  p: number,
  kind: 'max' | 'avg',
): number[] {
  const [b, h, w, c] = shape;
  const ho = Math.floor((h + 2 * p - k) / s) + 1;
  const wo = Math.floor((w + 2 * p - k) / s) + 1;
  const out: number[] = [];
  for (let n = 0; n < b; n++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let ch = 0; ch < c; ch++) {
          let acc = kind === 'max' ? -Infinity : 0;
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const y = oy * s - p + i;
              const xx = ox * s - p + j;
              if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
              const v = x[((n * h + y) * w + xx) * c + ch];
              acc = kind === 'max' ? Math.max(acc, v) : acc + v / (k * k);
            }
          out.push(acc);
        }
  return out;
}

describe('pooling (torch semantics, NHWC)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('maxPool2d(3, 2, 1) pads with -inf: an all-negative map keeps negative border maxima; odd and even sides', () => {
    for (const shape of [
      [2, 8, 8, 3],
      [1, 7, 5, 2],
    ]) {
      const x = values(
        shape.reduce((a, b) => a * b, 1),
        3,
        1,
        -2,
      ); // all in [-3, -1)
      const y = tf.tidy(() => maxPool2d(tf.tensor4d(x, shape as [number, number, number, number]), 3, 2, 1));
      expect(y.shape).toEqual([
        shape[0],
        Math.floor((shape[1] - 1) / 2) + 1,
        Math.floor((shape[2] - 1) / 2) + 1,
        shape[3],
      ]);
      const got = y.dataSync();
      expect(maxAbsError(got, refPool(x, shape, 3, 2, 1, 'max'))).toBe(0);
      expect(Math.max(...got)).toBeLessThan(-1 + 1e-6);
      y.dispose();
    }
  });

  it('maxPool2d gradient matches the cpu backend, also for negative windows and after a ReLU (tied zeros)', async () => {
    const shape: [number, number, number, number] = [2, 6, 6, 2];
    const raw = values(2 * 6 * 6 * 2, 5); // distinct values, about half negative
    const r = values(2 * 3 * 3 * 2, 6);
    // cpu's MaxPoolGrad follows torch: padding never wins, the first maximum of a window takes the gradient.
    const grad = (withRelu: boolean): Float32Array => {
      const g = tf.tidy(() =>
        tf.grad((xx: tf.Tensor) => {
          const a = withRelu ? tf.relu(xx) : xx;
          return tf.sum(tf.mul(maxPool2d(a as tf.Tensor4D, 3, 2, 1), tf.tensor4d(r, [2, 3, 3, 2])));
        })(tf.tensor4d(raw, shape)),
      );
      const out = g.dataSync() as Float32Array;
      g.dispose();
      return out;
    };
    const got = [grad(false), grad(true)];
    await tf.setBackend('cpu');
    const ref = [grad(false), grad(true)];
    await tf.setBackend('wasm');
    expect(maxAbsError(got[0], ref[0])).toBe(0);
    expect(maxAbsError(got[1], ref[1])).toBe(0);
    expect(got[0].reduce((a, b) => a + b, 0)).toBeCloseTo(
      r.reduce((a, b) => a + b, 0),
      4,
    );
  });

  it('maxPool2d gradient with exact ties goes to the first maximum in scan order (torch), also for 3x3/1 and 2x2/2', () => {
    const grad = (
      x: number[],
      shape: [number, number, number, number],
      k: number,
      s: number,
      p: number,
    ): number[] => {
      const g = tf.tidy(() =>
        tf.grad((xx: tf.Tensor) => tf.sum(maxPool2d(xx as tf.Tensor4D, k, s, p)))(tf.tensor4d(x, shape)),
      );
      const out = Array.from(g.dataSync());
      g.dispose();
      return out;
    };
    // torch.nn.functional.max_pool2d(torch.full((1,1,3,3), 5.), 3, 2, 1).sum().backward() -> x.grad
    expect(grad(new Array(9).fill(5), [1, 3, 3, 1], 3, 2, 1)).toEqual([1, 1, 0, 1, 1, 0, 0, 0, 0]);
    // All negative: torch gives [1, 1, 0, 1, 1, 0, 0, 0, 0] for -1..-9 (the padding never takes the gradient).
    expect(grad([-1, -2, -3, -4, -5, -6, -7, -8, -9], [1, 3, 3, 1], 3, 2, 1)).toEqual([
      1, 1, 0, 1, 1, 0, 0, 0, 0,
    ]);
    // Stride 1 (9 overlapping windows on a constant map): counts per input = windows whose first cell it is.
    expect(grad(new Array(9).fill(0), [1, 3, 3, 1], 3, 1, 1)).toEqual([4, 2, 0, 2, 1, 0, 0, 0, 0]);
    // 2x2/2 without padding on a 5x5 map: the last row and column are never read.
    const g = grad(new Array(25).fill(1), [1, 5, 5, 1], 2, 2, 0);
    expect(g).toEqual([1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('avgPool2d(7) is the block mean (LDA pooling 56 -> 8)', () => {
    const shape = [1, 56, 56, 2];
    const x = values(56 * 56 * 2, 7);
    const y = tf.tidy(() => avgPool2d(tf.tensor4d(x, shape as [number, number, number, number]), 7));
    expect(y.shape).toEqual([1, 8, 8, 2]);
    expect(maxAbsError(y.dataSync(), refPool(x, shape, 7, 7, 0, 'avg'))).toBeLessThan(1e-6);
    y.dispose();
  });

  it('adaptiveAvgPool2d to 7: exact block means for 56/28/14, identity for 7, clear error otherwise', () => {
    for (const side of [56, 28, 14]) {
      const shape = [2, side, side, 3];
      const x = values(2 * side * side * 3, side);
      const y = tf.tidy(() =>
        adaptiveAvgPool2d(tf.tensor4d(x, shape as [number, number, number, number]), 7),
      );
      expect(y.shape).toEqual([2, 7, 7, 3]);
      expect(maxAbsError(y.dataSync(), refPool(x, shape, side / 7, side / 7, 0, 'avg'))).toBeLessThan(1e-6);
      y.dispose();
    }
    const seven = tf.zeros([1, 7, 7, 4]) as tf.Tensor4D;
    expect(adaptiveAvgPool2d(seven, 7)).toBe(seven);
    expect(() => adaptiveAvgPool2d(tf.zeros([1, 10, 10, 1]) as tf.Tensor4D, 7)).toThrow(
      /not a multiple of 7/,
    );
    seven.dispose();
  });

  it('globalAvgPool: [B,H,W,C] -> [B,C] channel means', () => {
    const x = values(2 * 3 * 4 * 5, 9);
    const y = tf.tidy(() => globalAvgPool(tf.tensor4d(x, [2, 3, 4, 5])));
    expect(y.shape).toEqual([2, 5]);
    const ref: number[] = [];
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 5; c++) {
        let s = 0;
        for (let i = 0; i < 12; i++) s += x[(b * 12 + i) * 5 + c];
        ref.push(s / 12);
      }
    expect(maxAbsError(y.dataSync(), ref)).toBeLessThan(1e-6);
    y.dispose();
  });
});
