/**
 * @iqa-bench/train: a seeded, deterministic, resumable training harness for IQA models in TensorFlow.js.
 * The main entry holds what the README uses: configs, `runTraining` / `train`, the data and model glue, progress.
 * Subpaths: `@iqa-bench/train/config` (the config schema, its readers and `configField`) and
 * `@iqa-bench/train/run-folder` (the run folder's formats), neither loading TensorFlow.js; `@iqa-bench/train/optim`
 * (Adam, clipping, schedules), `@iqa-bench/train/losses` and `@iqa-bench/train/steps` (micro-batch gradients,
 * worker runners, evaluation).
 */
export {
  ConfigError,
  configField,
  diffConfigs,
  formatConfigDifferences,
  fromOriginalFlags,
  loadTrainConfig,
  parseTrainConfig,
  readTrainConfigFile,
  trainConfigSchema,
  type ConfigDifference,
  type ConfigField,
  type FromOriginalOptions,
  type LossConfig,
  type LossKind,
  type OptimizerConfig,
  type OriginalFlags,
  type ScheduleConfig,
  type TrainConfig,
  type TrainConfigInput,
} from './config.js';
export { train, type StepInfo, type TrainOptions } from './trainer/train.js';
export type {
  ForwardContext,
  ImageSet,
  ModelParam,
  PatchRef,
  SeedSource,
  TrainableModel,
  TrainingData,
} from './trainer/types.js';
export { datasetRounds } from './data.js';
export {
  createProgress,
  estimateEta,
  formatDuration,
  type ProgressOptions,
  type ProgressSink,
  type RunSteps,
} from './run/progress.js';
export { checkTraining, type TrainingCheck } from './preflight.js';
export { DISCARD_DIR, isRunEntry, RunConflictError, type FolderPlan } from './run/folder.js';
export { epochBatches, minBatchSamples, type EpochBatches } from './trainer/batches.js';
export { asTrainable, buildModel, modelConfigOf } from './model.js';
export { runTraining, type RunOptions } from './run-training.js';
export type { RunSummary } from './run-folder/summary.js';
// The parts have entries of their own: ./config, ./run-folder (no TensorFlow.js), ./optim, ./losses, ./steps.
