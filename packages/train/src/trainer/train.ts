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
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeRunSummary, type RunSummary } from '../run-folder/summary.js';
import { isRunEntry } from '../run/folder.js';
import { trainEpoch } from './epoch.js';
import { endRound, startRound } from './round.js';
import { openRun, type RunContext, type TrainOptions } from './run-state.js';
import { summarise } from './summary.js';

export type { StepInfo, TrainOptions } from './run-state.js';

/**
 * Trains per `config` into `runDir`, resuming from `runDir/checkpoints/last.ckpt` when it exists. A run that fails
 * before its first optimizer step leaves no trace: a folder it made is removed, the run files it added to a folder
 * that existed are removed, and a run it was to resume is left as it was.
 */
export async function train(opts: TrainOptions): Promise<RunSummary> {
  const started = Date.now();
  // What the folder holds of its own (a run that starts over discards the old run's entries).
  const before = existsSync(opts.runDir)
    ? new Set(readdirSync(opts.runDir).filter((n) => !(opts.startOver && isRunEntry(n))))
    : null;
  let run: RunContext;
  try {
    run = await openRun(opts); // the checkpoint's state, or round 0; the run folder is locked until we return
  } catch (err) {
    removeTraces(opts.runDir, before, null);
    throw err;
  }
  try {
    return await trainLocked(run, started);
  } catch (err) {
    if (!run.committed) removeTraces(opts.runDir, before, run);
    throw err;
  } finally {
    run.lock.release();
  }
}

/**
 * Removes what a run that never stepped added to `runDir`: its run entries that were not there before (`before`:
 * the folder's entries then, null when there was no folder), then the folder itself when the run made it (once the
 * lock, the last entry, is released).
 */
function removeTraces(runDir: string, before: ReadonlySet<string> | null, run: RunContext | null): void {
  if (!existsSync(runDir)) return;
  for (const name of readdirSync(runDir)) {
    if (isRunEntry(name) && !before?.has(name)) rmSync(join(runDir, name), { recursive: true, force: true });
  }
  if (before !== null) return;
  run?.lock.release();
  try {
    rmdirSync(runDir); // only when empty: whatever someone else put there meanwhile stays
  } catch {
    // not empty, or gone
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
  run.commit();
  const summary = summarise(cfg, run.data, run.state.rounds, (Date.now() - started) / 1000);
  await writeRunSummary(run.paths.summary, summary);
  return summary;
}
