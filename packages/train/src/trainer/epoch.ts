/**
 * One epoch: the optimizer steps over the epoch's shuffled samples, then its evaluation on the selection part, early
 * stopping, the best weights, the `epoch` log record and a checkpoint.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { RngStream, shuffleInPlace } from '@iqa-bench/core/seed';
import { srcc } from '@iqa-bench/metrics';
import type { TrainConfig } from '../config.js';
import { clipGradNorm } from '../optim/clip.js';
import type { EpochRecord } from '../run-folder/metrics-log.js';
import { updateEarlyStopping } from '../run/stats.js';
import { learningRate } from '../schedule.js';
import { evaluateSet, patchesOf } from './evaluate.js';
import { formatMetrics, paramsChanged, saveLast, saveParams, type RoundContext } from './round.js';
import { logRecord, type RunContext } from './run-state.js';
import { stepGradients } from './step.js';
import type { PatchRef } from './types.js';

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

/** The epoch index the patch source sees: distinct for every (round, epoch), so rounds get fresh crops. */
function cropEpoch(cfg: TrainConfig, round: number, epoch: number): number {
  return round * cfg.training.epochs + epoch;
}

/**
 * One optimizer step `state.step` of epoch `e`: the batch's crops, gradients over its micro-batches, clipping, the
 * scheduled learning rates, the update, and a checkpoint every `checkpointEverySteps` steps. Returns the step's loss.
 */
async function trainStep(
  run: RunContext,
  round: RoundContext,
  order: readonly PatchRef[],
  lrs: Record<string, number>,
): Promise<number> {
  const { cfg, state } = run;
  const { round: r, stepsPerEpoch, opt } = round;
  const e = state.epoch;
  const s = state.step;
  const S = cfg.patches.size;
  const [start, end] = round.batches.bounds[s];
  const samples = order.slice(start, end);
  const x = await patchesOf(round.data.train, samples, cropEpoch(cfg, r, e), S, 'training');
  const y = Float32Array.from(samples, (q) => round.trainLabels[q.image]);
  const res = await stepGradients(round.runner, {
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
  for (const g of round.groups) {
    const lr = learningRate(cfg.schedule, {
      base: round.baseLr.get(g.name) as number,
      group: g.name,
      epoch: e,
      step: state.globalStep,
      epochs: cfg.training.epochs,
    });
    opt.setLr(g.name, lr);
    lrs[g.name] = lr;
  }
  opt.applyGradients(grads);
  run.commit(); // the first step has run: the folder is this run's now
  paramsChanged(round);
  tf.dispose([...grads.values()]);
  round.epochScores.set(res.scores, start);
  round.epochLabels.set(y, start);
  state.epochLossSum += res.loss * samples.length;
  state.step += 1;
  state.globalStep += 1;
  run.progress.update(state.step, { loss: res.loss });
  const every = cfg.training.checkpointEverySteps;
  if (every > 0 && state.globalStep % every === 0 && state.step < stepsPerEpoch) saveLast(run, round);
  return res.loss;
}

/**
 * Epoch `state.epoch` of the round, from step `state.step` (a resumed run continues mid-epoch): the steps, then the
 * train SRCC of the pre-update predictions and the evaluation on the selection part, early stopping, the best
 * weights, the log record, and the checkpoint of the next epoch's start.
 */
export async function trainEpoch(run: RunContext, round: RoundContext): Promise<void> {
  const { cfg, state, progress } = run;
  const { round: r, stepsPerEpoch, batches } = round;
  const e = state.epoch;
  const order = epochOrder(cfg, r, e, round.data.train.ids.length);
  const lrs: Record<string, number> = {};
  // The whole run's steps, every epoch of every round (later rounds counted with this round's steps per epoch).
  const { epochs, rounds } = cfg.training;
  progress.start(`round ${r} epoch ${e + 1}/${epochs}`, stepsPerEpoch, state.step, {
    done: (r * epochs + e) * stepsPerEpoch + state.step,
    total: rounds * epochs * stepsPerEpoch,
  });
  const epochStart = Date.now();
  while (state.step < stepsPerEpoch) {
    const s = state.step;
    const loss = await trainStep(run, round, order, lrs);
    run.opts.onStep?.({ round: r, epoch: e, step: s, stepsPerEpoch, globalStep: state.globalStep, loss });
  }
  progress.stop();

  // The samples the steps covered (all, unless a small last batch was dropped).
  const trainSrcc = srcc(
    round.epochScores.subarray(0, batches.trained),
    round.epochLabels.subarray(0, batches.trained),
  );
  const part = cfg.dataset.selectOn;
  const sel = await evaluateSet(round.runner, round.data.select, cfg, part);
  const upd = updateEarlyStopping(state.early, sel.metrics[cfg.earlyStopping.metric], e, cfg.earlyStopping);
  state.early = upd.state;
  state.lastSelect = sel.metrics;
  state.epochsRun = e + 1;
  if (upd.improved) {
    state.bestSelect = sel.metrics;
    saveParams(round, round.bestParamsPath, { round: r, epoch: e });
    if (round.model.saveWeights) await round.model.saveWeights(join(round.roundDir, 'best.safetensors'));
  }
  const rec: EpochRecord = {
    kind: 'epoch',
    round: r,
    epoch: e + 1,
    steps: state.globalStep,
    loss: state.epochLossSum / batches.trained,
    trainSrcc,
    ...(part === 'val' ? { val: sel.metrics } : { test: sel.metrics }),
    best: upd.improved,
    lr: lrs,
    seconds: (Date.now() - epochStart) / 1000,
    ...(batches.smallLast ? { smallLastBatch: batches.smallLast } : {}),
  };
  logRecord(run, rec);
  progress.line(
    `round ${r} epoch ${e + 1}: loss ${rec.loss.toFixed(4)} train srcc ${trainSrcc.toFixed(4)} ${part} ${formatMetrics(sel.metrics)}${upd.improved ? ' *' : ''}`,
  );
  state.epoch += 1;
  state.step = 0;
  state.epochLossSum = 0;
  round.epochScores.fill(0);
  round.epochLabels.fill(0);
  saveLast(run, round);
}
