/** Messages between the data-parallel runner (main thread) and its workers. */
import type { MicroJob } from '../trainer/step.js';

export type ToWorker =
  | { type: 'params'; values: Float32Array[] }
  | { type: 'job'; id: number; job: MicroJob }
  | { type: 'eval'; id: number; x: Float32Array; n: number; size: number };

export type FromWorker =
  | { type: 'ready'; backend: string; params: string[] }
  | {
      type: 'job';
      id: number;
      loss: number;
      scores: Float32Array;
      grads: Float32Array[];
      /** The buffers after a statistics-updating job, else empty. */
      buffers: Float32Array[];
    }
  | { type: 'eval'; id: number; scores: Float32Array }
  | { type: 'error'; id: number; message: string };
