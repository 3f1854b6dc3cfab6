/**
 * One round of the N-round protocol: a freshly seeded model (or the checkpoint's weights and moments when the run
 * resumes inside the round), its optimizer and workers, and the round's end: final weights, test metrics of the final
 * and of the best weights, the `round` log record, and the next round's state.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deriveSeed } from '@iqa-bench/core/seed';
import type { TrainConfig } from '../config.js';
import { Adam, originalParamGroups, type AdamState, type ParamGroupSpec } from '../optim/adam.js';
import type { WorkerRunner } from '../parallel/pool.js';
import type { RoundResult, RunMetrics } from '../run-folder/summary.js';
import {
  readCheckpoint,
  writeCheckpoint,
  writeResumePoint,
  type CheckpointContents,
} from '../run/checkpoint.js';
import { epochBatches, type EpochBatches } from './batches.js';
import { evaluateSet } from './evaluate.js';
import { logRecord, roundStart, type RunContext } from './run-state.js';
import { localRunner, type MicroRunner } from './step.js';
import type { ModelParam, TrainableModel, TrainingData } from './types.js';
import { assignValues } from './values.js';

export interface RoundContext {
  readonly round: number;
  readonly data: TrainingData;
  readonly model: TrainableModel;
  readonly workers: WorkerRunner | null;
  /** Runs micro-batches and evaluations: the workers, or this thread. */
  readonly runner: MicroRunner;
  readonly trainable: readonly ModelParam[];
  readonly groups: readonly ParamGroupSpec[];
  readonly baseLr: ReadonlyMap<string, number>;
  readonly opt: Adam;
  readonly samplesPerEpoch: number;
  /** The steps of every epoch of the round (a small last batch merged or dropped for a batch-level loss). */
  readonly batches: EpochBatches;
  readonly stepsPerEpoch: number;
  readonly trainLabels: Float32Array;
  readonly roundDir: string;
  /** The variables of the best epoch so far (internal format, exact). */
  readonly bestParamsPath: string;
  /** Training-mode predictions and labels of the epoch in progress (for its train SRCC). */
  epochScores: Float32Array;
  epochLabels: Float32Array;
}

/** The seed of round `round`'s model initialisation: seed path `iqa-bench/<run seed>/round/<r>/init`. */
export function roundModelSeed(cfg: TrainConfig, round: number): number {
  return deriveSeed('iqa-bench', cfg.seed, 'round', round, 'init');
}

/** Tells the workers (if any) that the main thread's weights changed. */
export function paramsChanged(round: RoundContext): void {
  round.workers?.paramsChanged();
}

function paramsToTensors(model: TrainableModel): CheckpointContents['tensors'] {
  const out: CheckpointContents['tensors'] = new Map();
  for (const p of model.params) {
    // buffers such as BatchNorm's num_batches_tracked are int32: stored as float32 (exact below 2^24)
    const v = p.variable.dataSync();
    out.set(`param/${p.name}`, {
      shape: p.variable.shape,
      data: v instanceof Float32Array ? v : Float32Array.from(v),
    });
  }
  return out;
}

function loadParams(model: TrainableModel, tensors: CheckpointContents['tensors'], source: string): void {
  for (const p of model.params) {
    const t = tensors.get(`param/${p.name}`);
    if (!t) throw new Error(`${source}: no values for parameter '${p.name}'`);
    if (t.data.length !== p.variable.size) {
      throw new Error(
        `${source}: parameter '${p.name}' has ${t.data.length} values, expected ${p.variable.size}`,
      );
    }
    assignValues(p, t.data);
  }
}

/** Writes the model's variables (internal format, exact) to `path`, with a small state. */
export function saveParams(round: RoundContext, path: string, state: unknown): void {
  writeCheckpoint(path, { tensors: paramsToTensors(round.model), state });
}

