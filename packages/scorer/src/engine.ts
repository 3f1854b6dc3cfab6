import type { BackendSelection, ModelConfig, NormalizedImage, ScoreImageOptions } from '@iqa-bench/model';
import type { Runtime, ScoreResult } from './types.js';

/** One image for a runner that scores many. */
export interface EngineItem {
  image: NormalizedImage;
  options: ScoreImageOptions;
  /** Named in errors. */
  name: string;
}

/** Scores a stream of images (on worker threads, or batching crops across images), results in input order. */
export interface ManyRunner {
  scoreImages(
    items: AsyncIterable<EngineItem>,
    onResult: (index: number, score: ScoreResult) => void,
  ): Promise<ScoreResult[]>;
  close(): Promise<void>;
}

/** What a runtime provides to the scorer. */
export interface Engine {
  readonly runtime: Runtime;
  readonly config: ModelConfig;
  /** What was loaded, in one line (without the checkpoint's name). */
  readonly description: string;
  /** tfjs: the backend selection. */
  readonly backend?: BackendSelection;
  /** onnx: the execution providers of the session, and the .onnx file it runs. */
  readonly executionProviders?: string[];
  readonly onnxFile?: string;
  /**
   * The model runs synchronously on the main thread (onnxruntime-node): a list of images is prepared on another
   * thread, or nothing would be prepared while a batch runs.
   */
  readonly blocksMainThread?: boolean;
  scoreImage(image: NormalizedImage, options: ScoreImageOptions): Promise<ScoreResult>;
  /** A runner for a list of `n` images, or null to score them one at a time with scoreImage. */
  many(n: number): Promise<ManyRunner | null>;
  close(): Promise<void>;
}
