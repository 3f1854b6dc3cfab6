/** The contract between backbones (Swin, ResNet) and the HyperIQA head. */
import type * as tf from '@tensorflow/tfjs';

/** Supplies fresh non-zero integer seeds for dropout / drop-path masks, in call order (derived from the run seed). */
export type SeedSource = () => number;

export interface ForwardContext {
  /** Training mode: dropout, drop path and BatchNorm batch statistics are active. */
  training: boolean;
  /** Required when training is true. */
  seeds?: SeedSource;
  /**
   * How residual blocks hold activations (see src/block-memory.ts): 'none' (default), 'tidy' (inference, per-block
   * tf.tidy) or 'checkpoint' (training, per-block activation checkpointing).
   */
  blockMemory?: BlockMemory;
  /**
   * Training mode: whether BatchNorm updates its running statistics (and num_batches_tracked). Default true; false for
   * a second forward over the same batch (e.g. the gradient pass of a batch-level loss), which must not update them
   * twice.
   */
  updateStats?: boolean;
}

export type BlockMemory = 'none' | 'tidy' | 'checkpoint';

/** Four stage maps in NHWC: [B,56,56,C0], [B,28,28,C1], [B,14,14,C2], [B,7,7,C3] for a 224 input. */
export type StageFeatures = [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];

export interface Backbone {
  /** Channels of the four stage maps. */
  readonly stageChannels: [number, number, number, number];
  /** x: NHWC float32 [B, imgSize, imgSize, 3], ImageNet-normalised. */
  forward(x: tf.Tensor4D, ctx: ForwardContext): StageFeatures;
  /** Frees constants the backbone owns (its parameters live in the ParamStore). */
  dispose?(): void;
}
