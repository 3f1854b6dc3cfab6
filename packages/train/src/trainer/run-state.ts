/**
 * A run as a whole: its folder, its trainer state, and the step that opens it (resume from the checkpoint, or start
 * fresh), writing config.json and bringing metrics.jsonl to the state's length.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { lockFolder, type FolderLock } from '@iqa-bench/core/fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../config.js';
import { CONFIG_FILE, readRunConfigFileSync, writeRunConfigFileSync } from '../run-folder/config-file.js';
import {
  appendMetricsRecordSync,
  METRICS_LOG_FILE,
  truncateMetricsLogSync,
  writeMetricsLogSync,
  type MetricsRecord,
} from '../run-folder/metrics-log.js';
import { SUMMARY_FILE } from '../run-folder/summary.js';
import { parseTrainerState, TRAINER_STATE_VERSION, type TrainerState } from '../run-folder/trainer-state.js';
import { readResumePoint, type CheckpointContents } from '../run/checkpoint.js';
import { conflictWith, discardRun, finishDiscard, hashConfig } from '../run/folder.js';
import { createProgress, type ProgressSink } from '../run/progress.js';
import { initialEarlyStopping } from '../run/stats.js';
import type { WorkerRunner } from '../parallel/pool.js';
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
  /**
   * Start over: discard the run the folder holds (of this config or another; see discardRun for what is removed and
   * how) instead of resuming it or refusing it.
   */
  startOver?: boolean;
}

export interface RunContext {
  readonly opts: TrainOptions;
  readonly cfg: TrainConfig;
  readonly runDir: string;
  readonly progress: ProgressSink;
  readonly paths: { last: string; previous: string; metrics: string; config: string; summary: string };
  /** The run folder's lock (taken when the run opens, released when train() returns or throws). */
  readonly lock: FolderLock;
  /** Where the run stands; replaced at round boundaries, updated in place within a round. */
  state: TrainerState;
  /** The checkpoint the run resumed from, until the round it belongs to has taken its weights and moments. */
  resumed: CheckpointContents | null;
  /** The file `resumed` was read from (last.ckpt, or previous.ckpt when the last one was damaged). */
  resumedFrom: string | null;
  /** The data of the round trained last (of round 0 before any). */
  data: TrainingData;
  /** Round `round`'s data (built once per round; rounds with random splits draw a new split). */
  dataFor(round: number): Promise<TrainingData>;
  /**
   * Writes what opening the run decided (config.json, metrics.jsonl started or cut back to the checkpoint) the first
   * time it is called: once the first step has run, so that a run failing before it leaves a resumed folder as it was.
   */
  commit(): void;
  /** commit() has run: the folder is this run's. */
  readonly committed: boolean;
}

/** The trainer-state fields that start over with every round (no model yet, fresh early stopping and optimizer). */
export function roundStart(
  round: number,
): Omit<TrainerState, 'version' | 'configHash' | 'rounds' | 'metricsLines'> {
  return {
    round,
    epoch: 0,
    step: 0,
    globalStep: 0,
    freshRound: true,
    epochLossSum: 0,
    early: initialEarlyStopping(),
    bestSelect: null,
    lastSelect: null,
    epochsRun: 0,
    optimizer: null,
  };
}

function packageVersions(): Record<string, string> {
  const req = createRequire(import.meta.url);
  const out: Record<string, string> = {};
  for (const p of ['@iqa-bench/train', '@iqa-bench/model', '@iqa-bench/data', '@iqa-bench/metrics']) {
    try {
      out[p] = (req(`${p}/package.json`) as { version: string }).version;
    } catch {
      out[p] = 'unknown';
    }
  }
  out['@tensorflow/tfjs-core'] = tf.version_core;
  return out;
}

/** Appends a record to metrics.jsonl and counts it in the state (the checkpoint knows how long the log was). */
export function logRecord(run: RunContext, record: MetricsRecord): void {
  run.commit();
  appendMetricsRecordSync(run.paths.metrics, record);
  run.state.metricsLines += 1;
}

