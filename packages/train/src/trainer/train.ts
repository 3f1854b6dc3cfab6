/**
 * The training loop: rounds x epochs x optimizer steps, with per-epoch evaluation, early stopping, best-weights
 * selection, atomic checkpoints and exact resume.
 *
 * Determinism: every random draw is a pure function of (run seed, round, epoch, sample / step / micro-batch index)
 * (seed paths of `@iqa-bench/core/seed`), the LR is a closed-form function of (epoch, step), and the optimizer state is checkpointed, so a
 * run resumed from any checkpoint continues exactly as the uninterrupted run.
 *
 * Run directory:
 *   config.json       resolved config, its hash, package versions, backend, data provenance
 *   metrics.jsonl     one record per epoch (train loss/SRCC, selection metrics, LRs) and per round end (test metrics)
 *   summary.json      per metric: best / final (median over rounds, IQR), n, dataset, seed — what reports and CI read
 *   checkpoints/last.ckpt                   resume point (weights + Adam moments + trainer state), replaced atomically
 *   round-<r>/best.params.ckpt              variables of the selected epoch (internal format, exact)
 *   round-<r>/best.safetensors, final.safetensors   the model's own weights files (when the model can write them)
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { RngStream, deriveSeed, shuffleInPlace } from '@iqa-bench/core/seed';
import { krcc, plcc, rmse, srcc } from '@iqa-bench/metrics';
import type { TrainConfig } from '../config.js';
import { Adam, originalParamGroups, type AdamState } from '../optim/adam.js';
import { clipGradNorm } from '../optim/clip.js';
import { appendJsonl, readJsonFile, readJsonl, writeJsonAtomic, writeJsonl } from '../run/atomic.js';
import { readCheckpoint, writeCheckpoint, type CheckpointContents } from '../run/checkpoint.js';
import { createProgress, type ProgressSink } from '../run/progress.js';
import {
  initialEarlyStopping,
  roundStats,
  updateEarlyStopping,
  type EarlyStoppingState,
  type RoundStats,
} from '../run/stats.js';
import { learningRate } from '../schedule.js';
import { localRunner, stepGradients, type MicroRunner } from './step.js';
import { assignValues } from './values.js';
import type { WorkerRunner } from '../parallel/pool.js';
import type { ImageSet, PatchRef, TrainableModel, TrainingData } from './types.js';

export const METRIC_NAMES = ['srcc', 'plcc', 'krcc', 'rmse'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type Metrics = Record<MetricName, number>;

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

export interface RoundResult {
  round: number;
  epochsRun: number;
  bestEpoch: number | null;
  /** Selection-part metrics at the best epoch and at the last epoch. */
  selectBest: Metrics;
  selectFinal: Metrics;
  /** Test-part metrics of the best and of the final weights (null when the selection part is the test part). */
  testBest: Metrics | null;
  testFinal: Metrics | null;
}

/** The `schema` tag of summary.json. */
export const SUMMARY_SCHEMA = 'iqa-bench/train-summary@1';

export interface RunSummary {
  schema: typeof SUMMARY_SCHEMA;
  /**
   * The reported numbers in the shape of an `iqa-bench/result@1` dataset entry (what `iqa-bench check` compares):
   * metrics = median over rounds of the selected (best-epoch) weights on the reported part.
   */
  datasets: {
    name: string;
    key: string;
    path: string;
    split: string;
    n: number;
    metrics: Record<MetricName, number>;
  }[];
  dataset: { kind: string; root: string; splitManifest: string | null; selectOn: 'val' | 'test' };
  seed: number;
  rounds: number;
  /** The part the reported metrics were measured on and its size. */
  reportedPart: 'test' | 'val';
  n: { train: number; select: number; test: number | null };
  selectionMetric: string;
  /** Per metric: median over rounds (and spread) of the best-epoch and final-epoch values on the reported part. */
  metrics: Record<MetricName, { best: number; final: number; bestStats: RoundStats; finalStats: RoundStats }>;
  perRound: RoundResult[];
  wallSeconds: number;
}

interface TrainerState {
  version: 1;
  configHash: string;
  round: number;
  epoch: number;
  /** Next step index within `epoch`. */
  step: number;
  /** Optimizer steps done in this round. */
  globalStep: number;
  /** No model exists yet for `round` (checkpoint written at a round boundary). */
  freshRound: boolean;
  epochLossSum: number;
  early: EarlyStoppingState;
  bestSelect: Metrics | null;
  lastSelect: Metrics | null;
  epochsRun: number;
  rounds: RoundResult[];
  metricsLines: number;
  optimizer: {
    kind: 'adam' | 'adamw';
    step: number;
    groups: { name: string; lr: number; weightDecay: number }[];
  } | null;
}

