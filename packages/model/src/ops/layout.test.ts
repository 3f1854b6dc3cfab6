import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lcgValues, useBackend } from '../__tests__/helpers.js';
import { mergedTranspose, permute, roll2d } from './layout.js';

beforeAll(() => useBackend('wasm'));

describe('permute', () => {
  it('merges axes that stay adjacent and drops size-1 axes', () => {
    // the Swin window partition: [B, H/w, w, W/w, w, C] → [B, H/w, W/w, w, w, C]
    expect(mergedTranspose([2, 8, 7, 8, 7, 16], [0, 1, 3, 2, 4, 5])).toEqual({
      shape: [16, 7, 8, 112],
      perm: [0, 2, 1, 3],
    });
    expect(mergedTranspose([1, 5, 1, 3], [3, 2, 1, 0])).toEqual({ shape: [5, 3], perm: [1, 0] });
    expect(mergedTranspose([4, 5], [0, 1])).toEqual({ shape: [20], perm: [0] });
  });

  it('equals tf.transpose for rank 2-6 permutations', () => {
    const cases: [number[], number[]][] = [
      [
        [3, 4],
        [1, 0],
      ],
      [
        [2, 3, 4],
        [2, 0, 1],
      ],
      [
        [2, 1, 3, 4],
        [3, 1, 0, 2],
      ],
      [
        [2, 3, 2, 3, 2],
        [0, 2, 4, 1, 3],
      ],
      [
        [2, 3, 2, 2, 3, 2],
        [0, 1, 3, 4, 2, 5],
      ],
      [
        [2, 2, 3, 2, 3, 4],
        [1, 3, 5, 0, 2, 4],
      ],
    ];
    for (const [shape, perm] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(lcgValues(n, n), shape);
      const got = permute(x, perm);
      const want = tf.transpose(x, perm);
      expect(got.shape).toEqual(want.shape);
      expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
      tf.dispose([x, got, want]);
    }
  });
});

describe('roll2d', () => {
  it('is torch.roll over H and W (out[i, j] = x[(i - s) mod H, (j - s) mod W])', () => {
    const [b, h, w, c] = [2, 5, 7, 3];
    const v = lcgValues(b * h * w * c, 9);
    const x = tf.tensor4d(v, [b, h, w, c]);
    for (const s of [-3, 3, 1, -1, 0, 12]) {
      const got = roll2d(x, s).dataSync();
      for (let bi = 0; bi < b; bi++)
        for (let i = 0; i < h; i++)
          for (let j = 0; j < w; j++)
            for (let k = 0; k < c; k++) {
              const si = (((i - s) % h) + h) % h;
              const sj = (((j - s) % w) + w) % w;
              expect(got[((bi * h + i) * w + j) * c + k]).toBe(v[((bi * h + si) * w + sj) * c + k]);
            }
    }
    x.dispose();
  });

  it('rolling back restores the input, and the gradient is the inverse roll', () => {
    const x = tf.tensor4d(lcgValues(2 * 6 * 6 * 2, 4), [2, 6, 6, 2]);
    const back = roll2d(roll2d(x, -3), 3);
    expect(Array.from(back.dataSync())).toEqual(Array.from(x.dataSync()));
    const r = tf.tensor4d(lcgValues(2 * 6 * 6 * 2, 5), [2, 6, 6, 2]);
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(roll2d(xx as tf.Tensor4D, -3), r)))(x);
    expect(Array.from(g.dataSync())).toEqual(Array.from(roll2d(r, 3).dataSync()));
    tf.dispose([x, back, r, g]);
  });
});
