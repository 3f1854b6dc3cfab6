/** Parameter values in and out of a model's variables: the one place that writes a variable from plain numbers. */
import * as tf from '@tensorflow/tfjs';
import type { ModelParam, TrainableModel } from './types.js';

/** Assigns plain values to a parameter, in the variable's own dtype (int32 BatchNorm counters stay int32). */
export function assignValues(p: ModelParam, values: ArrayLike<number>): void {
  const t = tf.tensor(values as Float32Array, p.variable.shape, p.variable.dtype);
  p.variable.assign(t);
  t.dispose();
}

/** The model's buffers (non-trainable parameters, BatchNorm running statistics), in model order. */
export function bufferParams(model: TrainableModel): TrainableModel['params'] {
  return model.params.filter((p) => !p.trainable);
}

/** Buffer values as float32 copies (int32 counters are exact below 2^24). */
export function readBuffers(model: TrainableModel): Float32Array[] {
  return bufferParams(model).map((p) => Float32Array.from(p.variable.dataSync()));
}

/** Assigns buffer values (model order). */
export function writeBuffers(model: TrainableModel, values: readonly Float32Array[]): void {
  const params = bufferParams(model);
  if (values.length !== params.length)
    throw new Error(`writeBuffers: ${values.length} values for ${params.length} buffers`);
  params.forEach((p, i) => assignValues(p, values[i]));
}
