/**
 * The aggregate of a study (`iqa-bench/study-report@1`): what `study report --json` prints, what the rendered report
 * and `study report --check` read. Plain JSON: numbers that could not be computed are null, never NaN.
 */
import type { StudyRunStatus } from './input.js';

/** The `schema` tag of a study aggregate. */
export const STUDY_REPORT_SCHEMA = 'iqa-bench/study-report@1';

/** The metrics summarised per variant. */
export const STUDY_METRICS = ['srcc', 'plcc', 'krcc', 'rmse'] as const;
export type StudyMetric = (typeof STUDY_METRICS)[number];

/** Higher- or lower-is-better, per metric (RMSE: lower). */
export const STUDY_METRIC_DIRECTIONS: Record<StudyMetric, 'higher' | 'lower'> = {
  srcc: 'higher',
  plcc: 'higher',
  krcc: 'higher',
  rmse: 'lower',
};

/** Median and spread of one metric over a variant's finished runs (numpy's linear quantiles). */
export interface Spread {
  /** How many runs had a value. */
  n: number;
  median: number | null;
  q1: number | null;
  q3: number | null;
  min: number | null;
  max: number | null;
}

export interface StudyDatasetInfo {
  /** Position in every run's result (0: the in-domain test part of the shared split). */
  index: number;
  name: string;
  role: 'in-domain' | 'cross-dataset';
  /** Images compared (the shared test images); null when no finished run has predictions for it. */
  n: number | null;
  direction: 'higher-better' | 'lower-better';
}

export interface StudyRunCounts {
  planned: number;
  done: number;
  failed: number;
  running: number;
  queued: number;
  missing: number;
}

export interface VariantSummary {
  name: string;
  overrides: Record<string, unknown>;
  runs: StudyRunCounts;
  /** `complete`: every planned run finished; `partial`: some did; `no finished run`: none did (the row stays). */
  state: 'complete' | 'partial' | 'no finished run';
  /** Seeds of the finished runs. */
  seedsDone: number[];
  /** Per dataset (in the order of `datasets`), the spread over seeds of each metric. */
  metrics: { dataset: string; values: Record<StudyMetric, Spread> }[];
}

export type Verdict = 'better' | 'worse' | 'within noise' | 'not compared';

/** metric(variant) − metric(reference) with its paired two-level bootstrap interval and test. */
export interface StudyComparison {
  /** `baseline`: a variant against the study's baseline; `chain`: a forward-ablation step against the step before. */
  kind: 'baseline' | 'chain';
  variant: string;
  reference: string;
  dataset: string;
  metric: StudyMetric;
  /** The seeds both have finished (with predictions) on this dataset: the paired runs resampled. */
  seeds: number[];
  /** Mean over those seeds of the variant's / the reference's metric, and their difference. */
  value: number | null;
  referenceValue: number | null;
  delta: number | null;
  lower: number | null;
  upper: number | null;
  /**
   * Two-sided p-value of the bootstrap z test (Δ over the standard deviation of its resamples, normal tail), and the
   * same Holm-adjusted over every comparison of the study.
   */
  pValue: number | null;
  pHolm: number | null;
  /** `pHolm` ≤ the study's α. */
  significant: boolean;
  /** From the interval: `within noise` when it contains 0; `better`/`worse` by the metric's direction otherwise. */
  verdict: Verdict;
  undefinedResamples: number;
  /** Why it was not compared, when it was not. */
  reason?: string;
}

export interface AblationStep {
  variant: string;
  /** The step before (null for the first, plainest, step). */
  previous: string | null;
  /** Mean over the chain's common seeds. */
  value: number | null;
  /** value − previous value, with the paired interval (null for the first step). */
  delta: number | null;
  lower: number | null;
  upper: number | null;
  /** delta / total: this step's share of the total improvement from the first to the last step, with its interval. */
  share: number | null;
  shareLower: number | null;
  shareUpper: number | null;
  pHolm: number | null;
  verdict: Verdict;
}

export interface AblationTable {
  dataset: string;
  metric: StudyMetric;
  /** The seeds every step of the chain finished: one bootstrap resamples them all together. */
  seeds: number[];
  total: { delta: number | null; lower: number | null; upper: number | null };
  steps: AblationStep[];
  reason?: string;
}

export interface SweepSummary {
  field: string;
  /** The values span more than a decade, or the field is a learning rate: plot on a log axis. */
  log: boolean;
  points: { variant: string; value: number; metrics: VariantSummary['metrics'] }[];
}

export interface ComplexityPoint {
  variant: string;
  params: number;
  gmacs: number;
  metrics: VariantSummary['metrics'];
}

export interface CurveSummary {
  variant: string;
  /** Runs whose curve went into the medians. */
  runs: number;
  /** Per epoch, the median over those runs (null where none recorded the value). */
  points: { epoch: number; trainLoss: number | null; valSrcc: number | null; valPlcc: number | null }[];
}

export interface StudyRunRow {
  runId: string;
  variant: string;
  seed: number;
  status: StudyRunStatus;
  error?: string;
  /** Per dataset, the run's metrics (null when it has no result or no predictions there). */
  metrics: ({ dataset: string } & Record<StudyMetric, number | null>)[];
}

export interface StudyStatistics {
  resamples: number;
  seed: number;
  level: number;
  alpha: number;
  /** The metrics compared between variants (Δ, intervals, tests). */
  metrics: StudyMetric[];
  /** How the intervals and p-values are made, in words (stated on the report's page). */
  method: string;
  /** Number of tests in the Holm family. */
  family: number;
}

export interface StudyAggregate {
  schema: typeof STUDY_REPORT_SCHEMA;
  name: string;
  baseline: string;
  chain: string[] | null;
  seeds: number[];
  settings: Record<string, string | number | boolean>;
  statistics: StudyStatistics;
  datasets: StudyDatasetInfo[];
  variants: VariantSummary[];
  comparisons: StudyComparison[];
  ablation: AblationTable[];
  sweeps: SweepSummary[];
  complexity: ComplexityPoint[];
  curves: CurveSummary[];
  runs: StudyRunRow[];
  /** Things the reader must know about the numbers (runs left out of a statistic and why). */
  notes: string[];
}