/**
 * The resume point: every variable, the Adam moments, the epoch-in-progress predictions and the trainer state, in
 * checkpoints/last.ckpt.
 */
export function saveLast(run: RunContext, round: RoundContext): void {
  const tensors = paramsToTensors(round.model);
  const st = round.opt.exportState();
  for (const p of round.trainable) {
    const mv = st.moments.get(p.name) as { m: Float32Array; v: Float32Array };
    tensors.set(`adam.m/${p.name}`, { shape: p.variable.shape, data: mv.m });
    tensors.set(`adam.v/${p.name}`, { shape: p.variable.shape, data: mv.v });
  }
  tensors.set('f32/epochScores', { shape: [round.samplesPerEpoch], data: round.epochScores });
  tensors.set('f32/epochLabels', { shape: [round.samplesPerEpoch], data: round.epochLabels });
  run.state.optimizer = { kind: st.kind, step: st.step, groups: st.groups };
  writeResumePoint(run.paths, { tensors, state: run.state });
}

/** Checks round `r`'s data against the config: a non-empty training part, patches of the config's size. */
function checkData(cfg: TrainConfig, r: number, data: TrainingData): void {
  if (data.train.ids.length === 0) throw new Error(`train: the training part of round ${r} is empty`);
  const S = cfg.patches.size;
  for (const [name, set] of [
    ['train', data.train],
    ['select', data.select],
    ['test', data.test],
  ] as const) {
    if (set && set.patchSize !== S)
      throw new Error(
        `train: the ${name} set cuts ${set.patchSize}-pixel patches, config.patches.size is ${S}`,
      );
  }
}

/** Takes the resumed checkpoint's weights, Adam moments and epoch-in-progress predictions into the round. */
function restoreRound(run: RunContext, round: RoundContext, resumed: CheckpointContents): void {
  const { paths, state } = run;
  loadParams(round.model, resumed.tensors, run.resumedFrom ?? paths.last);
  paramsChanged(round);
  if (state.optimizer) {
    const moments: AdamState['moments'] = new Map();
    for (const p of round.trainable) {
      const m = resumed.tensors.get(`adam.m/${p.name}`);
      const v = resumed.tensors.get(`adam.v/${p.name}`);
      if (!m || !v) throw new Error(`${run.resumedFrom ?? paths.last}: no optimizer moments for '${p.name}'`);
      moments.set(p.name, { m: m.data, v: v.data });
    }
    round.opt.importState({ ...state.optimizer, moments });
  }
  const es = resumed.tensors.get('f32/epochScores');
  const el = resumed.tensors.get('f32/epochLabels');
  if (es && el && es.data.length === round.samplesPerEpoch) {
    round.epochScores = es.data;
    round.epochLabels = el.data;
  }
}

/**
 * Starts round `run.state.round`: its data, its seeded model (and worker replicas), the optimizer with the
 * original's parameter groups, and, when the run resumed inside this round, the checkpoint's state.
 */
