/**
 * One optimizer step's gradients over an effective batch split into micro-batches.
 *
 * - Sample-decomposable losses (l1, l2 without the alpha term): each micro-batch k backpropagates
 *   L(p_k, y_k) * n_k / B and the gradients are summed: exactly the full-batch gradient up to float rounding.
 * - Batch-level losses (plcc, rank, fidelity, spearman, alpha > 0) do not decompose: pass 1 scores every micro-batch
 *   (training mode), the loss and dL/dp are computed on the whole batch's B scores, and pass 2 backpropagates
 *   sum(dL/dp_k . p_k) per micro-batch. Both passes draw the same dropout / drop-path seeds (a seed source per
 *   micro-batch, keyed by its coordinates), so pass 2 recomputes exactly the activations of pass 1.
 *
 * Dropout masks are drawn per micro-batch tensor, so with dropout or drop path active the masks (not just the rounding)
 * depend on the micro-batch split; with them off the result is split-independent up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';
import type { LossConfig } from '../config.js';
import { computeLoss, isSampleDecomposable } from '../losses.js';
import type { SeedSource } from '../rng.js';
import type { ForwardContext, TrainableModel } from './types.js';

export interface StepInput {
  /** NHWC float32 [B, size, size, 3]. */
  x: Float32Array;
  labels: Float32Array;
  size: number;
  microBatchSize: number;
  loss: LossConfig;
  /** Seeds of micro-batch k (a fresh source per call, replaying the same sequence). */
  seedsFor: (micro: number) => SeedSource;
  checkpointing: boolean;
}

export interface StepResult {
  loss: number;
  /** Pre-update training-mode scores of the batch (for train SRCC). */
  scores: Float32Array;
  /** Summed gradients keyed by parameter name; the caller disposes them. */
  grads: Map<string, tf.Tensor>;
}

function gradsOf(
  model: TrainableModel,
  x: tf.Tensor4D,
  ctx: ForwardContext,
  lossOfScores: (s: tf.Tensor1D) => tf.Scalar,
): { loss: number; scores: Float32Array; grads: Map<string, tf.Tensor> } {
  if (model.lossGradients) return model.lossGradients(x, ctx, lossOfScores);
  const trainable = model.params.filter((p) => p.trainable);
  const byVar = new Map(trainable.map((p) => [p.variable.name, p.name]));
  let scores = new Float32Array(0);
  const { value, grads } = tf.variableGrads(
    () => {
      const s = model.score(x, ctx);
      scores = (s.dataSync() as Float32Array).slice();
      return lossOfScores(s);
    },
    trainable.map((p) => p.variable),
  );
  const out = new Map<string, tf.Tensor>();
  for (const p of trainable) {
    const g = grads[p.variable.name];
    if (!g) throw new Error(`no gradient for parameter '${p.name}' (is it used by the forward pass?)`);
    out.set(byVar.get(p.variable.name) as string, g);
  }
  const loss = value.dataSync()[0];
  value.dispose();
  return { loss, scores, grads: out };
}

function accumulate(acc: Map<string, tf.Tensor>, add: Map<string, tf.Tensor>): void {
  for (const [name, g] of add) {
    const prev = acc.get(name);
    if (prev) {
      acc.set(name, tf.add(prev, g));
      prev.dispose();
      g.dispose();
    } else acc.set(name, g);
  }
}

function microSlices(b: number, micro: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < b; s += micro) out.push([s, Math.min(b, s + micro)]);
  return out;
}

export function batchGradients(model: TrainableModel, inp: StepInput): StepResult {
  const B = inp.labels.length;
  const per = inp.size * inp.size * 3;
  if (inp.x.length !== B * per)
    throw new Error(`batchGradients: x has ${inp.x.length} values, expected ${B * per}`);
  const slices = microSlices(B, inp.microBatchSize);
  const xOf = (s: number, e: number) =>
    tf.tensor4d(inp.x.subarray(s * per, e * per), [e - s, inp.size, inp.size, 3]);
  const acc = new Map<string, tf.Tensor>();
  const scores = new Float32Array(B);
  const blockMemory = inp.checkpointing ? 'checkpoint' : 'none';

  if (isSampleDecomposable(inp.loss)) {
    let loss = 0;
    slices.forEach(([s, e], k) => {
      const xt = xOf(s, e);
      const yt = tf.tensor1d(inp.labels.subarray(s, e));
      const w = (e - s) / B;
      const r = gradsOf(model, xt, { training: true, seeds: inp.seedsFor(k), blockMemory }, (p) =>
        tf.tidy(() => computeLoss(inp.loss, p, yt).mul(w) as tf.Scalar),
      );
      tf.dispose([xt, yt]);
      loss += r.loss;
      scores.set(r.scores, s);
      accumulate(acc, r.grads);
    });
    return { loss, scores, grads: acc };
  }

  // pass 1: scores of the whole batch
  slices.forEach(([s, e], k) => {
    const xt = xOf(s, e);
    // no gradients in pass 1: per-block tidy keeps its memory low
    const p = tf.tidy(() => model.score(xt, { training: true, seeds: inp.seedsFor(k), blockMemory: 'tidy' }));
    scores.set(p.dataSync(), s);
    tf.dispose([xt, p]);
  });
  // the batch loss and its gradient wrt the scores
  const pAll = tf.tensor1d(scores);
  const yAll = tf.tensor1d(inp.labels);
  const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => computeLoss(inp.loss, p as tf.Tensor1D, yAll))(
    pAll,
  );
  const loss = value.dataSync()[0];
  const upstream = (grad.dataSync() as Float32Array).slice();
  tf.dispose([pAll, yAll, value, grad]);
  // pass 2: backpropagate upstream . p per micro-batch, replaying the same seeds
  slices.forEach(([s, e], k) => {
    const xt = xOf(s, e);
    const u = tf.tensor1d(upstream.subarray(s, e));
    const r = gradsOf(model, xt, { training: true, seeds: inp.seedsFor(k), blockMemory }, (p) =>
      tf.tidy(() => tf.sum(p.mul(u)) as tf.Scalar),
    );
    tf.dispose([xt, u]);
    accumulate(acc, r.grads);
  });
  return { loss, scores, grads: acc };
}
