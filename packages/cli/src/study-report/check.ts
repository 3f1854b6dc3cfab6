/**
 * `study report --check <baseline.json>`: a study gated like `check` gates one run. Each variant's median metric over
 * seeds is compared with the baseline study's (same tolerance semantics as `check`), and a run the baseline had
 * finished that is not finished now fails the check too.
 */
import {
  parseStudyAggregate,
  STUDY_METRIC_DIRECTIONS,
  StudyAggregateFormatError,
  type StudyAggregate,
  type StudyMetric,
  type StudyRunStatus,
} from '@iqa-bench/study';
import { checkStatus, STATUS_TEXT, type CheckStatus } from '../check.js';
import { CliError } from '../errors.js';
import { readJsonFile } from '../json-file.js';
import type { Table } from '../table.js';
import { num, signed } from '../table.js';

export const STUDY_CHECK_SCHEMA = 'iqa-bench/study-check@1';

/** The metrics gated when none are named, as `check` does. */
export const DEFAULT_STUDY_CHECK_METRICS: readonly StudyMetric[] = ['srcc', 'plcc'];

export interface StudyCheckOptions {
  /** How much worse than the baseline a median may be (default 0.005, as `check`). */
  tolerance?: number;
  /** Metrics to gate (default srcc, plcc). */
  metrics?: readonly StudyMetric[];
}

export interface StudyCheckRow {
  variant: string;
  dataset: string;
  metric: StudyMetric;
  direction: 'higher' | 'lower';
  /** Median over seeds in the baseline study and in this one. */
  baseline: number | null;
  result: number | null;
  delta: number | null;
  status: CheckStatus;
}

/** A run the baseline had finished that this study has not. */
export interface StudyCheckRun {
  variant: string;
  seed: number;
  /** Where the run stands now; `absent` when the study no longer plans it. */
  status: StudyRunStatus | 'absent';
  error?: string;
}

export interface StudyCheckReport {
  schema: typeof STUDY_CHECK_SCHEMA;
  study: string;
  baseline: string;
  tolerance: number;
  metrics: StudyMetric[];
  passed: boolean;
  rows: StudyCheckRow[];
  missingRuns: StudyCheckRun[];
  warnings: string[];
}

/** Compares a study's aggregate with a baseline study's; `baselineLabel` names the baseline in the report. */
export function compareStudies(
  aggregate: StudyAggregate,
  baseline: StudyAggregate,
  options: StudyCheckOptions = {},
  baselineLabel = 'baseline',
): StudyCheckReport {
  const tolerance = options.tolerance ?? 0.005;
  if (!(tolerance >= 0) || !Number.isFinite(tolerance)) {
    throw new CliError(`--tolerance: expected a non-negative number, got ${tolerance}`);
  }
  const metrics = [...(options.metrics ?? DEFAULT_STUDY_CHECK_METRICS)];
  const rows: StudyCheckRow[] = [];
  const warnings: string[] = [];
  const current = new Map(aggregate.variants.map((v) => [v.name, v]));
  for (const b of baseline.variants) {
    const r = current.get(b.name);
    for (const bd of b.metrics) {
      const rd = r?.metrics.find((d) => d.dataset === bd.dataset);
      for (const metric of metrics) {
        const bv = bd.values[metric].median;
        if (bv === null) continue;
        const direction = STUDY_METRIC_DIRECTIONS[metric];
        const rv = rd?.values[metric].median ?? null;
        const delta = rv === null ? null : rv - bv;
        rows.push({
          variant: b.name,
          dataset: bd.dataset,
          metric,
          direction,
          baseline: bv,
          result: rv,
          delta,
          status: delta === null ? 'missing' : checkStatus(direction, delta, tolerance),
        });
      }
    }
  }
  const baseNames = new Set(baseline.variants.map((v) => v.name));
  for (const r of aggregate.variants) {
    if (baseNames.has(r.name)) continue;
    for (const rd of r.metrics)
      for (const metric of metrics) {
        const rv = rd.values[metric].median;
        if (rv === null) continue;
        rows.push({
          variant: r.name,
          dataset: rd.dataset,
          metric,
          direction: STUDY_METRIC_DIRECTIONS[metric],
          baseline: null,
          result: rv,
          delta: null,
          status: 'new',
        });
      }
  }
  const runs = new Map(aggregate.runs.map((r) => [`${r.variant}\u0000${r.seed}`, r]));
  const missingRuns: StudyCheckRun[] = [];
  for (const b of baseline.runs) {
    if (b.status !== 'done') continue;
    const r = runs.get(`${b.variant}\u0000${b.seed}`);
    if (r?.status === 'done') continue;
    missingRuns.push({
      variant: b.variant,
      seed: b.seed,
      status: r?.status ?? 'absent',
      ...(r?.error !== undefined ? { error: r.error } : {}),
    });
  }
  for (const bd of baseline.datasets) {
    const rd = aggregate.datasets.find((d) => d.name === bd.name);
    if (rd !== undefined && rd.n !== null && bd.n !== null && rd.n !== bd.n)
      warnings.push(`${bd.name}: ${rd.n} test images in the study, ${bd.n} in the baseline`);
  }
  if (aggregate.seeds.join(',') !== baseline.seeds.join(','))
    warnings.push(
      `seeds ${aggregate.seeds.join(', ')} in the study, ${baseline.seeds.join(', ')} in the baseline`,
    );
  const passed =
    missingRuns.length === 0 && rows.every((row) => row.status !== 'regression' && row.status !== 'missing');
  return {
    schema: STUDY_CHECK_SCHEMA,
    study: aggregate.name,
    baseline: baselineLabel,
    tolerance,
    metrics,
    passed,
    rows,
    missingRuns,
    warnings,
  };
}

