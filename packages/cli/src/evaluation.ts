import type { Evaluation } from '@iqa-bench/metrics';
import { evaluate, fitLogistic } from '@iqa-bench/metrics';
import type { DatasetResult, MetricName, Predictions } from '@iqa-bench/metrics';

/** NaN (undefined in @iqa-bench/metrics) becomes null in a result file. */
function value(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Metrics averaged into a result's `mean` (errors are on each dataset's own scale and are not averaged). */
export const MEAN_METRICS: readonly MetricName[] = ['srcc', 'plcc', 'plccLogistic', 'krcc'];

/** The entry of a result file for one evaluated dataset, from the model's scores and the ground truth. */
export function datasetResult(
  name: string,
  predictions: Predictions,
  info: { key?: string; path?: string; split?: string; lowerIsBetter?: boolean; keepPredictions?: boolean },
): DatasetResult {
  const e: Evaluation = evaluate(predictions.score, predictions.mos, {
    logistic: 4,
    lowerIsBetter: info.lowerIsBetter ?? false,
  });
  const d: DatasetResult = {
    name,
    ...(info.key !== undefined ? { key: info.key } : {}),
    ...(info.path !== undefined ? { path: info.path } : {}),
    ...(info.split !== undefined ? { split: info.split } : {}),
    ...(info.lowerIsBetter ? { direction: 'lower-better' as const } : {}),
    n: e.n,
    metrics: {
      srcc: value(e.srcc),
      plcc: value(e.plcc),
      plccLogistic: value(e.mapped?.plcc ?? Number.NaN),
      krcc: value(e.krcc),
      rmse: value(e.rmse),
      rmseLogistic: value(e.mapped?.rmse ?? Number.NaN),
      mae: value(e.mae),
      maeLogistic: value(e.mapped?.mae ?? Number.NaN),
    },
  };
  const reasons: Record<string, string> = {};
  for (const m of ['srcc', 'plcc', 'krcc'] as const) if (e.reasons[m]) reasons[m] = e.reasons[m];
  if (e.reasons.mapped)
    for (const m of ['plccLogistic', 'rmseLogistic', 'maeLogistic']) reasons[m] = e.reasons.mapped;
  if (Object.keys(reasons).length > 0) d.reasons = reasons;
  const fit = e.mapped?.fit;
  if (fit) d.logistic = { model: fit.model, params: [...fit.params], converged: fit.converged };
  if (info.keepPredictions !== false) d.predictions = predictions;
  return d;
}

/** The mean of each correlation over the datasets that have it (as the original's cross-dataset table). */
export function meanMetrics(datasets: readonly DatasetResult[]): Partial<Record<MetricName, number | null>> {
  const mean: Partial<Record<MetricName, number | null>> = {};
  for (const m of MEAN_METRICS) {
    const values = datasets.map((d) => d.metrics[m]).filter((v): v is number => typeof v === 'number');
    mean[m] = values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null;
  }
  return mean;
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
