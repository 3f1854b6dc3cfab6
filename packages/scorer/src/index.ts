/**
 * @iqa-bench/scorer: score images with a HyperIQA / SMART-IQA checkpoint in one call — `createScorer({ checkpoint })`,
 * then `score(file | bytes | image)`, `scoreFiles(paths)` or `scoreFolder(dir)` — on TensorFlow.js or, with the
 * optional `@iqa-bench/onnx` and `onnxruntime-node`, on onnxruntime.
 */
export { createScorer, resolveRuntime, type Scorer, type ScoringSettings } from './scorer.js';
export type {
  FileJob,
  FileOutcome,
  ImageInput,
  Runtime,
  RuntimePreference,
  ScoreFilesOptions,
  ScoreOptions,
  ScoreProgress,
  ScoreResult,
  ScorerOptions,
} from './types.js';
export { ScorerError, type ScorerErrorCode } from './errors.js';
export { describeConfig, isOnnxFile, openModel, type OpenedModel } from './checkpoint.js';
export { IMAGE_EXTENSIONS, listImages } from './images.js';
export { onnxAvailable, type OnnxModule, type OnnxSession } from './onnx.js';
export { POOL_MIN_IMAGES, workerCount } from './tfjs.js';
