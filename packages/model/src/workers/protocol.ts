/** Messages between a ReplicaPool (main thread) and its replica workers (worker_threads). Structured-clone data. */
import type { BackendPreference, BackendSelection } from '../backend.js';
import type { ModelConfig } from '../config.js';
import type { ModelPresetName } from '../presets.js';
import type { StateDict } from '../weights/state-dict.js';

/** Where each worker gets its model from. */
export type PoolModelSource =
  /** A checkpoint file (safetensors / torch.save / legacy), read by every worker with loadCheckpoint. */
  | { checkpoint: string; strict?: boolean }
  /** A configuration and its weights (PyTorch names and layouts), e.g. from exportStateDict; copied to each worker. */
  | { config: ModelConfig; weights: StateDict }
  /** A freshly initialised model (benchmarks, tests, replicas whose weights are sent later). */
  | { config: ModelConfig | ModelPresetName; seed: number };

export type ToWorker =
  /** `handler`: the URL of the handler module whose default export serves the requests. */
  | { type: 'init'; handler: string; source: PoolModelSource; backend: BackendPreference }
  | { type: 'request'; id: number; kind: string; payload: unknown }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; backend: BackendSelection; config: ModelConfig; params: string[] }
  | { type: 'reply'; id: number; value: unknown }
  /** `id` null: the init failed. */
  | { type: 'error'; id: number | null; name: string; message: string; stack: string };
