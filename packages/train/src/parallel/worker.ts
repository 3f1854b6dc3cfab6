/**
 * Worker-thread side of the data-parallel runner: builds its own replica of the model on its own backend (wasm in Node
 * is single-threaded, so a second worker uses the second core), receives the current parameter values, runs
 * micro-batch jobs and returns their gradients (and the buffers a job ends with) as float32 arrays. It never updates
 * parameters itself.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@iqa-bench/model';
import { parseTrainConfig } from '../config.js';
import { buildModel } from '../model.js';
import { evalScoresOf, runMicroJob, updatesStats, type MicroJob } from '../trainer/step.js';
import { assignValues, writeBuffers } from '../trainer/values.js';
import type { FromWorker, ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('parallel/worker: must run as a worker thread');
const { config, modelSeed } = workerData as { config: unknown; modelSeed: number };
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  const cfg = parseTrainConfig(config, 'worker config');
  await selectBackend(cfg.backend);
  const model = await buildModel(cfg, modelSeed);
  const trainable = model.params.filter((p) => p.trainable);
  // The buffers of the last parameter message: every statistics-updating job starts from them (step.ts).
  let startBuffers: Float32Array[] = [];
  port.on('message', (msg: ToWorker) => {
    try {
      if (msg.type === 'params') {
        model.params.forEach((p, i) => assignValues(p, msg.values[i]));
        startBuffers = model.params.flatMap((p, i) => (p.trainable ? [] : [msg.values[i]]));
        return;
      }
      if (msg.type === 'job') {
        const job = msg.job as MicroJob;
        if (startBuffers.length > 0 && updatesStats(job)) writeBuffers(model, startBuffers);
        const r = runMicroJob(model, job);
        const grads = r.grads
          ? trainable.map((p) => (r.grads?.get(p.name) as tf.Tensor).dataSync() as Float32Array)
          : [];
        if (r.grads) tf.dispose([...r.grads.values()]);
        const buffers = r.buffers ?? [];
        post({ type: 'job', id: msg.id, loss: r.loss, scores: r.scores, grads, buffers }, [
          r.scores.buffer as ArrayBuffer,
          ...grads.map((g) => g.buffer as ArrayBuffer),
          ...buffers.map((b) => b.buffer as ArrayBuffer),
        ]);
        return;
      }
      const scores = evalScoresOf(model, msg.x, msg.n, msg.size);
      post({ type: 'eval', id: msg.id, scores }, [scores.buffer as ArrayBuffer]);
    } catch (err) {
      post({
        type: 'error',
        id: 'id' in msg ? msg.id : -1,
        message: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
    }
  });
  post({ type: 'ready', backend: tf.getBackend(), params: model.params.map((p) => p.name) });
} catch (err) {
  post({ type: 'error', id: -1, message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}
