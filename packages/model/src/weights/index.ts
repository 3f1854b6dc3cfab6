/**
 * `@iqa-bench/model/weights`: weights files and state dicts without building a model from them. Reading safetensors
 * and PyTorch `torch.save` files (safe allow-list unpickler), writing safetensors, loading a state dict into a model's
 * ParamStore and exporting it, inferring the architecture from shapes, ImageNet backbone weights, the config stored in
 * our files' metadata and the TensorFlow.js weights format.
 */
export {
  parseWeights,
  readWeights,
  STATE_DICT_WRAPPERS,
  type WeightsFile,
  type WeightsFormat,
} from './read.js';
export {
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  writeSafetensors,
  type SafetensorsContents,
} from './safetensors.js';
export type { DType, StateDict, TensorData } from './state-dict.js';
export { DEFAULT_READ_LIMITS, VIEW_BUDGET_FLOOR, type ReadLimits } from './torch-pickle.js';
export { exportStateDict, loadStateDict, type LoadOptions } from './load.js';
export { inferConfig, type InferOptions, type ShapeMap } from './infer.js';
export {
  checkModelConfig,
  configFromMetadata,
  configMetadata,
  MODEL_CONFIG_BOUNDS,
  parseModelConfig,
} from './config-json.js';
export { readTfjsFolder, type ReadTfjsFolderOptions, type TfjsFolder } from './tfjs-folder.js';
export {
  loadPretrainedBackbone,
  mapPretrained,
  type MappedBackbone,
  type PretrainedKind,
} from './pretrained.js';
export {
  assignTfjsWeights,
  decodeTfjsArtifacts,
  encodeTfjsModel,
  type EncodeTfjsOptions,
  modelFromTfjsArtifacts,
  parseTfjsModelJSON,
  TFJS_FORMAT,
  tfjsModelConfig,
  type TfjsModelJSON,
} from './tfjs-format.js';
