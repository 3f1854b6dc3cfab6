/**
 * @iqa-bench/onnx: HyperIQA and SMART-IQA models built by @iqa-bench/model as ONNX graphs, scored by onnxruntime with the
 * same numbers as the TensorFlow.js model.
 */
export {
  BATCH_DIM,
  EXPORTER_VERSION,
  exportOnnx,
  FUSION_WEIGHTS_OUTPUT,
  INPUT_NAME,
  inputDescription,
  METADATA_KEYS,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  PRODUCER_NAME,
  PRODUCER_VERSION,
  SCORE_OUTPUT,
  writeOnnx,
  type ExportOptions,
} from './export.js';

// Scoring with onnxruntime-node (an optional peer dependency)
export { OnnxModelError } from './errors.js';
export { MAX_ONNX_BYTES, onnxRuntimeAvailable, openOnnxScorer, type OnnxScorerOptions } from './runtime.js';
export type { OnnxImageScore, OnnxScorer, ScoreImagesOptions, ScoreItem } from './scorer-core.js';
export { readModelInfo, type OnnxModelInfo } from './model-info.js';

// The export cache
export {
  cacheEntryName,
  defaultOnnxCacheDir,
  exportCached,
  type ExportCachedOptions,
  type ExportCachedResult,
} from './cache.js';
