import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { lcgValues, useBackend } from '../__tests__/helpers.js';
import { partitionFallback, reverseFallback, sliceRows, windowPartition, windowReverse } from './kernels.js';
import { view } from './layout.js';

afterAll(() => useBackend('wasm'));

describe('window partition / reverse kernels', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`${backend}: equal the roll + transpose formulation, and invert each other`, async () => {
      await useBackend(backend);
      for (const [b, h, ws, c, shift] of [
        [2, 14, 7, 5, 3],
        [1, 14, 7, 3, 0],
        [2, 6, 3, 4, 1],
        [1, 7, 7, 2, 0],
      ]) {
        const x = tf.tensor4d(lcgValues(b * h * h * c, h + c), [b, h, h, c]);
        const got = windowPartition(x, ws, shift);
        const want = partitionFallback(x, ws, shift);
        expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
        const back = windowReverse(got, b, h, h, ws, shift);
        expect(Array.from(back.dataSync())).toEqual(Array.from(x.dataSync()));
        expect(Array.from(reverseFallback(got, b, h, h, ws, shift).dataSync())).toEqual(
          Array.from(x.dataSync()),
        );
        // gradient: the inverse permutation of the upstream gradient
        const r = tf.tensor2d(lcgValues(b * h * h * c, 5), [b * h * h, c]);
        const g = tf.grad((xx: tf.Tensor) =>
          tf.sum(tf.mul(windowPartition(xx as tf.Tensor4D, ws, shift), r)),
        )(x);
        expect(Array.from(g.dataSync())).toEqual(Array.from(windowReverse(r, b, h, h, ws, shift).dataSync()));
        tf.dispose([x, got, want, back, r, g]);
      }
    });
  }

  it('sliceRows copies whole rows; view shares data without a kernel and keeps reference counts', async () => {
    await useBackend('wasm');
    const x = tf.tensor3d(lcgValues(5 * 2 * 3, 3), [5, 2, 3]);
    const s = sliceRows(x, 1, 3);
    expect(s.shape).toEqual([3, 2, 3]);
    expect(Array.from(s.dataSync())).toEqual(Array.from(x.dataSync().slice(6, 24)));
    expect(() => sliceRows(x, 4, 2)).toThrow(/outside/);
    const before = tf.memory().numTensors;
    const v = view(x, [-1, 3]);
    expect(v.shape).toEqual([10, 3]);
    v.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(x.dataSync()[0]).toBe(lcgValues(1, 3)[0]); // data still alive after disposing the view
    tf.dispose([x, s]);
  });
});
