import { fitLogistic } from '@iqa-bench/metrics';
import type { DatasetResult, MetricName } from '@iqa-bench/metrics';
import { METRIC_NAMES } from '@iqa-bench/metrics';

/** A result file's entry for one dataset (owned by @iqa-bench/metrics, with the result file format). */
export { datasetResult } from '@iqa-bench/metrics';

/** Metrics averaged into a result's `mean` (errors are on each dataset's own scale and are not averaged). */
export const MEAN_METRICS: readonly MetricName[] = ['srcc', 'plcc', 'plccLogistic', 'krcc'];

/** The mean of each correlation over the datasets that have it (as the original's cross-dataset table). */
export function meanMetrics(datasets: readonly DatasetResult[]): Partial<Record<MetricName, number | null>> {
  const mean: Partial<Record<MetricName, number | null>> = {};
  for (const m of MEAN_METRICS) {
    const values = datasets.map((d) => d.metrics[m]).filter((v): v is number => typeof v === 'number');
    mean[m] = values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null;
  }
  return mean;
}

/** How many datasets each mean of meanMetrics covers (those where the metric is a number). */
export function meanCounts(datasets: readonly DatasetResult[]): Partial<Record<MetricName, number>> {
  return Object.fromEntries(
    MEAN_METRICS.map((m) => [m, datasets.filter((d) => typeof d.metrics[m] === 'number').length]),
  );
}

/**
 * Raw RMSE / MAE compare the model's scores with MOS directly: meaningful only when the model predicts on the MOS scale.
 * A model trained with a correlation loss (PLCC, rank losses) has a free output scale and raw errors in the hundreds.
 * They are flagged when more than this many times the error after the logistic mapping (which puts scores on the
 * MOS scale), or, without a mapping, than the standard deviation of MOS (what predicting the mean MOS would score).
 */
export const RAW_ERROR_FACTOR = 2;

/** Whether the raw RMSE of `d` compares scores on another scale than MOS (see RAW_ERROR_FACTOR). */
export function rawErrorOffScale(d: DatasetResult): boolean {
  const raw = d.metrics.rmse;
  if (typeof raw !== 'number') return false;
  const mapped = d.metrics.rmseLogistic;
  if (typeof mapped === 'number') return raw > RAW_ERROR_FACTOR * mapped;
  const mos = d.predictions?.mos;
  if (!mos || mos.length < 2) return false;
  const mean = mos.reduce((a, b) => a + b, 0) / mos.length;
  const sd = Math.sqrt(mos.reduce((a, b) => a + (b - mean) ** 2, 0) / mos.length);
  return raw > RAW_ERROR_FACTOR * sd;
}

/**
 * Whether the fitted logistic reverses the sign of the relation: the scores rank the images against MOS (SRCC < 0,
 * after the lower-better flip) while the mapped PLCC is positive — the mapping fitted a decreasing curve, and the
 * mapped figures describe scores that run the other way.
 */
export function logisticReversesSign(d: DatasetResult): boolean {
  const rank = d.metrics.srcc ?? d.metrics.plcc;
  const mapped = d.metrics.plccLogistic;
  return typeof rank === 'number' && typeof mapped === 'number' && rank < 0 && mapped > 0;
}

/** How result metrics are labelled in tables, figures and notes. */
export const METRIC_LABELS: Record<MetricName, string> = {
  srcc: 'SRCC',
  plcc: 'PLCC',
  plccLogistic: 'PLCC (logistic)',
  krcc: 'KRCC',
  rmse: 'RMSE',
  rmseLogistic: 'RMSE (logistic)',
  mae: 'MAE',
  maeLogistic: 'MAE (logistic)',
};

/**
 * What a reader of a dataset's row must know: why each "–" is empty (one line for metrics with the same reason), a
 * logistic that reverses the sign of the relation, raw errors on another scale than MOS. Each note names the dataset.
 */
export function datasetNotes(d: DatasetResult, shown: readonly MetricName[] = METRIC_NAMES): string[] {
  const notes: string[] = [];
  const byReason = new Map<string, string[]>();
  for (const m of shown) {
    if (d.metrics[m] !== null) continue;
    const why = d.reasons?.[m] ?? (d.n === null ? 'not evaluated' : 'no reason recorded');
    byReason.set(why, [...(byReason.get(why) ?? []), METRIC_LABELS[m]]);
  }
  for (const [why, metrics] of byReason) notes.push(`${d.name}: ${metrics.join(', ')} –: ${why}`);
  if (logisticReversesSign(d)) {
    notes.push(
      `${d.name}: warning: the fitted logistic reverses the sign of the relation (SRCC ${(d.metrics.srcc ?? d.metrics.plcc ?? 0).toFixed(4)}, ` +
        `PLCC (logistic) ${(d.metrics.plccLogistic as number).toFixed(4)}): the scores rank the images against MOS; ` +
        'the mapped figures describe the reversed scores',
    );
  }
  if (rawErrorOffScale(d)) {
    const mapped = d.metrics.rmseLogistic;
    notes.push(
      `${d.name}: RMSE ${(d.metrics.rmse as number).toPrecision(4)} compares scores on the model's own scale with MOS` +
        (typeof mapped === 'number' ? ` (the mapped RMSE is ${mapped.toPrecision(4)})` : '') +
        ': the output is not on the MOS scale (e.g. a model trained with a correlation loss); compare RMSE (logistic)',
    );
  }
  return notes;
}

/** The fitted 4-parameter logistic as a curve for the scatter plots; null when it does not converge. */
export function logisticCurve(
  pred: readonly number[],
  mos: readonly number[],
  lowerIsBetter = false,
): ((x: number) => number) | null {
  if (pred.length < 5) return null;
  try {
    const fit = fitLogistic(pred, mos, { params: 4, lowerIsBetter });
    return fit.converged ? (x: number) => fit.predict([x])[0] : null;
  } catch {
    return null; // e.g. constant predictions: there is no curve to draw
  }
}
