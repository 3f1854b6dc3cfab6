/**
 * The ResNet stem (torchvision: the top-level `conv1`, `bn1`, `relu`, `maxpool`): conv 7×7 stride 2 pad 3 without bias
 * → BatchNorm → ReLU → max-pool 3×3 stride 2 pad 1, a quarter of the input side.
 *
 * Parameters, under `<prefix>` (HyperIQA: `res`): `conv1.weight` (torch [C, 3, 7, 7], stored [7, 7, 3, C]),
 * `bn1.{weight,bias,running_mean,running_var,num_batches_tracked}`.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../backbone.js';
import { DerivedCache } from '../derived.js';
import type { Initializer } from '../init.js';
import { type BatchNormParams, registerBatchNorm } from '../ops/batchnorm.js';
import { maxPool2d } from '../ops/pooling.js';
import type { ParamStore } from '../params.js';
import { convBn, registerConvWeight } from './conv-bn.js';

export class ResNetStem {
  private readonly conv: tf.Tensor4D;
  private readonly bn: BatchNormParams;
  /** Eval-mode conv weights with their BatchNorm folded in. */
  private readonly folded = new DerivedCache();

  /**
   * @param prefix the backbone's prefix ('' for none): torchvision names the stem's tensors at the top level.
   * @param inputGradient compute the gradient with respect to the image (otherwise zeros: nothing upstream trains).
   */
  constructor(
    store: ParamStore,
    prefix: string,
    init: Initializer,
    channels: number,
    private readonly inputGradient: boolean,
  ) {
    const name = (n: string): string => (prefix ? `${prefix}.${n}` : n);
    this.conv = registerConvWeight(store, init, name('conv1.weight'), 7, 3, channels);
    this.bn = registerBatchNorm(store, name('bn1'), channels);
  }

  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    return tf.tidy(() => {
      const y = convBn(this.folded, 'stem', x, this.conv, this.bn, {
        stride: 2,
        pad: 3,
        relu: true,
        training: ctx.training,
        updateStats: ctx.updateStats ?? true,
        inputGrad: this.inputGradient,
      });
      return maxPool2d(y, 3, 2, 1);
    });
  }

  /** Frees the folded weights (the parameters live in the ParamStore). */
  dispose(): void {
    this.folded.dispose();
  }
}
