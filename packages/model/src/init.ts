/**
 * Seeded parameter initialisation. The builders apply the original's schemes: Swin linear weights and bias tables
 * N(0, 0.02) (timm's init, before pretrained weights replace it), LayerNorm 1 / 0; LDA and generator weights
 * kaiming_normal_ (fan_in); attention MLP N(0, 0.01) with zero biases; the patch-embedding conv, the conv1 stack and
 * the other biases PyTorch's default U(±1/√fan_in); ResNet convs N(0, √(2/(k·k·out))), BatchNorm 1 / 0.
 *
 * Every tensor gets its own tfjs seed derived from the model seed and the parameter's PyTorch name (`nameSeed` of
 * `@iqa-bench/core/seed`), so values do not depend on registration order or backend (tfjs generates seeded random values in JavaScript).
 */
import { nameSeed } from '@iqa-bench/core/seed';
import * as tf from '@tensorflow/tfjs';

export class Initializer {
  /**
   * @param seed model seed
   * @param random false: every tensor starts at zero (for weights that are loaded right away; much faster).
   */
  constructor(
    readonly seed: number,
    readonly random = true,
  ) {
    if (!Number.isInteger(seed)) throw new Error(`init seed must be an integer, got ${seed}`);
  }

  /** N(0, std²). Also stands in for timm's trunc_normal_(std=0.02, a=-2, b=2), whose bounds are ±100σ. */
  normal(name: string, shape: number[], std: number): tf.Tensor {
    if (!this.random) return tf.zeros(shape);
    return tf.randomNormal(shape, 0, std, 'float32', nameSeed(this.seed, name));
  }

  uniform(name: string, shape: number[], bound: number): tf.Tensor {
    if (!this.random) return tf.zeros(shape);
    return tf.randomUniform(shape, -bound, bound, 'float32', nameSeed(this.seed, name));
  }

  /** kaiming_normal_(mode='fan_in', nonlinearity='relu'): std = √(2 / fan_in). */
  kaimingNormal(name: string, shape: number[], fanIn: number): tf.Tensor {
    return this.normal(name, shape, Math.sqrt(2 / fanIn));
  }

  /** PyTorch's default Linear/Conv init (kaiming_uniform_ with a=√5, and the bias): U(±1/√fan_in). */
  torchDefault(name: string, shape: number[], fanIn: number): tf.Tensor {
    return this.uniform(name, shape, 1 / Math.sqrt(fanIn));
  }

  zeros(shape: number[]): tf.Tensor {
    return tf.zeros(shape);
  }

  ones(shape: number[]): tf.Tensor {
    return tf.ones(shape);
  }
}
