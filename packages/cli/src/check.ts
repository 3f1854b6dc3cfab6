import { CliError } from './errors.js';
import type { DatasetResult, MetricName } from '@iqa-bench/metrics';
import { METRIC_DIRECTIONS } from '@iqa-bench/metrics';
import type { LoadedResult } from './result.js';
import type { Table } from './table.js';
import { num, signed } from './table.js';

export const CHECK_SCHEMA = 'iqa-bench/check@1';

/**
 * `ok`: within tolerance; `improved`: better by more than the tolerance; `regression`: worse by more than the
 * tolerance; `missing`: in the baseline but not (or null) in the result; `new`: in the result only (not gated).
 */
export type CheckStatus = 'ok' | 'improved' | 'regression' | 'missing' | 'new';

export interface CheckRow {
  dataset: string;
  metric: MetricName;
  direction: 'higher' | 'lower';
  baseline: number | null;
  result: number | null;
  /** result − baseline. */
  delta: number | null;
  status: CheckStatus;
}

export interface CheckReport {
  schema: typeof CHECK_SCHEMA;
  result: string;
  baseline: string;
  tolerance: number;
  metrics: MetricName[];
  passed: boolean;
  rows: CheckRow[];
  warnings: string[];
}

/** The name `check` gives the mean over datasets, compared like a dataset. */
export const MEAN_ROW = 'mean';

function withMean(r: LoadedResult): DatasetResult[] {
  if (r.mean === undefined || r.datasets.some((d) => d.name === MEAN_ROW)) return r.datasets;
  return [...r.datasets, { name: MEAN_ROW, n: null, metrics: r.mean as DatasetResult['metrics'] }];
}

/** Float slack so that a result exactly `tolerance` below the baseline passes despite rounding in the subtraction. */
const EPS = 1e-12;

/** A value's status against its baseline: `delta` = result − baseline, worse or better by more than `tolerance`. */
export function checkStatus(direction: 'higher' | 'lower', delta: number, tolerance: number): CheckStatus {
  const better = direction === 'higher' ? delta : -delta;
  if (better < -tolerance - EPS) return 'regression';
  if (better > tolerance + EPS) return 'improved';
  return 'ok';
}

/**
 * Compares a result with a baseline, dataset by dataset (matched by name, the mean included) and metric by metric.
 * A regression is a result below `baseline − tolerance` for a higher-is-better metric (above `baseline + tolerance`
 * for RMSE/MAE); a dataset or metric the baseline has and the result lacks counts as a failure too.
 */
export function compareResults(
  result: LoadedResult,
  baseline: LoadedResult,
  options: { tolerance: number; metrics: readonly MetricName[] },
): CheckReport {
  const { tolerance, metrics } = options;
  if (!(tolerance >= 0) || !Number.isFinite(tolerance)) {
    throw new CliError(`--tolerance: expected a non-negative number, got ${tolerance}`);
  }
  const baseSets = withMean(baseline);
  const resultSets = withMean(result);
  for (const m of metrics) {
    if (!baseSets.some((d) => typeof d.metrics[m] === 'number')) {
      throw new CliError(`--metric ${m}: ${baseline.file} has no ${m} value for any dataset`);
    }
  }
  const rows: CheckRow[] = [];
  const warnings: string[] = [];
  const byName = new Map(resultSets.map((d) => [d.name, d]));
  for (const b of baseSets) {
    const r = byName.get(b.name);
    if (r !== undefined && b.n !== null && r.n !== null && b.n !== r.n) {
      warnings.push(`${b.name}: ${r.n} images in the result, ${b.n} in the baseline`);
    }
    for (const metric of metrics) {
      const bv = b.metrics[metric];
      if (typeof bv !== 'number') continue;
      const direction = METRIC_DIRECTIONS[metric];
      const rv = r?.metrics[metric];
      if (typeof rv !== 'number') {
        rows.push({
          dataset: b.name,
          metric,
          direction,
          baseline: bv,
          result: null,
          delta: null,
          status: 'missing',
        });
        continue;
      }
      const delta = rv - bv;
      rows.push({
        dataset: b.name,
        metric,
        direction,
        baseline: bv,
        result: rv,
        delta,
        status: checkStatus(direction, delta, tolerance),
      });
    }
  }
  const baseNames = new Set(baseSets.map((d) => d.name));
  for (const r of resultSets) {
    if (baseNames.has(r.name)) continue;
    for (const metric of metrics) {
      const rv = r.metrics[metric];
      if (typeof rv !== 'number') continue;
      rows.push({
        dataset: r.name,
        metric,
        direction: METRIC_DIRECTIONS[metric],
        baseline: null,
        result: rv,
        delta: null,
        status: 'new',
      });
    }
  }
  const passed = rows.every((row) => row.status !== 'regression' && row.status !== 'missing');
  return {
    schema: CHECK_SCHEMA,
    result: result.file,
    baseline: baseline.file,
    tolerance,
    metrics: [...metrics],
    passed,
    rows,
    warnings,
  };
}

export const STATUS_TEXT: Record<CheckStatus, string> = {
  ok: 'ok',
  improved: 'improved',
  regression: 'REGRESSION',
  missing: 'MISSING',
  new: 'new (not gated)',
};

export function checkTable(report: CheckReport): Table {
  return {
    columns: [
      { header: 'dataset' },
      { header: 'metric' },
      { header: 'baseline', align: 'right' },
      { header: 'result', align: 'right' },
      { header: 'delta', align: 'right' },
      { header: 'status' },
    ],
    rows: report.rows.map((r) => [
      r.dataset,
      `${r.metric} ${r.direction === 'higher' ? '↑' : '↓'}`,
      num(r.baseline),
      num(r.result),
      signed(r.delta),
      STATUS_TEXT[r.status],
    ]),
  };
}

/** The verdict line printed under the table. */
export function checkVerdict(report: CheckReport): string {
  const failed = report.rows.filter((r) => r.status === 'regression' || r.status === 'missing');
  const gated = report.rows.filter((r) => r.status !== 'new').length;
  if (report.passed)
    return `PASS: ${gated} value(s) within tolerance ${report.tolerance} of the baseline or better`;
  const list = failed.map(
    (r) => `${r.dataset} ${r.metric} ${r.status === 'missing' ? 'missing' : signed(r.delta)}`,
  );
  return `FAIL: ${failed.length} of ${gated} value(s) worse than the baseline by more than ${report.tolerance}, or missing: ${list.join(', ')}`;
}
