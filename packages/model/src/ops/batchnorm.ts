/**
 * BatchNorm2d with PyTorch semantics, NHWC (channels last).
 *
 * - eval: normalise with the running statistics.
 * - training: normalise with the batch statistics (biased variance), then update the running statistics in place:
 *   running_mean = (1 - momentum)·running_mean + momentum·mean, running_var likewise with the *unbiased* batch variance
 *   (n / (n - 1)), num_batches_tracked += 1; momentum 0.1 and eps 1e-5 as torch's defaults.
 *
 * Eval uses `tf.batchNorm` (one fused kernel) with explicit scale and offset: without them its gradient throws on every
 * backend (a tfjs bug). Training uses our own custom-gradient op (see trainNormOp), with the gradient through the
 * batch statistics.
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

/**
 * Per-channel sums of [N, C] as plain 2-D products with ones (XNNPACK; wasm's Sum over leading axes transposes
 * first). Two levels, N = M·K with K ≈ √N: sums of K-row blocks, then of the block sums, so each float32 accumulation
 * runs over ~√N terms instead of N (torch accumulates these statistics in double).
 */
export function channelSum(x2: tf.Tensor2D): tf.Tensor2D {
  const [n, c] = x2.shape;
  let k = Math.floor(Math.sqrt(n));
  while (n % k !== 0) k--;
  const m = n / k;
  if (k === 1 || m === 1) return tf.matMul(tf.ones([1, n]), x2);
  const blocks = tf.matMul(tf.ones([1, m]), tf.reshape(x2, [m, k * c]) as tf.Tensor2D); // [1, K·C]
  return tf.matMul(tf.ones([1, k]), tf.reshape(blocks, [k, c]) as tf.Tensor2D);
}

interface BatchStats {
  mean: tf.Tensor2D;
  variance: tf.Tensor2D;
}

/**
 * Training-mode normalisation of x2 [N, C] with its batch statistics, as one custom-gradient op with the analytic
 * gradient (dx = γ·σ⁻¹·(dy − mean(dy) − x̂·mean(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy): a few element-wise passes and
 * channel sums as 2-D products. tfjs' own batchNorm gradient tiles γ and the statistics to the input's shape, which
 * costs more than the convolutions around it. The batch mean and biased variance come out through `stats`.
 */
function trainNormOp(eps: number, stats: { out: BatchStats | null }) {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x2, gamma, beta, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const n = x2.shape[0];
    const mean = tf.div(channelSum(x2), n) as tf.Tensor2D;
    const xc = tf.sub(x2, mean);
    const variance = tf.div(channelSum(tf.square(xc) as tf.Tensor2D), n) as tf.Tensor2D;
    const invStd = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(xc, invStd);
    const value = tf.add(tf.mul(xhat, gamma), beta) as tf.Tensor2D;
    // The tape is off inside a custom op: keep() lets the statistics outlive it for the running-stat update.
    stats.out = { mean: tf.keep(mean), variance: tf.keep(variance) };
    save([xhat, invStd, gamma]);
    return {
      value,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sx, sInv, sGamma] = saved;
        const dBeta = channelSum(dy);
        const dGamma = channelSum(tf.mul(dy, sx) as tf.Tensor2D);
        const inner = tf.sub(tf.sub(dy, tf.div(dBeta, n)), tf.mul(sx, tf.div(dGamma, n)));
        const dx = tf.mul(inner, tf.mul(sInv, sGamma));
        return [dx, tf.reshape(dGamma, [-1]), tf.reshape(dBeta, [-1])];
      },
    };
  });
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
  const n = x.size / c;
  if (n < 2) {
    throw new Error(
      `batchNorm: training needs more than one value per channel, got input [${x.shape.join(',')}]`,
    );
  }
  return tf.tidy(() => {
    const stats: { out: BatchStats | null } = { out: null };
    const y2 = trainNormOp(eps, stats)(tf.reshape(x, [n, c]), gamma, beta) as tf.Tensor2D;
    const { mean, variance } = stats.out as unknown as BatchStats;
    if (opts.updateStats ?? true) {
      // Buffers: assign() is not recorded on the gradient tape, so no gradient flows into them.
      p.runningMean.assign(
        tf.add(tf.mul(p.runningMean, 1 - momentum), tf.mul(tf.reshape(mean, [c]), momentum)),
      );
      const unbiased = tf.mul(tf.reshape(variance, [c]), (momentum * n) / (n - 1));
      p.runningVar.assign(tf.add(tf.mul(p.runningVar, 1 - momentum), unbiased));
      p.numBatchesTracked.assign(tf.add(p.numBatchesTracked, tf.scalar(1, 'int32')));
    }
    tf.dispose([mean, variance]);
    return tf.reshape(y2, x.shape) as T;
  });
}
