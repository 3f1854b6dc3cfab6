/** One call from a config to a finished run directory: backend, data, model, training. What the CLI calls. */
import { join } from 'node:path';
import { selectBackend } from '@iqa-bench/model';
import type { TrainConfig } from './config.js';
import { datasetRounds } from './data.js';
import { buildModel } from './model.js';
import { workerRunner } from './parallel/pool.js';
import type { ProgressSink } from './run/progress.js';
import type { RunSummary } from './run-folder/summary.js';
import { train, type StepInfo } from './trainer/train.js';

export interface RunOptions {
  progress?: ProgressSink;
  onStep?: (info: StepInfo) => void;
}

/**
 * Trains `config` into `runDir` (resuming when `runDir` holds a checkpoint of the same config): selects the config's
 * backend (an explicit backend that is unavailable is an error, never a silent fallback), loads the dataset and its
 * split per round, builds the seeded model, and runs the loop.
 */
export async function runTraining(
  config: TrainConfig,
  runDir: string,
  opts: RunOptions = {},
): Promise<RunSummary> {
  const backend = await selectBackend(config.backend);
  const data = await datasetRounds(config, { manifestDir: (r) => join(runDir, `round-${r}`) });
  return train({
    config,
    runDir,
    data,
    createModel: ({ seed }) => buildModel(config, seed),
    startWorkers: (model, seed) => workerRunner(config, model, config.memory.workers, seed),
    progress: opts.progress,
    onStep: opts.onStep,
    environment: {
      backend: {
        name: backend.name,
        package: backend.package,
        reason: backend.reason,
        threads: backend.threads,
      },
    },
  });
}
