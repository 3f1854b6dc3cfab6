import { availableParallelism } from 'node:os';
import type {
  BackendPreference,
  BackendSelection,
  ImageScore,
  IqaModel,
  ModelCostLimits,
} from '@iqa-bench/model';
import type { ReadLimits } from '@iqa-bench/model/weights';
import { openModel } from './checkpoint.js';
import type { Engine, ManyRunner } from './engine.js';
import type { ScoreResult } from './types.js';

/** Images from which the tfjs runtime uses two worker threads by default (below, starting them costs more than it saves). */
export const POOL_MIN_IMAGES = 16;

/**
 * How many worker threads score `n` images: `workers` when given, else two for many images on a single-threaded
 * backend (wasm in Node), else one.
 */
export function workerCount(workers: number | undefined, backend: BackendSelection, n: number): number {
  if (workers !== undefined) return workers;
  if (backend.threads > 1 || n < POOL_MIN_IMAGES) return 1;
  return Math.max(1, Math.min(2, availableParallelism()));
}

export interface TfjsEngineOptions {
  backend?: BackendPreference;
  workers?: number;
  limits?: Partial<ReadLimits & ModelCostLimits>;
  onLog?: (message: string) => void;
}

/** A model's ImageScore as a ScoreResult: the stage weights per crop and their mean (attention fusion). */
function result(s: ImageScore): ScoreResult {
  const r: ScoreResult = { score: s.score, cropScores: s.cropScores, origins: s.origins };
  if (s.attention && s.attention.length > 0) {
    r.fusionWeights = s.attention[0].map(
      (_, j) => s.attention!.reduce((a, row) => a + row[j], 0) / s.attention!.length,
    );
    r.cropFusionWeights = s.attention;
  }
  return r;
}

/** Selects the TensorFlow.js backend, then loads the checkpoint on it. */
export async function tfjsEngine(checkpoint: string, options: TfjsEngineOptions): Promise<Engine> {
  const m = await import('@iqa-bench/model');
  const backend = await m.selectBackend(options.backend ?? 'auto');
  const opened = await openModel(checkpoint, { limits: options.limits });
  const model: IqaModel = opened.model;
  return {
    runtime: 'tfjs',
    config: opened.config,
    description: opened.description,
    backend,
    // The stage weights of attention fusion come with the scores (the same score bytes without them).
    scoreImage: async (image, opts) => result(await m.scoreImage(model, image, { ...opts, attention: true })),
    async many(n) {
      const workers = workerCount(options.workers, backend, n);
      if (workers === 1) return null;
      // Each worker holds a copy of the model: one image per worker at a time, the same bytes as one thread.
      const pool = await m.ScoringPool.fromModel(model, { workers, backend: backend.name });
      options.onLog?.(`scoring on ${pool.size} worker threads`);
      const runner: ManyRunner = {
        async scoreImages(items, onResult) {
          const scores = await pool.scoreImages(
            (async function* () {
              for await (const item of items)
                yield { ...item, options: { ...item.options, attention: true } };
            })(),
            { transfer: true, onResult: (i, s) => onResult(i, result(s)) },
          );
          return scores.map(result);
        },
        close: () => pool.close(),
      };
      return runner;
    },
    async close() {
      model.dispose();
    },
  };
}