export async function startRound(run: RunContext): Promise<RoundContext> {
  const { cfg, opts, state } = run;
  const r = state.round;
  const data = await run.dataFor(r);
  run.data = data;
  checkData(cfg, r, data);
  const samplesPerEpoch = data.train.ids.length * cfg.patches.train;
  const batches = epochBatches(cfg, samplesPerEpoch);
  const roundDir = join(run.runDir, `round-${r}`);
  mkdirSync(roundDir, { recursive: true });
  const bestParamsPath = join(roundDir, 'best.params.ckpt');
  if (state.freshRound) rmSync(bestParamsPath, { force: true });
  const modelSeed = roundModelSeed(cfg, r);
  const model = await opts.createModel({ seed: modelSeed, round: r });
  let workers: WorkerRunner | null = null;
  if (cfg.memory.workers > 1) {
    if (!opts.startWorkers)
      throw new Error('train: memory.workers > 1 needs opts.startWorkers (use runTraining)');
    workers = await opts.startWorkers(model, modelSeed);
  }
  try {
    const trainable = model.params.filter((p) => p.trainable);
    const groups = originalParamGroups(
      trainable.map((p) => p.name),
      cfg.optimizer,
    );
    const opt = new Adam(
      trainable.map((p) => ({ name: p.name, variable: p.variable })),
      groups,
      { kind: cfg.optimizer.kind, betas: cfg.optimizer.betas, eps: cfg.optimizer.eps },
    );
    const round: RoundContext = {
      round: r,
      data,
      model,
      workers,
      runner: workers ?? localRunner(model),
      trainable,
      groups,
      baseLr: new Map(groups.map((g) => [g.name, g.lr])),
      opt,
      samplesPerEpoch,
      batches,
      stepsPerEpoch: batches.bounds.length,
      trainLabels: Float32Array.from(data.train.labels),
      roundDir,
      bestParamsPath,
      epochScores: new Float32Array(samplesPerEpoch),
      epochLabels: new Float32Array(samplesPerEpoch),
    };
    if (batches.smallLast) {
      const { size, action } = batches.smallLast;
      run.progress.line(
        `round ${r}: the last batch of every epoch would have ${size} of ${cfg.training.batchSize} samples (${samplesPerEpoch} in all), too few for the ${cfg.loss.kind} loss: ${action === 'merge' ? 'merged into the previous batch' : 'dropped'} (training.smallLastBatch ${action})`,
      );
    }
    if (run.resumed && !state.freshRound) restoreRound(run, round, run.resumed);
    run.resumed = null;
    state.freshRound = false;
    return round;
  } catch (err) {
    await workers?.close();
    throw err;
  }
}

/** The correlations of a metrics record, for progress lines. */
export function formatMetrics(m: RunMetrics): string {
  return `srcc ${m.srcc.toFixed(4)} plcc ${m.plcc.toFixed(4)} krcc ${m.krcc.toFixed(4)}`;
}

/**
 * Ends the round: saves the final weights, measures the final and the best weights on the test part, logs the
 * `round` record, releases the model, and checkpoints the start of the next round.
 */
export async function endRound(run: RunContext, round: RoundContext): Promise<void> {
  const { model, data, roundDir, bestParamsPath, runner } = round;
  const { cfg, state } = run;
  const r = round.round;
  run.commit();
  let testFinal: RunMetrics | null = null;
  let testBest: RunMetrics | null = null;
  if (model.saveWeights) await model.saveWeights(join(roundDir, 'final.safetensors'));
  saveParams(round, join(roundDir, 'final.params.ckpt'), { round: r });
  if (data.test) {
    testFinal = (await evaluateSet(runner, data.test, cfg, 'test')).metrics;
    if (existsSync(bestParamsPath)) {
      loadParams(model, readCheckpoint(bestParamsPath).tensors, bestParamsPath);
      paramsChanged(round);
      testBest = (await evaluateSet(runner, data.test, cfg, 'test')).metrics;
    }
  }
  const nan: RunMetrics = { srcc: NaN, plcc: NaN, krcc: NaN, rmse: NaN };
  const result: RoundResult = {
    round: r,
    epochsRun: state.epochsRun,
    bestEpoch: state.early.bestEpoch === null ? null : state.early.bestEpoch + 1,
    selectBest: state.bestSelect ?? nan,
    selectFinal: state.lastSelect ?? nan,
    testBest,
    testFinal,
  };
  logRecord(run, { kind: 'round', ...result });
  if (testBest)
    run.progress.line(`round ${r}: test (best epoch ${result.bestEpoch}) ${formatMetrics(testBest)}`);
  await round.workers?.close();
  round.opt.dispose();
  model.dispose();
  run.state = { ...state, ...roundStart(r + 1), rounds: [...state.rounds, result] };
  writeResumePoint(run.paths, { tensors: new Map(), state: run.state });
}
