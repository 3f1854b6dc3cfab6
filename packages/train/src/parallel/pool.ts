/**
 * Data-parallel micro-batches over worker threads. Each worker holds a replica of the model on its own backend; before
 * a job the main thread sends it the current parameter values, micro-batch k goes to worker k mod W, and the results
 * come back to `stepGradients`, which sums the gradients (and averages the BatchNorm buffers) in micro-batch order. The
 * result is therefore the same, bit for bit, as with one thread: the worker count changes the wall time, never the
 * numbers.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../config.js';
import type { MicroJob, MicroResult, MicroRunner } from '../trainer/step.js';
import { writeBuffers } from '../trainer/values.js';
import type { TrainableModel } from '../trainer/types.js';
import type { FromWorker, ToWorker } from './protocol.js';

interface Pending {
  resolve: (m: FromWorker) => void;
  reject: (e: Error) => void;
}

class WorkerHandle {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  readonly ready: Promise<string[]>;

  constructor(private readonly worker: Worker) {
    this.ready = new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        reject(e);
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      };
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') return resolve(m.params);
        if (m.type === 'error' && m.id === -1) return fail(new Error(`training worker failed: ${m.message}`));
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.type === 'error') p.reject(new Error(`training worker: ${m.message}`));
        else p.resolve(m);
      });
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`training worker exited with code ${code}`)));
    });
  }

  post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  request(make: (id: number) => ToWorker, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post(make(id), transfer);
    });
  }

  async terminate(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

function startWorker(workerData: unknown): Worker {
  const js = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData });
  // running from the TypeScript sources (tests): register tsx in the worker, then import the .ts entry
  const tsx = import.meta.resolve('tsx/esm/api');
  const ts = new URL('./worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

export interface WorkerRunner extends MicroRunner {
  /** Marks the main model's parameters as changed: they are sent to the workers before the next job. */
  paramsChanged(): void;
  close(): Promise<void>;
}

/**
 * Starts `n` workers, each building `config`'s model, and returns a runner whose jobs they share. `model` is the main
 * thread's model: its parameter values are what the workers compute with.
 */
export async function workerRunner(
  config: TrainConfig,
  model: TrainableModel,
  n: number,
  modelSeed: number,
): Promise<WorkerRunner> {
  const handles = Array.from({ length: n }, () => new WorkerHandle(startWorker({ config, modelSeed })));
  try {
    const names = await Promise.all(handles.map((h) => h.ready));
    const mine = model.params.map((p) => p.name);
    for (const ns of names) {
      if (ns.length !== mine.length || ns.some((x, i) => x !== mine[i]))
        throw new Error('training worker built a different model');
    }
  } catch (err) {
    await Promise.all(handles.map((h) => h.terminate()));
    throw err;
  }
  const trainable = model.params.filter((p) => p.trainable);
  let dirty = true;
  const sync = () => {
    if (!dirty) return;
    dirty = false;
    for (const h of handles) {
      const values = model.params.map((p) => Float32Array.from(p.variable.dataSync()));
      h.post(
        { type: 'params', values },
        values.map((v) => v.buffer as ArrayBuffer),
      );
    }
  };
  return {
    paramsChanged() {
      dirty = true;
    },
    async run(jobs: readonly MicroJob[], onResult: (k: number, r: MicroResult) => void) {
      sync();
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
      await Promise.all(
        jobs.map(async (job, k) => {
          const x = job.x.slice();
          const m = await handles[k % n].request(
            (id) => ({
              type: 'job',
              id,
              job: { ...job, x, labels: job.labels?.slice(), upstream: job.upstream?.slice() },
            }),
            [x.buffer as ArrayBuffer],
          );
          if (m.type !== 'job') throw new Error(`training worker: unexpected reply '${m.type}'`);
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
      );
    },
    async evalScores(batches) {
      sync();
      return Promise.all(
        batches.map(async (b, k) => {
          const x = b.x.slice();
          const m = await handles[k % n].request(
            (id) => ({ type: 'eval', id, x, n: b.n, size: b.size }),
            [x.buffer as ArrayBuffer],
          );
          if (m.type !== 'eval') throw new Error(`training worker: unexpected reply '${m.type}'`);
          return m.scores;
        }),
      );
    },
    setBuffers(values) {
      writeBuffers(model, values);
      dirty = true;
    },
    async close() {
      await Promise.all(handles.map((h) => h.terminate()));
    },
  };
}
