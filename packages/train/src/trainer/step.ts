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
 * The per-micro-batch work is a `MicroJob` run by a `MicroRunner`: in this thread (`localRunner`) or on worker threads
 * (src/parallel). Gradients are always summed here, in micro-batch order, so the result does not depend on which
 * thread computed which micro-batch: bit-identical for 1 or N workers.
 *
 * BatchNorm running statistics (buffers): one step updates them once, as one PyTorch forward does. Every
 * statistics-updating micro-batch (the `loss` jobs, or pass 1 of a batch-level loss; pass 2 leaves them alone) starts
 * from the buffers the step started with, returns the buffers it ends with, and the step sets the buffers to their mean
 * over the micro-batches, summed in micro-batch order: with one micro-batch exactly torch's update, with several the
 * update by the mean of the micro-batch statistics, and in every case the same numbers for 1 or N workers.
 *
 * Dropout masks are drawn per micro-batch tensor, so with dropout or drop path active the masks (not just the rounding)
 * depend on the micro-batch split; with them off the result is split-independent up to float rounding.
 */
import * as tf from '@tensorflow/tfjs';
import { RngStream, type SeedPart } from '@iqa-bench/core/seed';
import type { LossConfig } from '../config.js';
import { computeLoss, isSampleDecomposable } from '../losses.js';
import type { ForwardContext, SeedSource, TrainableModel } from './types.js';
import { bufferParams, readBuffers, writeBuffers } from './values.js';

/**
 * The seeds of one forward pass: the stream of the seed path `iqa-bench-stream/<run seed>/dropout/<path>`, keyed by
 * the pass's coordinates, so a recomputation (activation checkpointing, the second pass of a batch-level loss) replays
 * exactly the same dropout / drop-path masks.
 */
export function seedSourceFor(seed: number, ...path: readonly SeedPart[]): SeedSource {
  const stream = RngStream.fromPath('iqa-bench-stream', seed, 'dropout', ...path);
  return () => stream.seed();
}

/** One micro-batch's work; plain data so that it can be posted to a worker thread. */
export interface MicroJob {
  /** NHWC float32 [n, size, size, 3]. */
  x: Float32Array;
  n: number;
  size: number;
  /** Dropout / drop-path seeds: seedSourceFor(seed, ...seedPath, 'micro', micro). */
  seed: number;
  seedPath: (string | number)[];
  micro: number;
  checkpointing: boolean;
  /**
   * `scores`: training-mode scores only. `loss`: gradients of weight * loss(p, labels).
   * `upstream`: gradients of sum(upstream . p).
   */
  kind: 'scores' | 'loss' | 'upstream';
  labels?: Float32Array;
  loss?: LossConfig;
  weight?: number;
  upstream?: Float32Array;
}

export interface MicroResult {
  loss: number;
  scores: Float32Array;
  /** Gradients keyed by parameter name (absent for `scores` jobs); the receiver disposes them. */
  grads: Map<string, tf.Tensor> | null;
  /** The buffers after a statistics-updating job (model order), or null (no buffers, or a pass-2 job). */
  buffers: Float32Array[] | null;
}

export interface MicroRunner {
  /**
   * Runs the jobs and calls `onResult` once per job, in job order. Every statistics-updating job starts from the
   * buffers the model had when `run` was called.
   */
  run(jobs: readonly MicroJob[], onResult: (k: number, r: MicroResult) => void): Promise<void>;
  /** Eval-mode scores of NHWC batches (one array per batch, in order). */
  evalScores(batches: readonly { x: Float32Array; n: number; size: number }[]): Promise<Float32Array[]>;
  /** Sets the model's buffers (model order). */
  setBuffers(values: readonly Float32Array[]): void;
}

/** Whether a job's forward updates the BatchNorm running statistics (pass 2 re-runs pass 1's batch: it does not). */
export function updatesStats(job: Pick<MicroJob, 'kind'>): boolean {
  return job.kind !== 'upstream';
}

/** The element-wise mean of K buffer sets, summed in set order, in float32. */
function meanBuffers(sets: readonly Float32Array[][]): Float32Array[] {
  return sets[0].map((first, i) => {
    const out = Float32Array.from(first);
    for (let k = 1; k < sets.length; k++) {
      const v = sets[k][i];
      for (let j = 0; j < out.length; j++) out[j] = Math.fround(out[j] + v[j]);
    }
    for (let j = 0; j < out.length; j++) out[j] = Math.fround(out[j] / sets.length);
    return out;
  });
}

function gradsOf(
  model: TrainableModel,
  x: tf.Tensor4D,
  ctx: ForwardContext,
  lossOfScores: (s: tf.Tensor1D) => tf.Scalar,
): { loss: number; scores: Float32Array; grads: Map<string, tf.Tensor> } {
  if (model.lossGradients) return model.lossGradients(x, ctx, lossOfScores);
  const trainable = model.params.filter((p) => p.trainable);
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
    out.set(p.name, g);
  }
  const loss = value.dataSync()[0];
  value.dispose();
  return { loss, scores, grads: out };
}

function buffersAfter(model: TrainableModel, job: MicroJob): Float32Array[] | null {
  return updatesStats(job) && bufferParams(model).length > 0 ? readBuffers(model) : null;
}

