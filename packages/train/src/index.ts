/**
 * @iqa-bench/train: a seeded, deterministic, resumable training harness for IQA models in TensorFlow.js.
 * Subpaths that do not load TensorFlow.js: `@iqa-bench/train/config` (the config schema, its readers and
 * `configField`) and `@iqa-bench/train/run-folder` (the run folder's formats).
 */
export {
  ConfigError,
  configField,
  fromOriginalFlags,
  loadTrainConfig,
  parseTrainConfig,
  readTrainConfigFile,
  trainConfigSchema,
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
export {
  Adam,
  originalParamGroups,
  type AdamOptions,
  type AdamState,
  type NamedVariable,
  type ParamGroupSpec,
} from './optim/adam.js';
export { clipGradNorm } from './optim/clip.js';
export { learningRate, type LrQuery } from './schedule.js';
export {
  averageRanks,
  computeLoss,
  fidelityLoss,
  isSampleDecomposable,
  l1Loss,
  l2Loss,
  marginRankingLoss,
  plccLoss,
  rankLoss,
  spearmanLoss,
} from './losses.js';
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
} from './trainer/step.js';
export { workerRunner, type WorkerRunner } from './parallel/pool.js';
export { train, type StepInfo, type TrainOptions } from './trainer/train.js';
export { evaluateSet } from './trainer/evaluate.js';
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
export { createProgress, type ProgressOptions, type ProgressSink } from './run/progress.js';
export { roundStats } from './run/stats.js';
export { asTrainable, buildModel, modelConfigOf } from './model.js';
export { runTraining, type RunOptions } from './run-training.js';
// The run folder's formats (also `@iqa-bench/train/run-folder`, which does not load TensorFlow.js).
export * from './run-folder/index.js';