/** The trainer-state fields that start over with every round (no model yet, fresh early stopping and optimizer). */
function roundStart(round: number): Omit<TrainerState, 'version' | 'configHash' | 'rounds' | 'metricsLines'> {
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

/** Hash of everything the numbers depend on (the worker count does not change them, so a run may resume with another). */
function hashConfig(cfg: TrainConfig): string {
  const { workers: _w, ...memory } = cfg.memory;
  return createHash('sha256')
    .update(JSON.stringify({ ...cfg, memory }))
    .digest('hex');
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

/**
 * One training epoch's samples in shuffled order: sample j is patch (j mod P) of image (j div P), as the original's
 * shuffled loader over P copies of every image. The order is a Fisher–Yates shuffle of [0, n) drawn from the stream
 * of the seed path `iqa-bench-stream/<run seed>/round/<r>/epoch/<e>/order`.
 */
export function epochOrder(cfg: TrainConfig, round: number, epoch: number, nImages: number): PatchRef[] {
  const P = cfg.patches.train;
  const stream = RngStream.fromPath('iqa-bench-stream', cfg.seed, 'round', round, 'epoch', epoch, 'order');
  const order = shuffleInPlace(
    Array.from({ length: nImages * P }, (_, j) => j),
    () => stream.next(),
  );
  return order.map((j) => ({ image: Math.floor(j / P), patch: j % P }));
}

/** The seed of round `round`'s model initialisation: seed path `iqa-bench/<run seed>/round/<r>/init`. */
export function roundModelSeed(cfg: TrainConfig, round: number): number {
  return deriveSeed('iqa-bench', cfg.seed, 'round', round, 'init');
}

/** The epoch index the patch source sees: distinct for every (round, epoch), so rounds get fresh crops. */
function cropEpoch(cfg: TrainConfig, round: number, epoch: number): number {
  return round * cfg.training.epochs + epoch;
}

async function patchesOf(
  set: ImageSet,
  refs: readonly PatchRef[],
  epoch: number,
  size: number,
  what: string,
): Promise<Float32Array> {
  const x = await set.patches(refs, epoch);
  if (x.length !== refs.length * size * size * 3) {
    throw new Error(
      `${what}: patch source returned ${x.length} values for ${refs.length} crops of ${size}x${size}x3`,
    );
  }
  return x;
}

/**
 * Scores every image of `set` (mean of its test crops, eval mode) and computes the metrics against its labels.
 * Test crops do not depend on the epoch (the same crops every evaluation). With center crops one crop is scored
 * (K identical center crops would give the same mean).
 */
export async function evaluateSet(
  runner: MicroRunner,
  set: ImageSet,
  cfg: TrainConfig,
  part: string,
): Promise<{ metrics: Metrics; scores: Float64Array }> {
  const center = cfg.augmentation.testCrop === 'center';
  const K = center ? 1 : cfg.patches.test;
  const S = cfg.patches.size;
  const n = set.ids.length;
  const scores = new Float64Array(n);
  const refs: PatchRef[] = [];
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) refs.push({ image: i, patch: k });
  const chunk = Math.max(1, cfg.memory.evalBatchSize);
  const batches: PatchRef[][] = [];
  for (let s = 0; s < refs.length; s += chunk) batches.push(refs.slice(s, s + chunk));
  // a few chunks in flight at a time (one per worker), summed per image in chunk order
  const inFlight = 4;
  for (let b = 0; b < batches.length; b += inFlight) {
    const group = batches.slice(b, b + inFlight);
    const xs = await Promise.all(group.map((batch) => patchesOf(set, batch, 0, S, `evaluation (${part})`)));
    const out = await runner.evalScores(group.map((batch, i) => ({ x: xs[i], n: batch.length, size: S })));
    group.forEach((batch, i) => batch.forEach((r, j) => (scores[r.image] += out[i][j] / K)));
  }
  const labels = Float64Array.from(set.labels);
  return {
    scores,
    metrics: {
      srcc: srcc(scores, labels),
      plcc: plcc(scores, labels),
      krcc: krcc(scores, labels),
      rmse: rmse(scores, labels),
    },
  };
}

function paramsToTensors(model: TrainableModel): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
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

function formatMetrics(m: Metrics): string {
  return `srcc ${m.srcc.toFixed(4)} plcc ${m.plcc.toFixed(4)} krcc ${m.krcc.toFixed(4)}`;
}

/** Trains per `config` into `runDir`, resuming from `runDir/checkpoints/last.ckpt` when it exists. */
export async function train(opts: TrainOptions): Promise<RunSummary> {
  const cfg = opts.config;
  const started = Date.now();
  const progress = opts.progress ?? createProgress();
  const { runDir } = opts;
  const dataCache = new Map<number, TrainingData>();
  const dataFor = async (round: number): Promise<TrainingData> => {
    if (typeof opts.data !== 'function') return opts.data;
    let d = dataCache.get(round);
    if (!d) {
      d = await opts.data(round);
      dataCache.clear();
      dataCache.set(round, d);
    }
    return d;
  };
  let data = await dataFor(0);
  const ckptDir = join(runDir, 'checkpoints');
  const lastPath = join(ckptDir, 'last.ckpt');
  const metricsPath = join(runDir, 'metrics.jsonl');
  const configHash = hashConfig(cfg);
  mkdirSync(ckptDir, { recursive: true });

  let state: TrainerState;
  let resumed: CheckpointContents | null = null;
  const configPath = join(runDir, 'config.json');
  if (existsSync(lastPath)) {
    resumed = readCheckpoint(lastPath);
    state = resumed.state as TrainerState;
    if (state.version !== 1)
      throw new Error(`${lastPath}: unsupported checkpoint version ${String(state.version)}`);
    if (state.configHash !== configHash) {
      throw new Error(
        `${runDir}: the run directory holds a run of a different config (hash ${state.configHash.slice(0, 12)}, this config ${configHash.slice(0, 12)}); use a new run directory`,
      );
    }
    // drop log lines written after the checkpoint (they will be written again, identically)
    const { records } = existsSync(metricsPath) ? readJsonl(metricsPath) : { records: [] };
    writeJsonl(metricsPath, records.slice(0, state.metricsLines));
    progress.line(`resuming round ${state.round} epoch ${state.epoch} step ${state.step} from ${lastPath}`);
  } else {
    if (existsSync(configPath)) {
      const prev = readJsonFile(configPath) as { configHash?: string };
      if (prev.configHash !== configHash) {
        throw new Error(
          `${runDir}: the run directory holds a run of a different config; use a new run directory`,
        );
      }
    }
    state = { version: 1, configHash, ...roundStart(0), rounds: [], metricsLines: 0 };
    writeJsonl(metricsPath, []);
  }
  writeJsonAtomic(configPath, {
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
  });

  const B = cfg.training.batchSize;
  const S = cfg.patches.size;

  const logLine = (rec: Record<string, unknown>) => {
    appendJsonl(metricsPath, rec);
    state.metricsLines += 1;
  };

  for (; state.round < cfg.training.rounds;) {
    const r = state.round;
    data = await dataFor(r);
    const nTrain = data.train.ids.length;
    if (nTrain === 0) throw new Error(`train: the training part of round ${r} is empty`);
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
    const samplesPerEpoch = nTrain * cfg.patches.train;
    const stepsPerEpoch = Math.ceil(samplesPerEpoch / B);
    const trainLabels = Float32Array.from(data.train.labels);
    const roundDir = join(runDir, `round-${r}`);
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
    const runner: MicroRunner = workers ?? localRunner(model);
    const paramsChanged = () => workers?.paramsChanged();
    try {
      const trainable = model.params.filter((p) => p.trainable);
      const groups = originalParamGroups(
        trainable.map((p) => p.name),
        cfg.optimizer,
      );
      const baseLr = new Map(groups.map((g) => [g.name, g.lr]));
      const opt = new Adam(
        trainable.map((p) => ({ name: p.name, variable: p.variable })),
        groups,
        { kind: cfg.optimizer.kind, betas: cfg.optimizer.betas, eps: cfg.optimizer.eps },
      );
      // epoch-in-progress training predictions (train SRCC)
      let epochScores: Float32Array = new Float32Array(samplesPerEpoch);
      let epochLabels: Float32Array = new Float32Array(samplesPerEpoch);
      if (resumed && !state.freshRound) {
        loadParams(model, resumed.tensors, lastPath);
        paramsChanged();
        if (state.optimizer) {
          const moments: AdamState['moments'] = new Map();
          for (const p of trainable) {
            const m = resumed.tensors.get(`adam.m/${p.name}`);
            const v = resumed.tensors.get(`adam.v/${p.name}`);
            if (!m || !v) throw new Error(`${lastPath}: no optimizer moments for '${p.name}'`);
            moments.set(p.name, { m: m.data, v: v.data });
          }
          opt.importState({ ...state.optimizer, moments });
        }
        const es = resumed.tensors.get('f32/epochScores');
        const el = resumed.tensors.get('f32/epochLabels');
        if (es && el && es.data.length === samplesPerEpoch) {
          epochScores = es.data;
          epochLabels = el.data;
        }
      }
      resumed = null;
      state.freshRound = false;

      const saveLast = () => {
        const tensors = paramsToTensors(model);
        const st = opt.exportState();
        for (const p of trainable) {
          const mv = st.moments.get(p.name) as { m: Float32Array; v: Float32Array };
          tensors.set(`adam.m/${p.name}`, { shape: p.variable.shape, data: mv.m });
          tensors.set(`adam.v/${p.name}`, { shape: p.variable.shape, data: mv.v });
        }
        tensors.set('f32/epochScores', { shape: [samplesPerEpoch], data: epochScores });
        tensors.set('f32/epochLabels', { shape: [samplesPerEpoch], data: epochLabels });
        state.optimizer = { kind: st.kind, step: st.step, groups: st.groups };
        writeCheckpoint(lastPath, { tensors, state });
      };

      while (state.epoch < cfg.training.epochs && !state.early.stopped) {
        const e = state.epoch;
        const order = epochOrder(cfg, r, e, nTrain);
        const lrs: Record<string, number> = {};
        progress.start(`round ${r} epoch ${e + 1}/${cfg.training.epochs}`, stepsPerEpoch, state.step);
        const epochStart = Date.now();
        for (; state.step < stepsPerEpoch;) {
          const s = state.step;
          const samples = order.slice(s * B, Math.min(samplesPerEpoch, (s + 1) * B));
          const x = await patchesOf(data.train, samples, cropEpoch(cfg, r, e), S, 'training');
          const y = Float32Array.from(samples, (q) => trainLabels[q.image]);
          const res = await stepGradients(runner, {
            x,
            labels: y,
            size: S,
            microBatchSize: cfg.memory.microBatchSize,
            loss: cfg.loss,
            seed: cfg.seed,
            seedPath: ['round', r, 'epoch', e, 'step', s],
            checkpointing: cfg.memory.activationCheckpointing,
          });
          let grads = res.grads;
          if (cfg.optimizer.clipGradNorm !== null) {
            const c = clipGradNorm(grads, cfg.optimizer.clipGradNorm);
            tf.dispose([...grads.values()]);
            grads = c.grads;
          }
          for (const g of groups) {
            const lr = learningRate(cfg.schedule, {
              base: baseLr.get(g.name) as number,
              group: g.name,
              epoch: e,
              step: state.globalStep,
              epochs: cfg.training.epochs,
            });
            opt.setLr(g.name, lr);
            lrs[g.name] = lr;
          }
          opt.applyGradients(grads);
          paramsChanged();
          tf.dispose([...grads.values()]);
          epochScores.set(res.scores, s * B);
          epochLabels.set(y, s * B);
          state.epochLossSum += res.loss * samples.length;
          state.step += 1;
          state.globalStep += 1;
          progress.update(state.step, { loss: res.loss });
          const every = cfg.training.checkpointEverySteps;
          if (every > 0 && state.globalStep % every === 0 && state.step < stepsPerEpoch) saveLast();
          opts.onStep?.({
            round: r,
            epoch: e,
            step: s,
            stepsPerEpoch,
            globalStep: state.globalStep,
            loss: res.loss,
          });
        }
        progress.stop();

        // end of epoch: train SRCC on the pre-update predictions, evaluation on the selection part
        const trainSrcc = srcc(epochScores, epochLabels);
        const sel = await evaluateSet(runner, data.select, cfg, cfg.dataset.selectOn);
        const metricValue = sel.metrics[cfg.earlyStopping.metric];
        const upd = updateEarlyStopping(state.early, metricValue, e, cfg.earlyStopping);
        state.early = upd.state;
        state.lastSelect = sel.metrics;
        state.epochsRun = e + 1;
        if (upd.improved) {
          state.bestSelect = sel.metrics;
          writeCheckpoint(bestParamsPath, { tensors: paramsToTensors(model), state: { round: r, epoch: e } });
          if (model.saveWeights) await model.saveWeights(join(roundDir, 'best.safetensors'));
        }
        const rec = {
          kind: 'epoch',
          round: r,
          epoch: e + 1,
          steps: state.globalStep,
          loss: state.epochLossSum / samplesPerEpoch,
          trainSrcc,
          [cfg.dataset.selectOn]: sel.metrics,
          best: upd.improved,
          lr: lrs,
          seconds: (Date.now() - epochStart) / 1000,
        };
        logLine(rec);
        progress.line(
          `round ${r} epoch ${e + 1}: loss ${rec.loss.toFixed(4)} train srcc ${trainSrcc.toFixed(4)} ${cfg.dataset.selectOn} ${formatMetrics(sel.metrics)}${upd.improved ? ' *' : ''}`,
        );
        state.epoch += 1;
        state.step = 0;
        state.epochLossSum = 0;
        epochScores.fill(0);
        epochLabels.fill(0);
        saveLast();
      }

      // end of round: test metrics of the final and of the best weights
      let testFinal: Metrics | null = null;
      let testBest: Metrics | null = null;
      if (model.saveWeights) await model.saveWeights(join(roundDir, 'final.safetensors'));
      writeCheckpoint(join(roundDir, 'final.params.ckpt'), {
        tensors: paramsToTensors(model),
        state: { round: r },
      });
      if (data.test) {
        testFinal = (await evaluateSet(runner, data.test, cfg, 'test')).metrics;
        if (existsSync(bestParamsPath)) {
          loadParams(model, readCheckpoint(bestParamsPath).tensors, bestParamsPath);
          paramsChanged();
          testBest = (await evaluateSet(runner, data.test, cfg, 'test')).metrics;
        }
      }
      const nan: Metrics = { srcc: NaN, plcc: NaN, krcc: NaN, rmse: NaN };
      const result: RoundResult = {
        round: r,
        epochsRun: state.epochsRun,
        bestEpoch: state.early.bestEpoch === null ? null : state.early.bestEpoch + 1,
        selectBest: state.bestSelect ?? nan,
        selectFinal: state.lastSelect ?? nan,
        testBest,
        testFinal,
      };
      logLine({ kind: 'round', ...result });
      if (testBest)
        progress.line(`round ${r}: test (best epoch ${result.bestEpoch}) ${formatMetrics(testBest)}`);
      await workers?.close();
      opt.dispose();
      model.dispose();
      state = { ...state, ...roundStart(r + 1), rounds: [...state.rounds, result] };
      writeCheckpoint(lastPath, { tensors: new Map(), state });
    } catch (err) {
      await workers?.close();
      throw err;
    }
  }

  const summary = summarise(cfg, data, state.rounds, (Date.now() - started) / 1000);
  writeJsonAtomic(join(runDir, 'summary.json'), summary);
  return summary;
}

function summarise(
  cfg: TrainConfig,
  data: TrainingData,
  rounds: RoundResult[],
  wallSeconds: number,
): RunSummary {
  const useTest = rounds.every((r) => r.testBest !== null && r.testFinal !== null);
  const metrics = {} as RunSummary['metrics'];
  for (const m of METRIC_NAMES) {
    const best = rounds.map((r) => (useTest ? (r.testBest as Metrics) : r.selectBest)[m]);
    const final = rounds.map((r) => (useTest ? (r.testFinal as Metrics) : r.selectFinal)[m]);
    const bestStats = roundStats(best);
    const finalStats = roundStats(final);
    metrics[m] = { best: bestStats.median, final: finalStats.median, bestStats, finalStats };
  }
  const reportedPart = useTest ? 'test' : cfg.dataset.selectOn;
  const n = useTest ? (data.test as ImageSet).ids.length : data.select.ids.length;
  return {
    schema: SUMMARY_SCHEMA,
    datasets: [
      {
        name: cfg.dataset.kind,
        key: cfg.dataset.kind,
        path: cfg.dataset.root,
        split: reportedPart,
        n,
        metrics: Object.fromEntries(METRIC_NAMES.map((m) => [m, metrics[m].best])) as Record<
          MetricName,
          number
        >,
      },
    ],
    dataset: {
      kind: cfg.dataset.kind,
      root: cfg.dataset.root,
      splitManifest: cfg.dataset.splitManifest,
      selectOn: cfg.dataset.selectOn,
    },
    seed: cfg.seed,
    rounds: rounds.length,
    reportedPart,
    n: { train: data.train.ids.length, select: data.select.ids.length, test: data.test?.ids.length ?? null },
    selectionMetric: cfg.earlyStopping.metric,
    metrics,
    perRound: rounds,
    wallSeconds,
  };
}
