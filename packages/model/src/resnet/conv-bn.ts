/**
 * The ResNet's conv → BatchNorm (→ ReLU) pair, and its convolution weights with the HyperIQA initialisation.
 */
import * as tf from '@tensorflow/tfjs';
import { type DerivedCache, recordingGradients } from '../derived.js';
import type { Initializer } from '../init.js';
import { type BatchNormParams, batchNorm } from '../ops/batchnorm.js';
import { conv2d } from '../ops/conv.js';
import type { ParamStore } from '../params.js';

/** BatchNorm eps (torch default). */
const BN_EPS = 1e-5;

/**
 * Registers a k×k convolution weight without bias (torch [out, in, k, k], stored as the tfjs filter [k, k, in, out])
 * with HyperIQA's ResNet initialisation N(0, 2 / (k·k·out)).
 */
export function registerConvWeight(
  store: ParamStore,
  init: Initializer,
  name: string,
  k: number,
  cin: number,
  cout: number,
): tf.Tensor4D {
  return store.add(name, init.normal(name, [k, k, cin, cout], Math.sqrt(2 / (k * k * cout))), {
    layout: 'conv',
  }) as tf.Tensor4D;
}

/** How one conv → BatchNorm pair runs. */
export interface ConvBnStep {
  stride: number;
  pad: number;
  relu: boolean;
  /** Normalise with batch statistics (and update the running ones when `updateStats`). */
  training: boolean;
  updateStats: boolean;
  /** Compute the gradient with respect to x (default true). */
  inputGrad?: boolean;
}

/**
 * conv (no bias) → BatchNorm → optional ReLU. Pure inference (eval mode, no gradient being recorded) folds the
 * BatchNorm into the convolution — w·γ/√(var+ε) and β − mean·γ/√(var+ε), cached in `folded` under `key` until a
 * weight or statistic changes — and runs one fused XNNPACK convolution with bias and ReLU; otherwise the separate
 * differentiable ops.
 */
export function convBn(
  folded: DerivedCache,
  key: string,
  x: tf.Tensor4D,
  w: tf.Tensor,
  bn: BatchNormParams,
  step: ConvBnStep,
): tf.Tensor4D {
  const { stride, pad, relu, training, updateStats, inputGrad = true } = step;
  if (training || recordingGradients()) {
    const y = batchNorm(conv2d(x, w as tf.Tensor4D, null, stride, pad, { inputGrad }), bn, training, {
      updateStats,
    });
    return relu ? tf.relu(y) : y;
  }
  const deps = [w, bn.weight, bn.bias, bn.runningMean, bn.runningVar];
  const scale = (): tf.Tensor => tf.mul(bn.weight, tf.rsqrt(tf.add(bn.runningVar, BN_EPS)));
  const filter = folded.get(`${key}.w`, deps, () => tf.mul(w, scale())) as tf.Tensor4D;
  const bias = folded.get(`${key}.b`, deps, () => tf.sub(bn.bias, tf.mul(bn.runningMean, scale())));
  return tf.fused.conv2d({
    x,
    filter,
    strides: stride,
    pad: [
      [0, 0],
      [pad, pad],
      [pad, pad],
      [0, 0],
    ],
    bias,
    activation: relu ? 'relu' : 'linear',
  });
}
