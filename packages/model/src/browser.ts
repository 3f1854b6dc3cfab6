/**
 * `@iqa-bench/model/browser`: the part of @iqa-bench/model that runs in a browser (no Node imports anywhere in its
 * module graph): building a model from a config or a TensorFlow.js-format export (`iqa-bench export --format tfjs`,
 * or `saveTfjsModel`), scoring crops, presets. Loading PyTorch checkpoints and safetensors files, backend selection
 * and worker pools stay in the main entry (Node). Bring your own backend (`@tensorflow/tfjs` registers webgl/cpu).
 */
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
  cropOrigins,
  scoreCropOrigins,
  extractCrops,
  scoreImage,
  type CropMode,
  type ImageScore,
  type NormalizedImage,
  type ScoreImageOptions,
} from './score.js';
export { formatLoadReport, type LoadReport } from './weights/load.js';
export { checkModelConfig, MODEL_CONFIG_BOUNDS, parseModelConfig } from './weights/config-json.js';
export {
  assignTfjsWeights,
  decodeTfjsArtifacts,
  modelFromTfjsArtifacts,
  parseTfjsModelJSON,
  TFJS_FORMAT,
  tfjsModelConfig,
  type TfjsModelJSON,
} from './weights/tfjs-format.js';
export {
  DEFAULT_MODEL_COST_LIMITS,
  estimateModelCost,
  type ModelCost,
  type ModelCostLimits,
} from './config-cost.js';
export { ModelFileError } from './weights/errors.js';
