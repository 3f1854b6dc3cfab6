/**
 * The two things the trainer trains with, as small interfaces: a model that scores NHWC patch batches and exposes
 * named variables, and image sets that produce seeded patch batches. `@iqa-bench/model` and `@iqa-bench/data` objects
 * are adapted to them (src/trainer/adapters.ts); tests may implement them directly with small real tfjs models.
 */
import type * as tf from '@tensorflow/tfjs';

/** The model's seed contract: fresh non-zero integer seeds for tfjs random ops, in call order. */
export type SeedSource = () => number;

/** Same shape as @iqa-bench/model's ForwardContext. */
export interface ForwardContext {
  training: boolean;
  seeds?: SeedSource;
  /** 'checkpoint': per-block activation checkpointing (training); 'tidy': per-block tf.tidy (inference). */
  blockMemory?: 'none' | 'tidy' | 'checkpoint';
  /** Training mode: update BatchNorm running statistics (default true; false for a re-run of the same batch). */
  updateStats?: boolean;
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
   * Optional: value and gradients of `lossOfScores(score(x))` wrt the trainable params (keyed by name). When absent
   * the trainer uses tf.variableGrads around `score` (activation checkpointing then comes from ctx.blockMemory).
   */
  lossGradients?(
    x: tf.Tensor4D,
    ctx: ForwardContext,
    lossOfScores: (scores: tf.Tensor1D) => tf.Scalar,
  ): { loss: number; scores: Float32Array; grads: Map<string, tf.Tensor> };
  /** Writes the model's weights file (its native format, loadable for inference). */
  saveWeights?(path: string): Promise<void>;
  dispose(): void;
}

/** Patch `patch` (0-based, < patches per image) of image `image` (index within the set). */
export interface PatchRef {
  image: number;
  patch: number;
}

/**
 * A part of a dataset as a patch source (what @iqa-bench/data's PatchSampler provides). A training set cuts random
 * crops (and flips), an evaluation set its test crops; either way the crops are a pure function of
 * (the set's seed, epoch, image id, patch index), independent of batch composition and order.
 */
export interface ImageSet {
  /** Image ids (stable, for logs and manifests). */
  readonly ids: readonly string[];
  /** Training / evaluation label of each image (the scale the config chose). */
  readonly labels: ArrayLike<number>;
  /** Side of the square crops. */
  readonly patchSize: number;
  /** The crops as one contiguous NHWC float32 buffer [refs.length, S, S, 3], ImageNet-normalised, in ref order. */
  patches(refs: readonly PatchRef[], epoch: number): Promise<Float32Array>;
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
