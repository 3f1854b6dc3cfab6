/**
 * @iqa-bench/model: HyperIQA and SMART-IQA (HyperIQA with a Swin Transformer) in TensorFlow.js, numerically identical
 * to the PyTorch original.
 *
 * The main entry builds, runs, scores, loads and saves whole models. The parts have entries of their own (package.json
 * `exports`, README "Entries"): `./swin`, `./resnet`, `./head`, `./ops`, `./weights`, and `./browser` (what runs in a
 * browser).
 */

// Configuration, presets and the model (also in ./browser)
export type {
  BackboneConfig,
  FusionMode,
  HyperHeadConfig,
  ModelConfig,
  ResNetBackboneConfig,
  SwinBackboneConfig,
} from './config.js';
export { isPresetName, presetConfig, PRESET_NAMES, type ModelPresetName } from './presets.js';
export {
  createModel,
  IqaModel,
  validateModelConfig,
  type CreateModelOptions,
  type ForwardOptions,
  type ModelOutput,
} from './model.js';
export {
  DEFAULT_MODEL_COST_LIMITS,
  estimateModelCost,
  type ModelCost,
  type ModelCostLimits,
} from './config-cost.js';
export type { Backbone, BlockMemory, ForwardContext, SeedSource, StageFeatures } from './backbone.js';
export type { TargetParams } from './head.js';
export type { AttentionImpl } from './ops/attention.js';
export { ParamStore, type ParamEntry, type TorchLayout } from './params.js';

// Scoring images: crops of one image, many images on several cores
export {
  cropOrigins,
  scoreCropOrigins,
  extractCrops,
  scoreImage,
  type CropMode,
  type ImageScore,
  type NormalizedImage,
  type ScoreImageOptions,
} from './score.js';
export {
  ScoringPool,
  type PoolImage,
  type PoolModelSource,
  type PoolScore,
  type ScoreImagesOptions,
  type ScoringPoolOptions,
} from './workers/scoring-pool.js';

// Backend selection
export {
  BackendUnavailableError,
  selectBackend,
  wasmBinaryDir,
  type BackendAttempt,
  type BackendName,
  type BackendPreference,
  type BackendSelection,
  type SelectBackendOptions,
} from './backend.js';

// Checkpoints as whole models (the file formats themselves: ./weights)
export {
  loadBackboneWeights,
  loadCheckpoint,
  loadTfjsModel,
  saveSafetensors,
  saveTfjsModel,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
} from './checkpoint.js';
export { formatLoadReport, type LoadReport } from './weights/load.js';
export { ModelFileError } from './weights/errors.js';
