import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { lcgValues, rel, useBackend } from '../__tests__/helpers.js';
import { linear, matMul2d } from './linear.js';

afterAll(() => useBackend('wasm'));

/** loss = Σ f(x, w, b) · r and its gradients, with our ops or tfjs' default ones. */
function grads(kind: 'mm' | 'bias' | 'relu', ours: boolean): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor2d(lcgValues(6 * 5, 1), [6, 5]);
    const w = tf.tensor2d(lcgValues(5 * 4, 2), [5, 4]);
    const b = tf.tensor1d(lcgValues(4, 3));
    const r = tf.tensor2d(lcgValues(6 * 4, 4), [6, 4]);
    const f = (xx: tf.Tensor2D, ww: tf.Tensor2D, bb: tf.Tensor1D): tf.Tensor2D => {
      if (kind === 'mm') return ours ? matMul2d(xx, ww) : tf.matMul(xx, ww);
      if (ours) return linear(xx, ww, bb, { relu: kind === 'relu' });
      const y = tf.add(tf.matMul(xx, ww), bb) as tf.Tensor2D;
      return kind === 'relu' ? tf.relu(y) : y;
    };
    const loss = (xx: tf.Tensor2D, ww: tf.Tensor2D, bb: tf.Tensor1D): tf.Scalar =>
      tf.sum(tf.mul(f(xx, ww, bb), r));
    const gs =
      kind === 'mm'
        ? tf.grads((xx: tf.Tensor, ww: tf.Tensor) => loss(xx as tf.Tensor2D, ww as tf.Tensor2D, b))([x, w])
        : tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
            loss(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D),
          )([x, w, b]);
    return [f(x, w, b), ...gs].map((t) => t.dataSync()) as Float32Array[];
  }) as unknown as Float32Array[];
}

describe('linear / matMul2d', () => {
  for (const kind of ['mm', 'bias', 'relu'] as const) {
    it(`${kind}: values and gradients match tfjs' own ops on cpu`, async () => {
      await useBackend('cpu');
      const want = grads(kind, false);
      await useBackend('wasm');
      const got = grads(kind, true);
      want.forEach((w, i) => expect(rel(got[i], w), `output ${i}`).toBeLessThan(1e-6));
    });
  }

  it('flattens leading axes and checks shapes', async () => {
    await useBackend('wasm');
    const x = tf.tensor3d(lcgValues(2 * 3 * 5, 7), [2, 3, 5]);
    const w = tf.tensor2d(lcgValues(5 * 4, 8), [5, 4]);
    const y = linear(x, w);
    expect(y.shape).toEqual([2, 3, 4]);
    expect(rel(y.dataSync(), tf.matMul(tf.reshape(x, [6, 5]), w).dataSync())).toBe(0);
    expect(() => linear(tf.zeros([2, 6]), w)).toThrow(/6 features/);
    tf.dispose([x, w, y]);
  });
});
