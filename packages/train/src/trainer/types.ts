/**
 * The two things the trainer trains with, as small interfaces: a model that scores NHWC patch batches and exposes
 * named variables, and image sets that produce seeded patch batches. `@iqa-bench/model` and `@iqa-bench/data` objects
 * are adapted to them (src/trainer/adapters.ts); tests may implement them directly with small real tfjs models.
 */
import type * as tf from '@tensorflow/tfjs';
import type { SeedSource } from '../rng.js';

/** Same shape as @iqa-bench/model's ForwardContext. */
export interface ForwardContext {
  training: boolean;
  seeds?: SeedSource;
}

export interface ModelParam {
  /** Stable name (PyTorch state-dict key); optimizer state and checkpoints are keyed by it. */
  readonly name: string;
  readonly variable: tf.Variable;
  /** false for buffers (BatchNorm running statistics): saved in checkpoints, never optimized. */
  readonly trainable: boolean;
}

export interface TrainableModel {
  /** Every variable in a fixed order (registration order). */
  readonly params: readonly ModelParam[];
  /** Quality scores [B] for an NHWC float32 batch [B, S, S, 3]. */
  score(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor1D;
  /**
   * Optional: value and gradients of `lossOfScores(score(x))` wrt the trainable params (keyed by name), e.g. with
   * per-block activation checkpointing. When absent the trainer uses tf.variableGrads around `score`.
   */
  lossGradients?(
    x: tf.Tensor4D,
    ctx: ForwardContext,
    lossOfScores: (scores: tf.Tensor1D) => tf.Scalar,
    checkpointing: boolean,
  ): { loss: number; scores: Float32Array; grads: Map<string, tf.Tensor> };
  /** Writes the model's weights file (its native format, loadable for inference). */
  saveWeights?(path: string): Promise<void>;
  dispose(): void;
}

/** One crop to cut: image index within the set, a seed for its position, and whether to flip it. */
export interface PatchRequest {
  image: number;
  /** Non-zero seed: the same seed always gives the same crop of the same image. */
  seed: number;
  crop: 'random' | 'center';
  flip: boolean;
}

export interface ImageSet {
  /** Image ids (stable, for logs and manifests). */
  readonly ids: readonly string[];
  /** Training / evaluation label of each image (the scale the config chose). */
  readonly labels: ArrayLike<number>;
  /**
   * The crops as one contiguous NHWC float32 buffer [n, size, size, 3], ImageNet-normalised, in request order.
   * Must be a pure function of the requests.
   */
  patches(requests: readonly PatchRequest[], size: number): Promise<Float32Array>;
}

export interface TrainingData {
  train: ImageSet;
  /** Selects the best epoch and drives early stopping (validation, or test for the original's protocol). */
  select: ImageSet;
  /** Reported with the selected weights at the end of a round (absent when select is the test set). */
  test?: ImageSet;
  /** Split provenance (manifest path / hash), copied into config.json and summary.json. */
  description?: Record<string, unknown>;
}
