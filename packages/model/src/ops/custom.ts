/** A typed wrapper around tf.customGrad: an op whose gradient we write ourselves (fast kernels only). */
import * as tf from '@tensorflow/tfjs';

export type GradSave = (tensors: tf.Tensor[]) => void;
export type CustomOp = (...args: tf.Tensor[]) => tf.Tensor;

export interface CustomOpResult {
  value: tf.Tensor;
  /** Gradients for every input, in order (zeros where an input needs none). */
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
}

/**
 * Wraps tf.customGrad with the inputs as an array. Inside `f` the tape is off (tfjs runs it as one kernel), so only what
 * `save` keeps survives for the backward pass.
 */
export function customOp(f: (inputs: tf.Tensor[], save: GradSave) => CustomOpResult): CustomOp {
  const fn: Parameters<typeof tf.customGrad>[0] = (...args) => {
    const save = args[args.length - 1] as GradSave;
    return f(args.slice(0, -1) as tf.Tensor[], save);
  };
  return tf.customGrad(fn) as CustomOp;
}