/**
 * Opens the run in `opts.runDir`, taking the folder's lock (a second process on the same folder is refused by the
 * first one's pid; the lock of a killed process is taken over). Finishes a start-over a crash interrupted, discards
 * the folder's run when `opts.startOver`, then resumes from checkpoints/last.ckpt when there is one (or from
 * previous.ckpt, one checkpoint back, when last.ckpt is damaged; same config only; the log loses what was written
 * after the checkpoint, to be written again identically), else starts at round 0 with an empty log (refusing a folder
 * whose config.json belongs to another config, naming the fields that differ). The files are written by `commit()`.
 */
export async function openRun(opts: TrainOptions): Promise<RunContext> {
  const cfg = opts.config;
  const { runDir } = opts;
  const progress = opts.progress ?? createProgress();
  const cache = new Map<number, TrainingData>();
  const dataFor = async (round: number): Promise<TrainingData> => {
    if (typeof opts.data !== 'function') return opts.data;
    let d = cache.get(round);
    if (!d) {
      d = await opts.data(round);
      cache.clear();
      cache.set(round, d);
    }
    return d;
  };
  const ckptDir = join(runDir, 'checkpoints');
  const paths = {
    last: join(ckptDir, 'last.ckpt'),
    previous: join(ckptDir, 'previous.ckpt'),
    metrics: join(runDir, METRICS_LOG_FILE),
    config: join(runDir, CONFIG_FILE),
    summary: join(runDir, SUMMARY_FILE),
  };
  const configHash = hashConfig(cfg);
  // One process per run folder: a second one would interleave checkpoints and logs.
  const lock = lockFolder(runDir, { what: 'run folder' });
  try {
    finishDiscard(runDir);
    if (opts.startOver) discardRun(runDir);
    const data = await dataFor(0); // after the discard: it may write round-0/split.json
    let state: TrainerState;
    let resumed: CheckpointContents | null = null;
    let resumedFrom: string | null = null;
    let startLog: () => void;
    const point = readResumePoint(paths, (c, file) => void parseTrainerState(c.state, file));
    if (point !== null) {
      resumed = point.contents;
      resumedFrom = point.file;
      state = parseTrainerState(resumed.state, point.file);
      if (state.configHash !== configHash) {
        const runConfig = existsSync(paths.config) ? readRunConfigFileSync(paths.config).config : undefined;
        throw conflictWith(runDir, state.configHash, runConfig, cfg);
      }
      for (const why of point.skipped) progress.line(`checkpoint not usable, going one back: ${why}`);
      const lines = state.metricsLines;
      startLog = () => truncateMetricsLogSync(paths.metrics, lines);
      progress.line(
        `resuming round ${state.round} epoch ${state.epoch} step ${state.step} from ${point.file}`,
      );
    } else {
      if (existsSync(paths.config)) {
        const file = readRunConfigFileSync(paths.config);
        if (file.configHash !== configHash) throw conflictWith(runDir, file.configHash, file.config, cfg);
      }
      state = { version: TRAINER_STATE_VERSION, configHash, ...roundStart(0), rounds: [], metricsLines: 0 };
      startLog = () => writeMetricsLogSync(paths.metrics, []);
    }
    const configFile = {
      config: cfg,
      configHash,
      backend: tf.getBackend(),
      packages: packageVersions(),
      data: {
        description: data.description ?? null,
        n: {
          train: data.train.ids.length,
          select: data.select.ids.length,
          test: data.test?.ids.length ?? null,
        },
      },
      environment: opts.environment ?? {},
    };
    const run: RunContext = {
      opts,
      cfg,
      runDir,
      progress,
      paths,
      lock,
      state,
      resumed,
      resumedFrom,
      data,
      dataFor,
      committed: false,
      commit() {
        if (run.committed) return;
        mkdirSync(ckptDir, { recursive: true });
        startLog();
        writeRunConfigFileSync(paths.config, configFile);
        (run as { committed: boolean }).committed = true;
      },
    };
    return run;
  } catch (err) {
    lock.release();
    throw err;
  }
}
