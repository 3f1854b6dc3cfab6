/** Small statistics for run summaries: early stopping and the N-round protocol (median and IQR over rounds). */
import { quantile } from '@iqa-bench/metrics';
import type { RoundStats } from '../run-folder/summary.js';

/** Median, quartiles and IQR of one metric over rounds. */
export function roundStats(values: readonly number[]): RoundStats {
  const q1 = quantile(values, 0.25);
  const q3 = quantile(values, 0.75);
  return {
    n: values.length,
    median: quantile(values, 0.5),
    q1,
    q3,
    iqr: q3 - q1,
    min: Math.min(...values),
    max: Math.max(...values),
    values: [...values],
  };
}

/** Early-stopping state (serialised into checkpoints). Higher metric values are better. */
export interface EarlyStoppingState {
  best: number | null;
  bestEpoch: number | null;
  /** Consecutive evaluations without improvement. */
  bad: number;
  stopped: boolean;
}

export function initialEarlyStopping(): EarlyStoppingState {
  return { best: null, bestEpoch: null, bad: 0, stopped: false };
}

/**
 * Updates the state with the metric of `epoch`; `improved` says whether this epoch is the new best (the original:
 * strictly greater; here greater by more than minDelta). Stops after `patience` evaluations without improvement
 * when enabled. NaN never improves.
 */
export function updateEarlyStopping(
  s: EarlyStoppingState,
  value: number,
  epoch: number,
  opts: { patience: number; minDelta: number; enabled: boolean },
): { state: EarlyStoppingState; improved: boolean } {
  const improved = !Number.isNaN(value) && (s.best === null || value > s.best + opts.minDelta);
  const bad = improved ? 0 : s.bad + 1;
  return {
    improved,
    state: {
      best: improved ? value : s.best,
      bestEpoch: improved ? epoch : s.bestEpoch,
      bad,
      stopped: opts.enabled && bad >= opts.patience,
    },
  };
}
