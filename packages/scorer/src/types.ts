import type { RgbImage, ResizePresetName, ResizeSpec } from '@iqa-bench/data';
import type { BackendPreference, CropMode, ModelCostLimits, NormalizedImage } from '@iqa-bench/model';
import type { ReadLimits } from '@iqa-bench/model/weights';

/** What runs the model: TensorFlow.js (`@iqa-bench/model`) or onnxruntime (`@iqa-bench/onnx`). */
export type Runtime = 'tfjs' | 'onnx';

/** A runtime, or `auto`: onnx when `@iqa-bench/onnx` and `onnxruntime-node` are installed, else tfjs. */
export type RuntimePreference = Runtime | 'auto';

export interface ScorerOptions {
  /**
   * The model: a `.safetensors` file, a PyTorch `.pkl` / `.pth` / `.pt` / `.bin` (read by a safe unpickler that never
   * executes it), a TF.js model folder or its `model.json`, or an ONNX model written by `@iqa-bench/onnx` (`.onnx`).
   */
  checkpoint: string;
  /**
   * Default: `onnx` for a `.onnx` checkpoint, else `tfjs` (the reference numbers). `onnx` runs any other checkpoint
   * through its exported ONNX model, cached by content hash in `cacheDir`.
   */
  runtime?: RuntimePreference;
  /**
   * The resize before cropping: `seed` (default: the original's resize to 512×384, H × W), `native` (shorter side
   * 384), `none`, or a resize spec of `@iqa-bench/data`. Images given as `NormalizedImage` are used as they are.
   */
  preprocess?: ResizePresetName | ResizeSpec;
  /** Crops per image; the score is the mean of their scores (default 1). */
  crops?: number;
  /** `center` (default; K centre crops are one), `random` (seeded) or `grid`. */
  mode?: CropMode;
  /** Seed of the random crops: an image's crops are drawn from `${seed}/${id}` (default 0). */
  seed?: number | string;
  /** Crops per forward pass (default 8). */
  batchSize?: number;
  /**
   * tfjs: worker threads that score a list of images, each with its own backend and copy of the model (default: two
   * on a single-threaded backend from {@link POOL_MIN_IMAGES} images, else one). The scores do not depend on it.
   */
  workers?: number;
  /** Refuse images with more pixels than this (decompression-bomb guard; `@iqa-bench/data`'s default 100 M). */
  maxPixels?: number;
  /** tfjs: the TensorFlow.js backend (default `auto`). */
  backend?: BackendPreference;
  /** onnx: execution providers in order of preference (default `['cpu']`), e.g. `['cuda', 'cpu']`. */
  executionProviders?: string[];
  /** onnx: intra-op threads (default: onnxruntime's, every core). */
  intraOpThreads?: number;
  /** onnx: where exported models are cached (default `@iqa-bench/onnx`'s `defaultOnnxCacheDir()`). */
  cacheDir?: string;
  /** Size bounds of the checkpoint readers and of the model they build (for a file you trust, raise them). */
  limits?: Partial<ReadLimits & ModelCostLimits>;
  /** Receives one line per notable step (`scoring on 2 worker threads`); silent by default. */
  onLog?: (message: string) => void;
}

/** An image to score: a file path, its bytes, an RGB image (`@iqa-bench/data`'s `decodeImage`) or a model-ready one. */
export type ImageInput = string | Uint8Array | RgbImage | NormalizedImage;

export interface ScoreOptions {
  /** Keys the image's random crops (default: the path as given; `''` for bytes and images). */
  id?: string;
  /** Names bytes or an image in errors (default `<buffer>` / `<image>`). */
  name?: string;
  /** This image's resize (default: the scorer's). */
  preprocess?: ResizePresetName | ResizeSpec;
  /** This image's crops, crop mode and crops per forward pass (default: the scorer's). */
  crops?: number;
  mode?: CropMode;
  batchSize?: number;
}

/** The score of one image: the mean of its crop scores, each crop's score and top-left corner [y, x]. */
export interface ScoreResult {
  /** Mean of the crop scores. */
  score: number;
  cropScores: number[];
  /** Top-left corner [y, x] of every crop. */
  origins: [number, number][];
  /** Attention-fusion models: the softmax weights of the four backbone stages, averaged over the crops. */
  fusionWeights?: number[];
  /** Attention-fusion models on tfjs: each crop's weights of the four stages (one row per crop, each summing to 1). */
  cropFusionWeights?: number[][];
}

/** One file of a list to score: its path, and optionally the id of its random crops and its own resize. */
export interface FileJob {
  path: string;
  id?: string;
  preprocess?: ResizePresetName | ResizeSpec;
}

/** The outcome of one file, in input order: its score, or the error that kept it from being scored. */
export type FileOutcome =
  { file: string; score: ScoreResult; error?: undefined } | { file: string; score?: undefined; error: Error };

/** Reported as each file finishes (in completion order). */
export interface ScoreProgress {
  /** Files finished so far, this one included. */
  done: number;
  total: number;
  /** Index of the file in the list. */
  index: number;
  file: string;
  /** The file's error, when it could not be scored. */
  error?: Error;
}

export interface ScoreFilesOptions {
  onProgress?: (progress: ScoreProgress) => void;
  /** The resize of files that do not name their own (default: the scorer's). */
  preprocess?: ResizePresetName | ResizeSpec;
}
