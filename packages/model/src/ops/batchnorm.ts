/**
 * BatchNorm2d with PyTorch semantics, NHWC (channels last).
 *
 * - eval: normalise with the running statistics.
 * - training: normalise with the batch statistics (biased variance), then update the running statistics in place:
 *   running_mean = (1 - momentum)·running_mean + momentum·mean, running_var likewise with the *unbiased* batch variance
 *   (n / (n - 1)), num_batches_tracked += 1; momentum 0.1 and eps 1e-5 as torch's defaults.
 *
 * Computed with `tf.batchNorm` given explicit scale and offset: without them its gradient throws on every backend
 * (a tfjs bug). The batch statistics come from `tf.moments`, so the gradient also flows through mean and variance.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../params.js';

export interface BatchNormParams {
  /** γ [C] (torch `weight`); a Variable, or the tensor standing for it inside a custom-gradient block. */
  readonly weight: tf.Tensor;
  /** β [C] (torch `bias`). */
  readonly bias: tf.Tensor;
  /** [C], non-trainable. */
  readonly runningMean: tf.Variable;
  /** [C], non-trainable. */
  readonly runningVar: tf.Variable;
  /** Scalar counter, non-trainable. torch stores int64; held here as int32 (exact below 2^31 batches). */
  readonly numBatchesTracked: tf.Variable;
}

export interface BatchNormOptions {
  /** Running-statistics momentum (torch default 0.1). */
  momentum?: number;
  /** Added to the variance (torch default 1e-5). */
  eps?: number;
  /**
   * Training mode only: update the running statistics (default true). Pass false when re-running a forward whose
   * statistics were already counted (e.g. a recomputation for activation checkpointing).
   */
  updateStats?: boolean;
}

/**
 * Registers `name.{weight,bias,running_mean,running_var,num_batches_tracked}` in torch state-dict order with torch's
 * initial values (γ = 1, β = 0, mean 0, var 1, count 0).
 */
export function registerBatchNorm(store: ParamStore, name: string, channels: number): BatchNormParams {
  return {
    weight: store.add(`${name}.weight`, tf.ones([channels])),
    bias: store.add(`${name}.bias`, tf.zeros([channels])),
    runningMean: store.add(`${name}.running_mean`, tf.zeros([channels]), { trainable: false }),
    runningVar: store.add(`${name}.running_var`, tf.ones([channels]), { trainable: false }),
    numBatchesTracked: store.add(`${name}.num_batches_tracked`, tf.scalar(0, 'int32'), { trainable: false }),
  };
}

/** torch `F.batch_norm` on NHWC input (any rank ≥ 2, channels last). */
export function batchNorm<T extends tf.Tensor>(
  x: T,
  p: BatchNormParams,
  training: boolean,
  opts: BatchNormOptions = {},
): T {
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  const c = x.shape[x.rank - 1];
  if (p.weight.shape[0] !== c) {
    throw new Error(
      `batchNorm: input has ${c} channels (last axis) but the BatchNorm has ${p.weight.shape[0]}`,
    );
  }
  const gamma = p.weight as tf.Tensor1D;
  const beta = p.bias as tf.Tensor1D;
  if (!training) {
    return tf.tidy(
      () => tf.batchNorm(x, p.runningMean as tf.Tensor1D, p.runningVar as tf.Tensor1D, beta, gamma, eps) as T,
    );
  }
  const axes = [...Array(x.rank - 1).keys()];
  const n = x.size / c;
  if (n < 2)
    throw new Error(
      `batchNorm: training needs more than one value per channel, got input [${x.shape.join(',')}]`,
    );
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, axes);
    if (opts.updateStats ?? true) {
      // Buffers: assign() is not recorded on the gradient tape, so no gradient flows into them.
      p.runningMean.assign(tf.add(tf.mul(p.runningMean, 1 - momentum), tf.mul(mean, momentum)));
      p.runningVar.assign(
        tf.add(tf.mul(p.runningVar, 1 - momentum), tf.mul(variance, (momentum * n) / (n - 1))),
      );
      p.numBatchesTracked.assign(tf.add(p.numBatchesTracked, tf.scalar(1, 'int32')));
    }
    return tf.batchNorm(x, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, eps) as T;
  });
}