/**
 * Checks a study against a baseline study: an aggregate, or the path of a `study-report.json` (read bounded in size
 * and validated; a bad file is a CliError naming it and the field).
 */
export async function checkStudy(
  aggregate: StudyAggregate,
  baseline: StudyAggregate | string,
  options: StudyCheckOptions = {},
): Promise<StudyCheckReport> {
  if (typeof baseline !== 'string') return compareStudies(aggregate, baseline, options);
  const json = await readJsonFile(baseline, baseline);
  let base: StudyAggregate;
  try {
    base = parseStudyAggregate(json, baseline);
  } catch (err) {
    if (err instanceof StudyAggregateFormatError) throw new CliError(err.message);
    throw err;
  }
  return compareStudies(aggregate, base, options, baseline);
}

/** The comparison rows, then the runs that are no longer finished, as one table. */
export function studyCheckTable(report: StudyCheckReport): Table {
  return {
    columns: [
      { header: 'variant' },
      { header: 'dataset' },
      { header: 'metric' },
      { header: 'baseline', align: 'right' },
      { header: 'result', align: 'right' },
      { header: 'delta', align: 'right' },
      { header: 'status' },
    ],
    rows: [
      ...report.rows.map((r) => [
        r.variant,
        r.dataset,
        `${r.metric} median ${r.direction === 'higher' ? '↑' : '↓'}`,
        num(r.baseline),
        num(r.result),
        signed(r.delta),
        STATUS_TEXT[r.status],
      ]),
      ...report.missingRuns.map((r) => [
        r.variant,
        '',
        `run seed ${r.seed}`,
        'done',
        r.status,
        '',
        `MISSING RUN${r.error ? `: ${r.error}` : ''}`,
      ]),
    ],
  };
}

/** The verdict line printed under the table. */
export function studyCheckVerdict(report: StudyCheckReport): string {
  const gated = report.rows.filter((r) => r.status !== 'new').length;
  if (report.passed)
    return `PASS: ${gated} median(s) within tolerance ${report.tolerance} of the baseline or better, every baseline run finished`;
  const failed = report.rows
    .filter((r) => r.status === 'regression' || r.status === 'missing')
    .map(
      (r) => `${r.variant} ${r.dataset} ${r.metric} ${r.status === 'missing' ? 'missing' : signed(r.delta)}`,
    );
  const runs = report.missingRuns.map((r) => `${r.variant} seed ${r.seed} ${r.status}`);
  return `FAIL: ${failed.length} of ${gated} median(s) worse than the baseline by more than ${report.tolerance} or missing${failed.length > 0 ? ` (${failed.join(', ')})` : ''}; ${runs.length} baseline run(s) not finished${runs.length > 0 ? ` (${runs.join(', ')})` : ''}`;
}
