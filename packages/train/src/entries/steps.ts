/**
 * `@iqa-bench/train/steps`: the pieces one optimizer step is made of — the gradients of a batch split into
 * micro-batches, on this thread (`localRunner`) or on worker threads (`workerRunner`), the seeds of a forward pass,
 * an image set of a config (`imageSet`) and its evaluation, and the median / IQR over rounds.
 */
export {
  batchGradients,
  localRunner,
  seedSourceFor,
  stepGradients,
  type MicroJob,
  type MicroResult,
  type MicroRunner,
  type StepInput,
  type StepResult,
} from '../trainer/step.js';
export { workerRunner, type WorkerRunner } from '../parallel/pool.js';
export { evaluateSet } from '../trainer/evaluate.js';
export { imageSet } from '../data.js';
export { roundStats } from '../run/stats.js';
