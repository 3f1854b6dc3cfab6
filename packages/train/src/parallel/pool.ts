/**
 * Data-parallel micro-batches over worker threads (@iqa-bench/model/workers' ReplicaPool with ./handler.ts). Each
 * worker holds a replica of the model on its own backend; before a job the main thread sends it the current parameter
 * values, micro-batch k goes to worker k mod W, and the results come back to `stepGradients`, which sums the gradients
 * (and averages the BatchNorm buffers) in micro-batch order. The result is therefore the same, bit for bit, as with one
 * thread: the worker count changes the wall time, never the numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { ReplicaError, ReplicaPool } from '@iqa-bench/model/workers';
import type { TrainConfig } from '../config.js';
import { modelConfigOf } from '../model.js';
import type { MicroJob, MicroResult, MicroRunner } from '../trainer/step.js';
import { writeBuffers } from '../trainer/values.js';
import type { TrainableModel } from '../trainer/types.js';
import type trainingHandler from './handler.js';

export interface WorkerRunner extends MicroRunner {
  /** Marks the main model's parameters as changed: they are sent to the workers before the next job. */
  paramsChanged(): void;
  close(): Promise<void>;
}

/** Names the worker in a handler's error (whose stack, the worker's, stays on the error); a crash is named already. */
function named(e: unknown): never {
  if (!(e instanceof ReplicaError) || e.workerStack === '') throw e;
  throw new Error(`training worker ${e.worker}: ${e.message}`, { cause: e });
}

/**
 * Starts `n` workers, each building `config`'s model (seed `modelSeed`; its values come from the main thread before
 * the first job), and returns a runner whose jobs they share. `model` is the main thread's model: its parameter values
 * are what the workers compute with.
 */
export async function workerRunner(
  config: TrainConfig,
  model: TrainableModel,
  n: number,
  modelSeed: number,
): Promise<WorkerRunner> {
  const pool = await ReplicaPool.start<typeof trainingHandler>({
    handler: new URL('./handler.js', import.meta.url),
    source: { config: modelConfigOf(config), seed: modelSeed },
    workers: n,
    backend: config.backend,
    name: 'training',
  }).catch(named);
  const mine = model.params.map((p) => p.name);
  if (pool.replicas.some((r) => r.params.length !== mine.length || r.params.some((x, i) => x !== mine[i]))) {
    await pool.close();
    throw new Error('training worker built a different model');
  }
  const trainable = model.params.filter((p) => p.trainable);
  let dirty = true;
  /** Sends the parameter values to every worker (once per change); jobs sent after them see them. */
  const sync = (): Promise<unknown> => {
    if (!dirty) return Promise.resolve();
    dirty = false;
    return Promise.all(
      Array.from({ length: n }, (_, w) => {
        const values = model.params.map((p) => Float32Array.from(p.variable.dataSync()));
        return pool.request(
          w,
          'params',
          values,
          values.map((v) => v.buffer as ArrayBuffer),
        );
      }),
    );
  };
  return {
    paramsChanged() {
      dirty = true;
    },
    async run(jobs: readonly MicroJob[], onResult: (k: number, r: MicroResult) => void) {
      const synced = sync();
      const ready = new Map<number, MicroResult>();
      let next = 0;
      const deliver = () => {
        while (ready.has(next)) {
          const r = ready.get(next) as MicroResult;
          ready.delete(next);
          onResult(next, r);
          next += 1;
        }
      };
      await Promise.all([
        synced,
        ...jobs.map(async (job, k) => {
          const x = job.x.slice();
          const m = await pool.request(
            k % n,
            'job',
            { ...job, x, labels: job.labels?.slice(), upstream: job.upstream?.slice() },
            [x.buffer as ArrayBuffer],
          );
          const grads =
            m.grads.length === 0
              ? null
              : new Map(
                  trainable.map((p, i) => [p.name, tf.tensor(m.grads[i], p.variable.shape, 'float32')]),
                );
          ready.set(k, {
            loss: m.loss,
            scores: m.scores,
            grads,
            buffers: m.buffers.length > 0 ? m.buffers : null,
          });
          deliver();
        }),
      ]).catch(named);
    },
    async evalScores(batches) {
      const synced = sync();
      const [, ...scores] = await Promise.all([
        synced,
        ...batches.map((b, k) => {
          const x = b.x.slice();
          return pool.request(k % n, 'eval', { x, n: b.n, size: b.size }, [x.buffer as ArrayBuffer]);
        }),
      ]).catch(named);
      return scores as Float32Array[];
    },
    setBuffers(values) {
      writeBuffers(model, values);
      dirty = true;
    },
    close: () => pool.close(),
  };
}
