/**
 * How an epoch's samples fall into optimizer steps: batches of `training.batchSize` in the shuffled order, and what
 * becomes of a small last batch when the loss is batch-level (`training.smallLastBatch`).
 */
import type { TrainConfig } from '../config.js';
import { isSampleDecomposable } from '../losses.js';

export interface EpochBatches {
  /** [start, end) of each step's samples in the epoch's order; contiguous from 0. */
  bounds: readonly (readonly [number, number])[];
  /** Samples the steps cover (`bounds`' last end): all of them, unless a small last batch was dropped. */
  trained: number;
  /** The small last batch and what became of it; null when the last batch was kept as it is. */
  smallLast: { size: number; action: 'merge' | 'drop' } | null;
}

/**
 * A batch-level loss needs at least this many samples for a meaningful batch (half a batch, rounded up): a last batch
 * under it is merged or dropped. Half a batch leaves the usual remainders alone (the CI gate's 1675 samples in batches
 * of 16 end in 11) and catches the degenerate ones (50 in batches of 16 end in 2).
 */
export function minBatchSamples(batchSize: number): number {
  return Math.ceil(batchSize / 2);
}

/** The steps of an epoch of `samples` samples under `cfg` (the same for every epoch of a round). */
export function epochBatches(cfg: TrainConfig, samples: number): EpochBatches {
  const B = cfg.training.batchSize;
  const bounds: [number, number][] = [];
  for (let s = 0; s < samples; s += B) bounds.push([s, Math.min(samples, s + B)]);
  const last = bounds[bounds.length - 1];
  const size = last === undefined ? 0 : last[1] - last[0];
  const mode = cfg.training.smallLastBatch;
  if (bounds.length < 2 || mode === 'keep' || isSampleDecomposable(cfg.loss) || size >= minBatchSamples(B)) {
    return { bounds, trained: samples, smallLast: null };
  }
  bounds.pop();
  if (mode === 'merge') bounds[bounds.length - 1] = [bounds[bounds.length - 1][0], samples];
  return {
    bounds,
    trained: bounds[bounds.length - 1][1],
    smallLast: { size, action: mode },
  };
}
