/** One call from a config to a finished run directory: backend, data, model, training. What the CLI calls. */
import { join } from 'node:path';
import type { TrainConfig } from './config.js';
import { roundsOf } from './data.js';
import { buildModel } from './model.js';
import { workerRunner } from './parallel/pool.js';
import { prepareTraining } from './preflight.js';
import type { ProgressSink } from './run/progress.js';
import type { RunSummary } from './run-folder/summary.js';
import { train, type StepInfo } from './trainer/train.js';

export interface RunOptions {
  progress?: ProgressSink;
  onStep?: (info: StepInfo) => void;
  /** Discard the run the folder holds (see `train`'s `startOver`) instead of resuming or refusing it. */
  startOver?: boolean;
}

/**
 * Trains `config` into `runDir` (resuming when `runDir` holds a checkpoint of the same config). First everything
 * `checkTraining` checks, before anything is written: the model, the run folder, the config's backend (an explicit
 * backend that is unavailable is an error, never a silent fallback), the dataset and every round's split. Then the
 * seeded model and the loop; a failure before the first step leaves no run folder behind.
 */
export async function runTraining(
  config: TrainConfig,
  runDir: string,
  opts: RunOptions = {},
): Promise<RunSummary> {
  const { check, dataset } = await prepareTraining(config, runDir, { startOver: opts.startOver });
  const { backend } = check;
  return train({
    config,
    runDir,
    data: roundsOf(config, dataset, { manifestDir: (r) => join(runDir, `round-${r}`) }),
    createModel: ({ seed }) => buildModel(config, seed),
    startWorkers: (model, seed) => workerRunner(config, model, config.memory.workers, seed),
    progress: opts.progress,
    onStep: opts.onStep,
    startOver: opts.startOver,
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
