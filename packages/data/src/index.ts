/**
 * @iqa-bench/data — IQA datasets read exactly as published, seeded splits and patches, synthetic data.
 */
export { DATASET_KEYS } from './types.js';
export type {
  DatasetKey,
  IqaDataset,
  IqaImage,
  LoadOptions,
  ScoreDirection,
  ScoreScale,
  ShippedSplit,
  SkippedImage,
} from './types.js';
export { DatasetError, formatProblem } from './errors.js';
export type { Problem, ProblemCode } from './errors.js';
export { loadDataset, verify } from './adapters/index.js';
export type { VerifyOptions, VerifyReport } from './adapters/index.js';
export { datasetKeys, detectDatasetKey, resolveDatasetKey, suggestDatasetKey } from './keys.js';
export type { DatasetKeyInfo, DatasetLayoutInfo, DetectedDataset } from './keys.js';
export {
  MIN_PART_IMAGES,
  partImages,
  randomSplit,
  randomSplits,
  readSplitManifest,
  shippedSplit,
  splitManifest,
  withValidation,
  writeSplitManifest,
} from './splits.js';
export type { RandomSplitOptions, Selection, Split, SplitManifest, ValidationOptions } from './splits.js';
export { decodeImage, toFloat32 } from './image/decode.js';
export type { DecodeOptions, RgbImage } from './image/decode.js';
export { RESIZE_PRESETS, applyResize, defaultPreset } from './image/presets.js';
// The image operations underneath (resize, crops, jitter, normalisation): `@iqa-bench/data/image`.
export type { ResizePresetName, ResizeSpec } from './image/presets.js';
export { PatchSampler } from './sampler.js';
export type { BatchOptions, PatchBatch, PatchSamplerOptions, SamplerImage } from './sampler.js';
export { DISTORTIONS, DISTORTION_LEVELS, generateSynthetic } from './synthetic.js';
export type { DistortionType, SyntheticImage, SyntheticOptions, SyntheticResult } from './synthetic.js';
