import { join } from 'node:path';
import { epochSelection, METRICS_LOG_FILE, readMetricsLog } from '@iqa-bench/train/run-folder';

/** One epoch of a training run as the report draws it (from a metrics.jsonl `epoch` record of @iqa-bench/train). */
export interface EpochPoint {
  round: number;
  epoch: number;
  loss: number | null;
  trainSrcc: number | null;
  /** The selection part (`val`, or `test` for the original's protocol) and its metrics. */
  part: string;
  select: Record<string, number | null>;
  best: boolean;
}

export interface TrainingRun {
  dir: string;
  epochs: EpochPoint[];
  /** metrics.jsonl ended in a partial line (a run killed while writing): ignored. */
  tornLastLine: boolean;
}

/** NaN (null in the file) and other non-finite values are gaps in the curves. */
function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * Reads a training run directory's metrics.jsonl with @iqa-bench/train's validating reader: the `epoch` records, in
 * file order. A malformed line is refused with file and line; a partial last line (a killed run) is ignored and
 * reported. `label` is how errors name the folder (the path as the user typed it).
 */
export async function readTrainingRun(dir: string, label = dir): Promise<TrainingRun> {
  const log = await readMetricsLog(join(dir, METRICS_LOG_FILE), join(label, METRICS_LOG_FILE));
  const epochs: EpochPoint[] = [];
  for (const r of log.records) {
    if (r.kind !== 'epoch') continue;
    const { part, metrics } = epochSelection(r);
    epochs.push({
      round: r.round,
      epoch: r.epoch,
      loss: finite(r.loss),
      trainSrcc: finite(r.trainSrcc),
      part,
      select: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, finite(v)])),
      best: r.best,
    });
  }
  return { dir: label, epochs, tornLastLine: log.tornLastLine };
}
