/**
 * A LayerNorm's affine part pushed into the linear layer that follows it (exact up to float rounding):
 * LN(x)·W + b = x̂·(γ⊙W) + (β·W + b), with x̂ the normalised input. A scalar factor f can ride along (the attention's q
 * scale, GELU's 1/√2).
 */
import * as tf from '@tensorflow/tfjs';
import { matMul2d } from '../ops/linear.js';

/** γ ⊙ W (rows scaled by the LayerNorm weight), times f. */
export function foldWeight(gamma: tf.Tensor1D, w: tf.Tensor2D, f: number): tf.Tensor2D {
  return tf.tidy(() => {
    const g = tf.reshape(gamma, [-1, 1]);
    return tf.mul(w, f === 1 ? g : tf.mul(g, f)) as tf.Tensor2D;
  });
}

/** (β·W + b) times f: the LayerNorm bias pushed through the linear layer. */
export function foldBias(beta: tf.Tensor1D, w: tf.Tensor2D, b: tf.Tensor1D, f: number): tf.Tensor1D {
  return tf.tidy(() => {
    const y = tf.add(tf.reshape(matMul2d(tf.reshape(beta, [1, -1]) as tf.Tensor2D, w), [-1]), b);
    return (f === 1 ? y : tf.mul(y, f)) as tf.Tensor1D;
  });
}
