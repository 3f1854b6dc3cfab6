/**
 * summary.json: what a finished run reports. Per metric the median over rounds (with quartiles and IQR) of the
 * selected (best-epoch) and of the final weights on the reported part, and a `datasets` entry in the shape of a result
 * entry of `@iqa-bench/metrics` (what `iqa-bench check` compares).
 *
 * JSON has no NaN: a metric that could not be computed is written as null and read back as NaN.
 */
import { parseDatasetResults, type DatasetResult, type MetricName } from '@iqa-bench/metrics';
import { writeJsonAtomic } from '@iqa-bench/core/fs';
import * as z from 'zod';
import { parseJson, readRunText, validated } from './files.js';

/** The metrics a run computes on each evaluated part, in the order it writes them. */
export const RUN_METRICS = ['srcc', 'plcc', 'krcc', 'rmse'] as const satisfies readonly MetricName[];
export type RunMetric = (typeof RUN_METRICS)[number];
export type RunMetrics = Record<RunMetric, number>;

/** A metric value: a number, or null in the file for NaN. */
const metricValue = z
  .number()
  .nullable()
  .transform((v) => v ?? Number.NaN);

export const runMetricsSchema: z.ZodType<RunMetrics> = z.object({
  srcc: metricValue,
  plcc: metricValue,
  krcc: metricValue,
  rmse: metricValue,
});

const count = z.number().int().nonnegative();

/** One round's outcome. */
export interface RoundResult {
  round: number;
  epochsRun: number;
  /** 1-based; null when no epoch improved (every evaluation NaN). */
  bestEpoch: number | null;
  /** Selection-part metrics at the best epoch and at the last epoch. */
  selectBest: RunMetrics;
  selectFinal: RunMetrics;
  /** Test-part metrics of the best and of the final weights (null when the selection part is the test part). */
  testBest: RunMetrics | null;
  testFinal: RunMetrics | null;
}

export const roundResultSchema: z.ZodType<RoundResult> = z.object({
  round: count,
  epochsRun: count,
  bestEpoch: z.number().int().positive().nullable(),
  selectBest: runMetricsSchema,
  selectFinal: runMetricsSchema,
  testBest: runMetricsSchema.nullable(),
  testFinal: runMetricsSchema.nullable(),
});

/** Median, quartiles and IQR of one metric over rounds (numpy's linear quantiles). */
export interface RoundStats {
  n: number;
  median: number;
  q1: number;
  q3: number;
  iqr: number;
  min: number;
  max: number;
  values: number[];
}

const roundStatsSchema: z.ZodType<RoundStats> = z.object({
  n: count,
  median: metricValue,
  q1: metricValue,
  q3: metricValue,
  iqr: metricValue,
  min: metricValue,
  max: metricValue,
  values: z.array(metricValue),
});

/** The `schema` tag of summary.json. */
export const SUMMARY_SCHEMA = 'iqa-bench/train-summary@1';
/** The summary's name in a run folder. */
export const SUMMARY_FILE = 'summary.json';

export interface RunSummary {
  schema: typeof SUMMARY_SCHEMA;
  /**
   * The reported numbers as one result entry (what `iqa-bench check` compares): metrics = median over rounds of the
   * selected (best-epoch) weights on the reported part.
   */
  datasets: DatasetResult[];
  dataset: { kind: string; root: string; splitManifest: string | null; selectOn: 'val' | 'test' };
  seed: number;
  rounds: number;
  /** The part the reported metrics were measured on. */
  reportedPart: 'test' | 'val';
  n: { train: number; select: number; test: number | null };
  selectionMetric: string;
  /** Per metric: median over rounds (and spread) of the best-epoch and final-epoch values on the reported part. */
  metrics: Record<RunMetric, { best: number; final: number; bestStats: RoundStats; finalStats: RoundStats }>;
  perRound: RoundResult[];
  wallSeconds: number;
}

const metricSummary = z.object({
  best: metricValue,
  final: metricValue,
  bestStats: roundStatsSchema,
  finalStats: roundStatsSchema,
});

/** Everything but `datasets`, which is checked as result entries by `@iqa-bench/metrics`. */
const summarySchema = z.object({
  schema: z.literal(SUMMARY_SCHEMA),
  datasets: z.array(z.unknown()),
  dataset: z.object({
    kind: z.string(),
    root: z.string(),
    splitManifest: z.string().nullable(),
    selectOn: z.enum(['val', 'test']),
  }),
  seed: count,
  rounds: z.number().int().positive(),
  reportedPart: z.enum(['test', 'val']),
  n: z.object({ train: count, select: count, test: count.nullable() }),
  selectionMetric: z.string(),
  metrics: z.object({ srcc: metricSummary, plcc: metricSummary, krcc: metricSummary, rmse: metricSummary }),
  perRound: z.array(roundResultSchema),
  wallSeconds: z.number().nonnegative(),
});

/** The result entry of a summary: its reported metrics under the result-entry metric names. */
export function summaryResultEntry(
  s: Pick<RunSummary, 'dataset' | 'reportedPart' | 'metrics'>,
  n: number,
): DatasetResult {
  return {
    name: s.dataset.kind,
    key: s.dataset.kind,
    path: s.dataset.root,
    split: s.reportedPart,
    n,
    metrics: Object.fromEntries(RUN_METRICS.map((m) => [m, s.metrics[m].best])),
  };
}

/** Validates a parsed summary.json; `label` names the file in errors (RunFolderError, ResultFormatError). */
export function parseRunSummary(value: unknown, label: string): RunSummary {
  const s = validated(summarySchema, value, label, 'run summary');
  return { ...s, datasets: parseDatasetResults(s.datasets, label) };
}

/** Reads and validates a run folder's summary.json; errors name it `label` (default: the path). */
export async function readRunSummary(file: string, label = file): Promise<RunSummary> {
  return parseRunSummary(parseJson(await readRunText(file, label, 'run summary'), label), label);
}

/** Writes summary.json atomically (pretty JSON). */
export async function writeRunSummary(file: string, summary: RunSummary): Promise<void> {
  await writeJsonAtomic(file, summary);
}
