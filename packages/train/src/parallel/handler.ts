/**
 * The requests a data-parallel training worker serves (loaded by @iqa-bench/model/workers' generic worker, which has
 * selected the worker's backend and built its model replica). The replica receives the current parameter values, runs
 * micro-batch jobs and returns their gradients (and the buffers a job ends with) as float32 arrays, and scores eval
 * batches. It never updates parameters itself.
 */
import * as tf from '@tensorflow/tfjs';
import type { IqaModel } from '@iqa-bench/model';
import { defineReplicaHandler, withTransfer } from '@iqa-bench/model/workers';
import { asTrainable } from '../model.js';
import { evalScoresOf, runMicroJob, updatesStats, type MicroJob } from '../trainer/step.js';
import { assignValues, writeBuffers } from '../trainer/values.js';
import type { TrainableModel } from '../trainer/types.js';

interface Replica {
  model: TrainableModel;
  /** The buffers of the last parameter message: every statistics-updating job starts from them (step.ts). */
  startBuffers: Float32Array[];
}

export interface JobReply {
  loss: number;
  scores: Float32Array;
  /** One per trainable parameter in order; empty for a job without gradients. */
  grads: Float32Array[];
  /** The buffers after a statistics-updating job, else empty. */
  buffers: Float32Array[];
}

export default defineReplicaHandler({
  setup: (model: IqaModel): Replica => ({ model: asTrainable(model), startBuffers: [] }),
  requests: {
    /** Every parameter's values, in the model's order. */
    params(r: Replica, values: Float32Array[]): null {
      r.model.params.forEach((p, i) => assignValues(p, values[i]));
      r.startBuffers = r.model.params.flatMap((p, i) => (p.trainable ? [] : [values[i]]));
      return null;
    },
    job(r: Replica, job: MicroJob) {
      if (r.startBuffers.length > 0 && updatesStats(job)) writeBuffers(r.model, r.startBuffers);
      const out = runMicroJob(r.model, job);
      const grads = out.grads
        ? r.model.params
            .filter((p) => p.trainable)
            .map((p) => (out.grads?.get(p.name) as tf.Tensor).dataSync() as Float32Array)
        : [];
      if (out.grads) tf.dispose([...out.grads.values()]);
      const buffers = out.buffers ?? [];
      const reply: JobReply = { loss: out.loss, scores: out.scores, grads, buffers };
      return withTransfer(
        reply,
        [out.scores, ...grads, ...buffers].map((a) => a.buffer as ArrayBuffer),
      );
    },
    eval(r: Replica, b: { x: Float32Array; n: number; size: number }) {
      const scores = evalScoresOf(r.model, b.x, b.n, b.size);
      return withTransfer(scores, [scores.buffer as ArrayBuffer]);
    },
  },
});
