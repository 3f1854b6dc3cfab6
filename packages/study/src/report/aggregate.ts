/**
 * `aggregateStudy`: from the study's runs (finished or not) to the numbers its report shows — the spread over seeds per
 * variant, Δ vs the baseline and along the forward-ablation chain with paired two-level bootstrap intervals and
 * Holm-adjusted p-values, the sweep, size and training-curve data. Same input and seed, same bytes.
 */
import {
  holm,
  krcc,
  median,
  plcc,
  quantileSorted,
  rmse,
  seededBootstrap,
  seededDifference,
  srcc,
  type DatasetResult,
  type SeededBootstrap,
} from '@iqa-bench/metrics';
import type { StudyReportInput, StudyRunRecord } from './input.js';
import {
  STUDY_METRIC_DIRECTIONS,
  STUDY_METRICS,
  STUDY_REPORT_SCHEMA,
  type AblationStep,
  type AblationTable,
  type ComplexityPoint,
  type CurveSummary,
  type Spread,
  type StudyAggregate,
  type StudyComparison,
  type StudyDatasetInfo,
  type StudyMetric,
  type StudyRunCounts,
  type StudyRunRow,
  type SweepSummary,
  type VariantSummary,
  type Verdict,
} from './types.js';

export interface AggregateOptions {
  /** Bootstrap resamples per comparison (default 1000). */
  resamples?: number;
  /** Seed of the bootstrap, an integer in [0, 2^32) (default 0). */
  seed?: number;
  /** Interval level (default 0.95). */
  level?: number;
  /** Family-wise error rate for the Holm-adjusted `significant` flag (default 0.05). */
  alpha?: number;
  /** Metrics compared between variants (default srcc, plcc). */
  metrics?: readonly StudyMetric[];
}

/** The study's runs do not fit together (a run tested on other images, a baseline without runs, …). */
export class StudyReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StudyReportError';
  }
}

const METRIC_FNS: Record<StudyMetric, typeof srcc> = { srcc, plcc, krcc, rmse };

