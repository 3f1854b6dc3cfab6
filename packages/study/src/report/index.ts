/**
 * The report side of a study: the input contract the planner fills, the aggregate (statistics) and its JSON reader.
 */
export type {
  StudyCurvePoint,
  StudyReportInput,
  StudyRunRecord,
  StudyRunStatus,
  StudySweep,
} from './input.js';
export type {
  AblationStep,
  AblationTable,
  ComplexityPoint,
  CurveSummary,
  Spread,
  StudyAggregate,
  StudyComparison,
  StudyDatasetInfo,
  StudyMetric,
  StudyRunCounts,
  StudyRunRow,
  StudyStatistics,
  SweepSummary,
  VariantSummary,
  Verdict,
} from './types.js';
export { STUDY_METRIC_DIRECTIONS, STUDY_METRICS, STUDY_REPORT_SCHEMA } from './types.js';
export { aggregateStudy, STATISTICS_METHOD, StudyReportError, type AggregateOptions } from './aggregate.js';
export { parseStudyAggregate, StudyAggregateFormatError } from './parse.js';