/** Runs one micro-batch job on `model` in this thread (the caller sets the buffers it starts from). */
export function runMicroJob(model: TrainableModel, job: MicroJob): MicroResult {
  const xt = tf.tensor4d(job.x, [job.n, job.size, job.size, 3]);
  const seeds = seedSourceFor(job.seed, ...job.seedPath, 'micro', job.micro);
  try {
    if (job.kind === 'scores') {
      // no gradients in pass 1: per-block tidy keeps its memory low
      const p = tf.tidy(() => model.score(xt, { training: true, seeds, blockMemory: 'tidy' }));
      const scores = (p.dataSync() as Float32Array).slice();
      p.dispose();
      return { loss: 0, scores, grads: null, buffers: buffersAfter(model, job) };
    }
    const ctx: ForwardContext = {
      training: true,
      seeds,
      blockMemory: job.checkpointing ? 'checkpoint' : 'none',
      updateStats: updatesStats(job),
    };
    if (job.kind === 'loss') {
      const yt = tf.tensor1d(job.labels as Float32Array);
      try {
        const w = job.weight ?? 1;
        const r = gradsOf(model, xt, ctx, (p) =>
          tf.tidy(() => computeLoss(job.loss as LossConfig, p, yt).mul(w) as tf.Scalar),
        );
        return { ...r, buffers: buffersAfter(model, job) };
      } finally {
        yt.dispose();
      }
    }
    const u = tf.tensor1d(job.upstream as Float32Array);
    try {
      return {
        ...gradsOf(model, xt, ctx, (p) => tf.tidy(() => tf.sum(p.mul(u)) as tf.Scalar)),
        buffers: null,
      };
    } finally {
      u.dispose();
    }
  } finally {
    xt.dispose();
  }
}

/** Eval-mode scores of one NHWC batch (per-block tidy). */
export function evalScoresOf(model: TrainableModel, x: Float32Array, n: number, size: number): Float32Array {
  const xt = tf.tensor4d(x, [n, size, size, 3]);
  const p = tf.tidy(() => model.score(xt, { training: false, blockMemory: 'tidy' }));
  const v = (p.dataSync() as Float32Array).slice();
  tf.dispose([xt, p]);
  return v;
}

/** Runs micro-batch jobs on `model`, one after another, in this thread. */
export function localRunner(model: TrainableModel): MicroRunner {
  return {
    async run(jobs, onResult) {
      const start = bufferParams(model).length > 0 ? readBuffers(model) : null;
      let updated = false;
      jobs.forEach((job, k) => {
        if (start && updatesStats(job)) {
          if (updated) writeBuffers(model, start);
          updated = true;
        }
        onResult(k, runMicroJob(model, job));
      });
    },
    async evalScores(batches) {
      return batches.map((b) => evalScoresOf(model, b.x, b.n, b.size));
    },
    setBuffers(values) {
      writeBuffers(model, values);
    },
  };
}

export interface StepInput {
  /** NHWC float32 [B, size, size, 3]. */
  x: Float32Array;
  labels: Float32Array;
  size: number;
  microBatchSize: number;
  loss: LossConfig;
  /** Micro-batch k draws its seeds from seedSourceFor(seed, ...seedPath, 'micro', k). */
  seed: number;
  seedPath: (string | number)[];
  checkpointing: boolean;
}

export interface StepResult {
  loss: number;
  /** Pre-update training-mode scores of the batch (for train SRCC). */
  scores: Float32Array;
  /** Summed gradients keyed by parameter name; the caller disposes them. */
  grads: Map<string, tf.Tensor>;
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

/** The batch's loss, scores and summed gradients, the micro-batches run by `runner`. */
export async function stepGradients(runner: MicroRunner, inp: StepInput): Promise<StepResult> {
  const B = inp.labels.length;
  const per = inp.size * inp.size * 3;
  if (inp.x.length !== B * per)
    throw new Error(`stepGradients: x has ${inp.x.length} values, expected ${B * per}`);
  const slices: [number, number][] = [];
  for (let s = 0; s < B; s += inp.microBatchSize) slices.push([s, Math.min(B, s + inp.microBatchSize)]);
  const job = (k: number, kind: MicroJob['kind']): MicroJob => {
    const [s, e] = slices[k];
    return {
      x: inp.x.subarray(s * per, e * per),
      n: e - s,
      size: inp.size,
      seed: inp.seed,
      seedPath: inp.seedPath,
      micro: k,
      checkpointing: inp.checkpointing,
      kind,
    };
  };
  const acc = new Map<string, tf.Tensor>();
  const scores = new Float32Array(B);
  const bufferSets: Float32Array[][] = [];
  const keepBuffers = (r: MicroResult) => {
    if (r.buffers) bufferSets.push(r.buffers);
  };
  const settleBuffers = () => {
    if (bufferSets.length > 0) runner.setBuffers(meanBuffers(bufferSets));
  };

  if (isSampleDecomposable(inp.loss)) {
    let loss = 0;
    const jobs = slices.map(([s, e], k) => ({
      ...job(k, 'loss'),
      labels: inp.labels.subarray(s, e),
      loss: inp.loss,
      weight: (e - s) / B,
    }));
    await runner.run(jobs, (k, r) => {
      loss += r.loss;
      scores.set(r.scores, slices[k][0]);
      keepBuffers(r);
      if (r.grads) accumulate(acc, r.grads);
    });
    settleBuffers();
    return { loss, scores, grads: acc };
  }

  // pass 1: scores of the whole batch
  await runner.run(
    slices.map((_, k) => job(k, 'scores')),
    (k, r) => {
      scores.set(r.scores, slices[k][0]);
      keepBuffers(r);
    },
  );
  settleBuffers();
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
  await runner.run(
    slices.map(([s, e], k) => ({ ...job(k, 'upstream'), upstream: upstream.subarray(s, e) })),
    (_k, r) => {
      if (r.grads) accumulate(acc, r.grads);
    },
  );
  return { loss, scores, grads: acc };
}

/** stepGradients in this thread (synchronous convenience for tests and benchmarks). */
export async function batchGradients(model: TrainableModel, inp: StepInput): Promise<StepResult> {
  return stepGradients(localRunner(model), inp);
}
