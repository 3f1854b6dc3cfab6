/** Messages between a ScoringPool (main thread) and its workers (worker_threads). Plain structured-clone data. */
import type { BackendPreference, BackendSelection } from '../backend.js';
import type { ModelConfig } from '../config.js';
import type { ModelPresetName } from '../presets.js';
import type { ImageScore, NormalizedImage, ScoreImageOptions } from '../score.js';
import type { StateDict } from '../weights/state-dict.js';

/** Where each worker gets its model from. */
export type PoolModelSource =
  /** A checkpoint file (safetensors / torch.save / legacy), read by every worker with loadCheckpoint. */
  | { checkpoint: string; strict?: boolean }
  /** A configuration and its weights (PyTorch names and layouts), e.g. from exportStateDict; copied to each worker. */
  | { config: ModelConfig; weights: StateDict }
  /** A freshly initialised model (benchmarks, tests). */
  | { config: ModelConfig | ModelPresetName; seed: number };

export type ToWorker =
  | { type: 'init'; source: PoolModelSource; backend: BackendPreference }
  | { type: 'score'; id: number; image: NormalizedImage; options: ScoreImageOptions }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; backend: BackendSelection; config: ModelConfig }
  | { type: 'result'; id: number; score: ImageScore; ms: number; numTensors: number }
  | { type: 'error'; id: number | null; message: string };
