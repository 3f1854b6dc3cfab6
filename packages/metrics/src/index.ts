/**
 * @iqa-bench/metrics — the numbers every IQA paper reports, computed as scipy computes them:
 * SRCC, PLCC, KRCC, RMSE, MAE, the VQEG logistic mapping, seeded bootstrap intervals, a paired test
 * between two predictors, a two-level (seeds × images) bootstrap between trained configurations, Holm's correction
 * and a streaming accumulator. No runtime dependencies.
 */
export { srcc, plcc, krcc, rmse, mae, type CorrelationOptions } from './correlation.js';
export { fitLogistic, type FitLogisticOptions, type LogisticFit, type LogisticParams } from './logistic.js';
export {
  evaluate,
  type EvaluateOptions,
  type Evaluation,
  type MappedMetrics,
  type UndefinedField,
} from './evaluate.js';
export {
  METRIC_DIRECTIONS,
  METRIC_NAMES,
  metricName,
  datasetResult,
  parseDatasetResult,
  parseDatasetResults,
  parseResultFile,
  RESULT_SCHEMA,
  ResultFormatError,
  type DatasetResult,
  type MetricName,
  type Predictions,
  type ResultFile,
} from './result-entry.js';
export {
  bootstrapCI,
  comparePredictors,
  williamsTest,
  type BootstrapMetric,
  type BootstrapOptions,
  type ConfidenceInterval,
  type PairedDifference,
  type PredictorComparison,
  type WilliamsTest,
} from './bootstrap.js';
export {
  holm,
  seededBootstrap,
  seededDifference,
  type SeededBootstrap,
  type SeededDifference,
} from './seeded.js';
export { normalSf } from './normal.js';
export { median, quantile, quantileSorted } from './stats.js';
export { MetricAccumulator, type AccumulatorOptions } from './accumulator.js';
export { dropNonFinite, type NonFinitePolicy, type Vector } from './input.js';
