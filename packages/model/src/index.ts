/**
 * @iqa-bench/model: HyperIQA and SMART-IQA (HyperIQA with a Swin Transformer) in TensorFlow.js, numerically identical
 * to the PyTorch original (seed-spec section 1).
 */
export const PACKAGE_NAME = '@iqa-bench/model';

// Everything that also runs in a browser (src/browser.ts, the `./browser` entry): configuration and presets, the
// model, scoring crops, the TensorFlow.js-format reader
export * from './browser.js';

// The model's parts
export type { Backbone, BlockMemory, ForwardContext, SeedSource, StageFeatures } from './backbone.js';
export { ParamStore, type ParamEntry, type TorchLayout } from './params.js';
export { HyperHead, TARGET_NET_SCOPE, type HeadOutput, type TargetParams } from './head.js';
export { createSwinBackbone, SwinBackbone, type SwinBackboneOptions } from './swin/backbone.js';
export { dropPathSchedule, swinStageGeometry, type SwinStageGeometry } from './swin/geometry.js';
export type { AttentionImpl } from './ops/attention.js';

// Building blocks with fast-path gradients (for custom heads and training code)
export { linear, matMul2d, type LinearOptions } from './ops/linear.js';
export { dropout, dropPath, gelu, layerNorm } from './ops/nn.js';

// ResNet-50 backbone (HyperIQA), backend selection, conv/BN/pool ops with fast wasm gradients
export {
  createResNetBackbone,
  ResNetBackbone,
  resnetParamCount,
  resnetStageSizes,
  validateResNetConfig,
  type ResNetBackboneOptions,
} from './resnet/backbone.js';
export { RESNET_EXPANSION } from './resnet/bottleneck.js';
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
export { conv2d, convOutSize, type Conv2dOptions } from './ops/conv.js';
export {
  batchNorm,
  registerBatchNorm,
  type BatchNormOptions,
  type BatchNormParams,
} from './ops/batchnorm.js';
export { adaptiveAvgPool2d, avgPool2d, globalAvgPool, maxPool2d } from './ops/pooling.js';

// Weights and checkpoints: safetensors (native), PyTorch torch.save zip / legacy (safe allow-list unpickler),
// architecture inference, ImageNet backbones, TensorFlow.js format
export {
  loadBackboneWeights,
  loadCheckpoint,
  loadTfjsModel,
  saveSafetensors,
  saveTfjsModel,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
} from './checkpoint.js';
export {
  parseWeights,
  readWeights,
  STATE_DICT_WRAPPERS,
  type WeightsFile,
  type WeightsFormat,
} from './weights/read.js';
export {
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  writeSafetensors,
  type SafetensorsContents,
} from './weights/safetensors.js';
export type { DType, StateDict, TensorData } from './weights/state-dict.js';
export { exportStateDict, loadStateDict, type LoadOptions } from './weights/load.js';
export { inferConfig, type InferOptions, type ShapeMap } from './weights/infer.js';
export {
  loadPretrainedBackbone,
  mapPretrained,
  type MappedBackbone,
  type PretrainedKind,
} from './weights/pretrained.js';
export { configFromMetadata, configMetadata } from './weights/config-json.js';
export { encodeTfjsModel } from './weights/tfjs-format.js';
export type { ReadLimits } from './weights/torch-pickle.js';

// Scoring many images on several cores (worker_threads, one backend each)
export {
  ScoringPool,
  type PoolImage,
  type PoolModelSource,
  type PoolScore,
  type ScoreImagesOptions,
  type ScoringPoolOptions,
} from './workers/scoring-pool.js';
