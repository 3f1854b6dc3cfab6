/**
 * The training loop: rounds x epochs x optimizer steps, with per-epoch evaluation, early stopping, best-weights
 * selection, atomic checkpoints and exact resume.
 *
 * Determinism: every random draw is a pure function of (run seed, round, epoch, sample / step / micro-batch index)
 * through the seed paths of `@iqa-bench/core/seed`, the LR is a closed-form function of (epoch, step), and the
 * optimizer state is checkpointed, so a run resumed from any checkpoint continues exactly as the uninterrupted run.
 *
 * Run directory (formats in src/run-folder):
 *   config.json       resolved config, its hash, package versions, backend, data provenance
 *   metrics.jsonl     one record per epoch (train loss/SRCC, selection metrics, LRs) and per round end (test metrics)
 *   summary.json      per metric: best / final (median over rounds, IQR), n, dataset, seed — what reports and CI read
 *   checkpoints/last.ckpt                   resume point (weights + Adam moments + trainer state), replaced atomically
 *   round-<r>/best.params.ckpt              variables of the selected epoch (internal format, exact)
 *   round-<r>/best.safetensors, final.safetensors   the model's own weights files (when the model can write them)
 */
import type { TrainConfig } from '../config.js';
import { writeRunSummary, type RunSummary } from '../run-folder/summary.js';
import type { ProgressSink } from '../run/progress.js';
import type { WorkerRunner } from '../parallel/pool.js';
import { trainEpoch } from './epoch.js';
import { endRound, startRound } from './round.js';
import { openRun, type RunContext } from './run-state.js';
import { summarise } from './summary.js';
import type { TrainableModel, TrainingData } from './types.js';

export interface StepInfo {
  round: number;
  epoch: number;
  /** Step index within the epoch (0-based) just completed. */
  step: number;
  stepsPerEpoch: number;
  /** Optimizer steps completed in this round. */
  globalStep: number;
  loss: number;
}

export interface TrainOptions {
  config: TrainConfig;
  runDir: string;
  /** The data, or a factory of each round's data (rounds with random splits draw a new split). */
  data: TrainingData | ((round: number) => TrainingData | Promise<TrainingData>);
  /** Builds round `round`'s model with its seeded initialisation (`seed` derives from the run seed). */
  createModel: (ctx: { seed: number; round: number }) => TrainableModel | Promise<TrainableModel>;
  progress?: ProgressSink;
  /** Extra facts recorded in config.json (e.g. what the backend selection reported). */
  environment?: Record<string, unknown>;
  /** Called after every optimizer step (after any checkpoint of that step). */
  onStep?: (info: StepInfo) => void;
  /**
   * Starts worker threads for `memory.workers` > 1 (replicas of round `modelSeed`'s model; see src/parallel).
   * runTraining provides it; without it only 1 worker is possible.
   */
  startWorkers?: (model: TrainableModel, modelSeed: number) => Promise<WorkerRunner>;
}

/** Trains per `config` into `runDir`, resuming from `runDir/checkpoints/last.ckpt` when it exists. */
export async function train(opts: TrainOptions): Promise<RunSummary> {
  const started = Date.now();
  const run = await openRun(opts); // the checkpoint's state, or round 0; the run folder is locked until we return
  try {
    return await trainLocked(run, started);
  } finally {
    run.lock.release();
  }
}

async function trainLocked(run: RunContext, started: number): Promise<RunSummary> {
  const { cfg } = run;
  while (run.state.round < cfg.training.rounds) {
    const round = await startRound(run); // a seeded model, or the checkpoint's weights and moments
    try {
      while (run.state.epoch < cfg.training.epochs && !run.state.early.stopped) await trainEpoch(run, round);
      await endRound(run, round); // test metrics of the final and best weights; the next round's state
    } catch (err) {
      await round.workers?.close();
      throw err;
    }
  }
  const summary = summarise(cfg, run.data, run.state.rounds, (Date.now() - started) / 1000);
  await writeRunSummary(run.paths.summary, summary);
  return summary;
}