/** null for NaN / ±Infinity (JSON has neither). */
function jnum(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function describeRun(r: StudyRunRecord): string {
  return `run ${r.runId} (variant ${r.variant}, seed ${r.seed})`;
}

function spread(values: readonly (number | null)[]): Spread {
  const v = values.filter((x): x is number => x !== null);
  if (v.length === 0) return { n: 0, median: null, q1: null, q3: null, min: null, max: null };
  const sorted = [...v].sort((a, b) => a - b);
  return {
    n: v.length,
    median: quantileSorted(sorted, 0.5),
    q1: quantileSorted(sorted, 0.25),
    q3: quantileSorted(sorted, 0.75),
    min: sorted[0],
    max: sorted[sorted.length - 1],
  };
}

function verdictOf(
  metric: StudyMetric,
  delta: number | null,
  lower: number | null,
  upper: number | null,
): Verdict {
  if (delta === null || lower === null || upper === null) return 'not compared';
  if (lower <= 0 && upper >= 0) return 'within noise';
  const up = lower > 0;
  return STUDY_METRIC_DIRECTIONS[metric] === 'higher' ? (up ? 'better' : 'worse') : up ? 'worse' : 'better';
}

interface DatasetRef {
  info: StudyDatasetInfo;
  /** The shared image ids and ground truth, from the first finished run with predictions. */
  image: string[] | null;
  mos: number[] | null;
  owner: StudyRunRecord | null;
}

/** The study's datasets, checked to be the same (by position and name) in every finished run, on the same images. */
function collectDatasets(input: StudyReportInput, done: StudyRunRecord[], notes: string[]): DatasetRef[] {
  const first = done.find((r) => r.result !== undefined);
  if (first === undefined || first.result === undefined) return [];
  const refs: DatasetRef[] = first.result.datasets.map((d, index) => ({
    info: {
      index,
      name: d.name,
      role: index === 0 ? 'in-domain' : 'cross-dataset',
      n: null,
      direction: d.direction ?? 'higher-better',
    },
    image: null,
    mos: null,
    owner: null,
  }));
  for (const r of done) {
    if (r.result === undefined) {
      notes.push(`${describeRun(r)} is done but has no result; it is left out of every statistic`);
      continue;
    }
    const ds = r.result.datasets;
    if (ds.length !== refs.length) {
      throw new StudyReportError(
        `${describeRun(r)}: result.datasets has ${ds.length} entries but ${describeRun(first)} has ${refs.length}; every run of a study is evaluated on the same datasets`,
      );
    }
    ds.forEach((d, i) => {
      const ref = refs[i];
      const where = `${describeRun(r)}: result.datasets[${i}]`;
      if (d.name !== ref.info.name) {
        throw new StudyReportError(
          `${where}.name is "${d.name}" but ${describeRun(first)} has "${ref.info.name}" there; every run of a study lists the same datasets in the same order`,
        );
      }
      if (d.predictions === undefined) {
        notes.push(
          `${where} ("${d.name}") has no predictions; the run is left out of that dataset's statistics`,
        );
        return;
      }
      const p = d.predictions;
      if (ref.image === null || ref.mos === null || ref.owner === null) {
        ref.image = p.image;
        ref.mos = p.mos;
        ref.owner = r;
        ref.info.n = p.image.length;
        return;
      }
      const other = `${describeRun(ref.owner)}`;
      if (p.image.length !== ref.image.length) {
        throw new StudyReportError(
          `${where}.predictions holds ${p.image.length} images but ${other} holds ${ref.image.length} on "${d.name}"; runs are compared image by image, so every run must score the same images (the study's shared split)`,
        );
      }
      for (let k = 0; k < p.image.length; k++) {
        if (p.image[k] !== ref.image[k]) {
          throw new StudyReportError(
            `${where}.predictions.image[${k}] is "${p.image[k]}" but ${other} has "${ref.image[k]}" there; runs are compared image by image, so every run must score the same images in the same order (the study's shared split)`,
          );
        }
        if (p.mos[k] !== ref.mos[k]) {
          throw new StudyReportError(
            `${where}.predictions.mos[${k}] (image "${p.image[k]}") is ${p.mos[k]} but ${other} has ${ref.mos[k]}; the same image must have the same ground truth in every run`,
          );
        }
      }
    });
  }
  return refs;
}

/** The run's predictions on dataset `i`, or undefined. */
function scores(r: StudyRunRecord, i: number): number[] | undefined {
  return r.result?.datasets[i]?.predictions?.score;
}

function runMetric(d: DatasetResult | undefined, m: StudyMetric): number | null {
  if (d?.predictions === undefined) return null;
  const { score, mos } = d.predictions;
  if (score.length < 2) return null;
  return jnum(METRIC_FNS[m](score, mos, { lowerIsBetter: d.direction === 'lower-better' }));
}

function counts(records: readonly StudyRunRecord[]): StudyRunCounts {
  const c: StudyRunCounts = {
    planned: records.length,
    done: 0,
    failed: 0,
    running: 0,
    queued: 0,
    missing: 0,
  };
  for (const r of records) c[r.status]++;
  return c;
}

/** Whether a swept field reads best on a log axis: a learning rate, or positive values spanning more than a decade. */
function logAxis(field: string, values: readonly number[]): boolean {
  const last = field.split('.').pop() ?? field;
  if (/(^|_)lr$|^lr|learning.?rate/i.test(last)) return values.every((v) => v > 0);
  if (values.length < 2 || values.some((v) => !(v > 0))) return false;
  return Math.max(...values) / Math.min(...values) > 10;
}

function checkOptions(options: AggregateOptions): Required<AggregateOptions> {
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 0;
  const level = options.level ?? 0.95;
  const alpha = options.alpha ?? 0.05;
  const metrics = options.metrics ?? ['srcc', 'plcc'];
  if (!Number.isInteger(resamples) || resamples < 2)
    throw new RangeError(`aggregateStudy: resamples must be an integer >= 2, got ${resamples}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new RangeError(`aggregateStudy: seed must be an integer in [0, 2^32), got ${seed}`);
  if (!(level > 0 && level < 1))
    throw new RangeError(`aggregateStudy: level must be in (0, 1), got ${level}`);
  if (!(alpha > 0 && alpha < 1))
    throw new RangeError(`aggregateStudy: alpha must be in (0, 1), got ${alpha}`);
  if (metrics.length === 0 || metrics.some((m) => !(STUDY_METRICS as readonly string[]).includes(m)))
    throw new RangeError(
      `aggregateStudy: metrics must name some of ${STUDY_METRICS.join(', ')}, got ${metrics.join(', ') || 'none'}`,
    );
  return { resamples, seed, level, alpha, metrics: [...new Set(metrics)] };
}

export const STATISTICS_METHOD =
  'Δ = mean over the paired seeds of metric(variant) − metric(reference), runs paired by seed. Interval and p-value: ' +
  'two-level paired bootstrap — each resample draws the seeds (with replacement, among the seeds both finished) and ' +
  'then the shared test images (with replacement), the same draws for both sides; percentile interval; two-sided ' +
  'bootstrap z test p = 2·P(Z > |Δ|/SE*), SE* the standard deviation of the resampled Δ (a percentile p-value ' +
  'cannot go below 2/(B + 1), too coarse for a correction over many tests). Holm step-down adjustment over every comparison of the study ' +
  '(each variant vs the baseline and each forward-ablation step, on every dataset and compared metric). Verdict from ' +
  'the interval: "within noise" when it contains 0.';

/**
 * Aggregates a study's runs. Throws StudyReportError when the runs cannot be compared (different datasets or images,
 * a baseline or chain variant without planned runs); runs that failed, run, wait or never started are listed as such.
 */
export function aggregateStudy(input: StudyReportInput, options: AggregateOptions = {}): StudyAggregate {
  const opts = checkOptions(options);
  const notes: string[] = [];
  const variantNames: string[] = [];
  const byVariant = new Map<string, StudyRunRecord[]>();
  for (const r of input.runs) {
    if (!byVariant.has(r.variant)) {
      byVariant.set(r.variant, []);
      variantNames.push(r.variant);
    }
    byVariant.get(r.variant)?.push(r);
  }
  if (!byVariant.has(input.baseline)) {
    throw new StudyReportError(
      `baseline "${input.baseline}" has no planned runs; the variants are ${variantNames.join(', ') || '(none)'}`,
    );
  }
  (input.chain ?? []).forEach((v, i) => {
    if (!byVariant.has(v))
      throw new StudyReportError(
        `chain[${i}] names "${v}", which has no planned runs; the variants are ${variantNames.join(', ')}`,
      );
  });
  input.sweeps.forEach((s, i) =>
    s.variants.forEach((v, k) => {
      if (!byVariant.has(v.name))
        throw new StudyReportError(
          `sweeps[${i}].variants[${k}] names "${v.name}", which has no planned runs`,
        );
    }),
  );

  const done = input.runs.filter((r) => r.status === 'done');
  const datasets = collectDatasets(input, done, notes);
  const seedOrder = (a: number, b: number) => a - b;

  /** The finished runs of a variant with predictions on dataset i, by seed. */
  const usable = (variant: string, i: number): Map<number, StudyRunRecord> => {
    const m = new Map<number, StudyRunRecord>();
    for (const r of byVariant.get(variant) ?? []) {
      if (r.status === 'done' && scores(r, i) !== undefined && datasets[i]?.image !== null) m.set(r.seed, r);
    }
    return m;
  };

  // Per-run metrics, then per-variant spreads.
  const runs: StudyRunRow[] = input.runs.map((r) => ({
    runId: r.runId,
    variant: r.variant,
    seed: r.seed,
    status: r.status,
    ...(r.error !== undefined ? { error: r.error } : {}),
    metrics: datasets.map((d) => {
      const entry = r.status === 'done' ? r.result?.datasets[d.info.index] : undefined;
      const row = { dataset: d.info.name } as { dataset: string } & Record<StudyMetric, number | null>;
      for (const m of STUDY_METRICS) row[m] = runMetric(entry, m);
      return row;
    }),
  }));
  const runRow = new Map(input.runs.map((r, k) => [r, runs[k]]));

  const variantMetrics = (name: string): VariantSummary['metrics'] =>
    datasets.map((d) => {
      const rows = [...usable(name, d.info.index).values()]
        .sort((a, b) => seedOrder(a.seed, b.seed))
        .map((r) => runRow.get(r)?.metrics[d.info.index]);
      const values = {} as Record<StudyMetric, Spread>;
      for (const m of STUDY_METRICS) values[m] = spread(rows.map((row) => row?.[m] ?? null));
      return { dataset: d.info.name, values };
    });

  const variants: VariantSummary[] = variantNames.map((name) => {
    const records = byVariant.get(name) ?? [];
    const c = counts(records);
    return {
      name,
      overrides: records[0]?.overrides ?? {},
      runs: c,
      state: c.done === c.planned ? 'complete' : c.done > 0 ? 'partial' : 'no finished run',
      seedsDone: records
        .filter((r) => r.status === 'done')
        .map((r) => r.seed)
        .sort(seedOrder),
      metrics: variantMetrics(name),
    };
  });
  const metricsOf = new Map(variants.map((v) => [v.name, v.metrics]));

  const cache = new Map<string, SeededBootstrap<StudyMetric>>();
  /** Two-level bootstrap of `group` variants on dataset i over the seeds all of them finished. */
  const bootstrap = (
    group: readonly string[],
    i: number,
  ): { seeds: number[]; boot: SeededBootstrap<StudyMetric> | null; reason?: string } => {
    const d = datasets[i];
    const maps = group.map((v) => usable(v, i));
    const seeds = [...maps[0].keys()].filter((s) => maps.every((m) => m.has(s))).sort(seedOrder);
    if (d.mos === null)
      return { seeds, boot: null, reason: 'no finished run has predictions on this dataset' };
    if (seeds.length === 0) {
      const without = group.filter((_, k) => maps[k].size === 0);
      return {
        seeds,
        boot: null,
        reason:
          without.length > 0
            ? `no finished run of ${without.join(', ')}`
            : 'no seed finished by all of them (runs are paired by seed)',
      };
    }
    if (d.mos.length < 3) return { seeds, boot: null, reason: `only ${d.mos.length} test images` };
    // The resamples depend only on the bootstrap seed, the number of seeds and of images, so a variant's replicates
    // on a seed set are the same in every comparison it enters: computed once and combined here.
    const parts = group.map((v, k) => {
      const key = `${i}\u0000${v}\u0000${seeds.join(',')}`;
      let one = cache.get(key);
      if (one === undefined) {
        const runsBySeed = [seeds.map((s) => scores(maps[k].get(s) as StudyRunRecord, i) as number[])];
        one = seededBootstrap(runsBySeed, d.mos as number[], {
          seed: opts.seed,
          resamples: opts.resamples,
          level: opts.level,
          metrics: opts.metrics,
          lowerIsBetter: d.info.direction === 'lower-better',
        });
        cache.set(key, one);
      }
      return one;
    });
    const estimates = {} as Record<StudyMetric, number[]>;
    const replicates = {} as Record<StudyMetric, Float64Array[]>;
    for (const m of opts.metrics) {
      estimates[m] = parts.map((b) => b.estimates[m][0]);
      replicates[m] = parts.map((b) => b.replicates[m][0]);
    }
    const boot: SeededBootstrap<StudyMetric> = { ...parts[0], groups: group.length, estimates, replicates };
    return { seeds, boot };
  };

  const comparison = (
    kind: StudyComparison['kind'],
    variant: string,
    reference: string,
    dataset: string,
    metric: StudyMetric,
    seeds: number[],
    boot: SeededBootstrap<StudyMetric> | null,
    a: number,
    b: number,
    reason: string | undefined,
  ): StudyComparison => {
    const base = { kind, variant, reference, dataset, metric, seeds };
    if (boot === null) {
      return {
        ...base,
        value: null,
        referenceValue: null,
        delta: null,
        lower: null,
        upper: null,
        pValue: null,
        pHolm: null,
        significant: false,
        verdict: 'not compared',
        undefinedResamples: 0,
        reason: reason ?? 'not compared',
      };
    }
    const diff = seededDifference(boot, metric, a, b);
    const delta = jnum(diff.difference);
    const lower = jnum(diff.lower);
    const upper = jnum(diff.upper);
    return {
      ...base,
      value: jnum(diff.a),
      referenceValue: jnum(diff.b),
      delta,
      lower,
      upper,
      pValue: jnum(diff.zPValue),
      pHolm: null,
      significant: false,
      verdict: verdictOf(metric, delta, lower, upper),
      undefinedResamples: diff.undefinedResamples,
    };
  };

  const comparisons: StudyComparison[] = [];
  for (const v of variantNames) {
    if (v === input.baseline) continue;
    datasets.forEach((d, i) => {
      const { seeds, boot, reason } = bootstrap([v, input.baseline], i);
      for (const m of opts.metrics)
        comparisons.push(
          comparison('baseline', v, input.baseline, d.info.name, m, seeds, boot, 0, 1, reason),
        );
    });
  }

  // Forward ablation: one joint bootstrap of the whole chain per dataset, so steps and total share resamples.
  const ablation: AblationTable[] = [];
  const chain = input.chain ?? [];
  const stepComparisons: { table: AblationTable; step: AblationStep; comparison: StudyComparison }[] = [];
  if (chain.length >= 2) {
    datasets.forEach((d, i) => {
      const { seeds, boot, reason } = bootstrap(chain, i);
      for (const m of opts.metrics) {
        const last = chain.length - 1;
        const total = boot === null ? null : seededDifference(boot, m, last, 0);
        const totalReps =
          boot === null
            ? null
            : boot.replicates[m][last].map((x, r) => x - (boot.replicates[m][0][r] as number));
        const table: AblationTable = {
          dataset: d.info.name,
          metric: m,
          seeds,
          total: {
            delta: total ? jnum(total.difference) : null,
            lower: total ? jnum(total.lower) : null,
            upper: total ? jnum(total.upper) : null,
          },
          steps: [],
          ...(reason !== undefined ? { reason } : {}),
        };
        chain.forEach((v, k) => {
          if (k === 0 || boot === null || totalReps === null) {
            table.steps.push({
              variant: v,
              previous: k === 0 ? null : chain[k - 1],
              value: boot ? jnum(boot.estimates[m][k]) : null,
              delta: null,
              lower: null,
              upper: null,
              share: null,
              shareLower: null,
              shareUpper: null,
              pHolm: null,
              verdict: 'not compared',
            });
            if (k > 0) {
              stepComparisons.push({
                table,
                step: table.steps[k],
                comparison: comparison(
                  'chain',
                  v,
                  chain[k - 1],
                  d.info.name,
                  m,
                  seeds,
                  null,
                  k,
                  k - 1,
                  reason,
                ),
              });
            }
            return;
          }
          const c = comparison('chain', v, chain[k - 1], d.info.name, m, seeds, boot, k, k - 1, undefined);
          const reps = boot.replicates[m];
          const shares = new Float64Array(boot.resamples);
          for (let r = 0; r < shares.length; r++) shares[r] = (reps[k][r] - reps[k - 1][r]) / totalReps[r];
          const finite = shares.filter((x) => Number.isFinite(x)).sort();
          const alpha = (1 - opts.level) / 2;
          const totalDelta = total ? total.difference : Number.NaN;
          const step: AblationStep = {
            variant: v,
            previous: chain[k - 1],
            value: c.value,
            delta: c.delta,
            lower: c.lower,
            upper: c.upper,
            share: c.delta === null ? null : jnum(c.delta / totalDelta),
            shareLower: jnum(quantileSorted(finite, alpha)),
            shareUpper: jnum(quantileSorted(finite, 1 - alpha)),
            pHolm: null,
            verdict: c.verdict,
          };
          table.steps.push(step);
          stepComparisons.push({ table, step, comparison: c });
        });
        ablation.push(table);
      }
    });
  }
  comparisons.push(...stepComparisons.map((s) => s.comparison));

  // Holm over the whole family: every comparison that has a p-value.
  const adjusted = holm(comparisons.map((c) => c.pValue ?? Number.NaN));
  comparisons.forEach((c, k) => {
    c.pHolm = jnum(adjusted[k]);
    c.significant = c.pHolm !== null && c.pHolm <= opts.alpha;
  });
  for (const s of stepComparisons) s.step.pHolm = s.comparison.pHolm;

  const sweeps: SweepSummary[] = input.sweeps.map((s) => ({
    field: s.field,
    log: logAxis(
      s.field,
      s.variants.map((v) => v.value),
    ),
    points: s.variants.map((v) => ({
      variant: v.name,
      value: v.value,
      metrics: metricsOf.get(v.name) ?? [],
    })),
  }));

  const complexity = complexityPoints(input, variantNames, byVariant, metricsOf);
  const curves = curveSummaries(variantNames, byVariant);

  for (const v of variants) {
    if (v.state === 'no finished run') notes.push(`${v.name}: no finished run (${describeCounts(v.runs)})`);
    else if (v.state === 'partial')
      notes.push(`${v.name}: ${v.runs.done} of ${v.runs.planned} runs finished (${describeCounts(v.runs)})`);
  }

  return {
    schema: STUDY_REPORT_SCHEMA,
    name: input.name,
    baseline: input.baseline,
    chain: input.chain && input.chain.length > 0 ? [...input.chain] : null,
    seeds: [...input.seeds],
    settings: { ...input.settings },
    statistics: {
      resamples: opts.resamples,
      seed: opts.seed,
      level: opts.level,
      alpha: opts.alpha,
      metrics: [...opts.metrics],
      method: STATISTICS_METHOD,
      family: comparisons.filter((c) => c.pValue !== null).length,
    },
    datasets: datasets.map((d) => d.info),
    variants,
    comparisons,
    ablation,
    sweeps,
    complexity,
    curves,
    runs,
    notes,
  };
}

function describeCounts(c: StudyRunCounts): string {
  return (['done', 'failed', 'running', 'queued', 'missing'] as const)
    .filter((k) => c[k] > 0)
    .map((k) => `${c[k]} ${k}`)
    .join(', ');
}

/**
 * Accuracy vs complexity: the variants whose model size differs from the baseline's, with the baseline. A study whose
 * variants all share one size has none.
 */
function complexityPoints(
  input: StudyReportInput,
  names: readonly string[],
  byVariant: Map<string, StudyRunRecord[]>,
  metricsOf: Map<string, VariantSummary['metrics']>,
): ComplexityPoint[] {
  const sizeOf = (v: string) => byVariant.get(v)?.find((r) => r.complexity !== undefined)?.complexity;
  const sized = names.filter((v) => sizeOf(v) !== undefined);
  const base = sizeOf(input.baseline);
  const differs = (v: string) => {
    const c = sizeOf(v);
    return base !== undefined && c !== undefined && (c.params !== base.params || c.gmacs !== base.gmacs);
  };
  let chosen: string[];
  if (base !== undefined) chosen = sized.filter((v) => v === input.baseline || differs(v));
  else chosen = sized;
  const distinct = new Set(chosen.map((v) => `${sizeOf(v)?.params}/${sizeOf(v)?.gmacs}`));
  if (distinct.size < 2) return [];
  return chosen.map((v) => {
    const c = sizeOf(v) as { params: number; gmacs: number };
    return { variant: v, params: c.params, gmacs: c.gmacs, metrics: metricsOf.get(v) ?? [] };
  });
}

function medianOrNull(values: readonly (number | undefined)[]): number | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length === 0 ? null : median(v);
}

/** Per variant, the median training curve over its runs that recorded one (finished or not). */
function curveSummaries(names: readonly string[], byVariant: Map<string, StudyRunRecord[]>): CurveSummary[] {
  const out: CurveSummary[] = [];
  for (const v of names) {
    const withCurve = (byVariant.get(v) ?? []).filter((r) => r.curve !== undefined && r.curve.length > 0);
    if (withCurve.length === 0) continue;
    const epochs = [...new Set(withCurve.flatMap((r) => (r.curve ?? []).map((p) => p.epoch)))].sort(
      (a, b) => a - b,
    );
    out.push({
      variant: v,
      runs: withCurve.length,
      points: epochs.map((epoch) => {
        const at = withCurve.map((r) => r.curve?.find((p) => p.epoch === epoch));
        return {
          epoch,
          trainLoss: medianOrNull(at.map((p) => p?.trainLoss)),
          valSrcc: medianOrNull(at.map((p) => p?.valSrcc)),
          valPlcc: medianOrNull(at.map((p) => p?.valPlcc)),
        };
      }),
    });
  }
  return out;
}
