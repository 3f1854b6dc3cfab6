/** Scoring an image set with the current weights, and the patch batches every step and evaluation reads. */
import { evaluate } from '@iqa-bench/metrics';
import type { TrainConfig } from '../config.js';
import type { RunMetrics } from '../run-folder/summary.js';
import type { MicroRunner } from './step.js';
import type { ImageSet, PatchRef } from './types.js';

/** The crops `refs` of `set` (at `epoch`), checked to be `refs.length` crops of size x size x 3. */
export async function patchesOf(
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
 * Scores every image of `set` (mean of its test crops, eval mode) and computes the metrics against its labels with
 * `@iqa-bench/metrics`' `evaluate` (raw predictions, no logistic mapping). Test crops do not depend on the epoch (the
 * same crops every evaluation). With center crops one crop is scored (K identical center crops would give the same
 * mean).
 */
export async function evaluateSet(
  runner: MicroRunner,
  set: ImageSet,
  cfg: TrainConfig,
  part: string,
): Promise<{ metrics: RunMetrics; scores: Float64Array }> {
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
  const e = evaluate(scores, Float64Array.from(set.labels), { logistic: false });
  return { scores, metrics: { srcc: e.srcc, plcc: e.plcc, krcc: e.krcc, rmse: e.rmse } };
}
