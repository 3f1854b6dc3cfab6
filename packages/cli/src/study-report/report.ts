/**
 * The study report: an aggregate (`@iqa-bench/study`'s `aggregateStudy`) as HTML, Markdown, LaTeX tables and JSON, with
 * its figures as SVG and PNG, through the single-run report's writer. Every variant has a row, finished or not; the
 * evaluation settings and the statistical method are stated on the page.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '@iqa-bench/core/fs';
import {
  aggregateStudy,
  STUDY_METRIC_DIRECTIONS,
  STUDY_REPORT_SCHEMA,
  type AggregateOptions,
  type Spread,
  type StudyAggregate,
  type StudyComparison,
  type StudyMetric,
  type StudyReportInput,
  type VariantSummary,
} from '@iqa-bench/study';
import { lineSvg } from '../report/figures.js';
import type { Figure, Report, Section } from '../report/report.js';
import { slug, writeReport } from '../report/report.js';
import type { Table } from '../table.js';
import { num, signed } from '../table.js';
import { dualBarsSvg, whiskerPlotSvg, type CurveSeries } from './figures.js';

export const STUDY_METRIC_LABELS: Record<StudyMetric, string> = {
  srcc: 'SRCC',
  plcc: 'PLCC',
  krcc: 'KRCC',
  rmse: 'RMSE',
};

export interface StudyReportOptions extends AggregateOptions {
  /** Also write PNGs of the figures (default true). */
  png?: boolean;
  /** Page title (default: "Study: <name>"). */
  title?: string;
}

/** `0.9012 (0.8990–0.9030)`: a median and its interquartile range; `–` without values. */
export function medianIqr(s: Spread | undefined, digits = 4): string {
  if (s === undefined || s.median === null) return '–';
  if (s.n === 1 || s.q1 === null || s.q3 === null) return num(s.median, digits);
  return `${num(s.median, digits)} (${num(s.q1, digits)}–${num(s.q3, digits)})`;
}

function range(s: Spread | undefined, digits = 4): string {
  if (s === undefined || s.min === null || s.max === null) return '–';
  return `${num(s.min, digits)}–${num(s.max, digits)}`;
}

/** `[-0.0100, +0.0019]`. */
function interval(lower: number | null, upper: number | null, digits = 4): string {
  if (lower === null || upper === null) return '–';
  return `[${signed(lower, digits)}, ${signed(upper, digits)}]`;
}

/** A p-value: three decimals, or two significant digits below 0.001. */
export function pText(p: number | null): string {
  if (p === null) return '–';
  if (p >= 0.001) return p.toFixed(3);
  return p === 0 ? '0' : p.toExponential(1);
}

/** A config value as a reader writes it: small and large numbers in exponent form (`1e-6`, `5e-7`), others as JSON. */
export function valueText(v: unknown): string {
  if (typeof v === 'number' && v !== 0 && Number.isFinite(v) && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) {
    return v.toExponential().replace(/\.?0*e\+?/, 'e');
  }
  return JSON.stringify(v) ?? String(v);
}

function percent(v: number | null): string {
  return v === null ? '–' : `${(100 * v).toFixed(1)} %`;
}

function runsCell(v: VariantSummary): string {
  return `${v.runs.done}/${v.runs.planned}`;
}

function stateText(v: VariantSummary): string {
  if (v.state === 'complete') return 'complete';
  const parts = (['failed', 'running', 'queued', 'missing'] as const)
    .filter((k) => v.runs[k] > 0)
    .map((k) => `${v.runs[k]} ${k}`);
  return v.state === 'no finished run'
    ? `NO FINISHED RUN (${parts.join(', ')})`
    : `partial (${parts.join(', ')})`;
}

function datasetTitle(agg: StudyAggregate, i: number): string {
  const d = agg.datasets[i];
  return `${d.name} (${d.role}${d.n !== null ? `, ${d.n} images` : ''})`;
}

/** The per-variant table of one dataset: median (IQR) and range over seeds of each metric, every variant a row. */
export function variantTable(agg: StudyAggregate, i: number): Table {
  const metrics: StudyMetric[] = ['srcc', 'plcc', 'krcc', 'rmse'];
  return {
    columns: [
      { header: 'variant' },
      { header: 'runs done', align: 'right' },
      ...metrics.flatMap((m) => [
        { header: `${STUDY_METRIC_LABELS[m]} median (IQR)`, align: 'right' as const },
        ...(m === 'srcc' || m === 'plcc'
          ? [{ header: `${STUDY_METRIC_LABELS[m]} min–max`, align: 'right' as const }]
          : []),
      ]),
      { header: 'state' },
    ],
    rows: agg.variants.map((v) => {
      const values = v.metrics[i]?.values;
      return [
        v.name === agg.baseline ? `${v.name} (baseline)` : v.name,
        runsCell(v),
        ...metrics.flatMap((m) => [
          medianIqr(values?.[m]),
          ...(m === 'srcc' || m === 'plcc' ? [range(values?.[m])] : []),
        ]),
        stateText(v),
      ];
    }),
  };
}

function verdictText(c: StudyComparison): string {
  if (c.verdict === 'not compared') return `not compared: ${c.reason ?? ''}`.trim();
  if (c.verdict === 'within noise') return 'within noise';
  return `${c.verdict}${c.significant ? '' : ' (not significant after Holm)'}`;
}

/** Δ vs the baseline on one dataset: one row per variant and compared metric. */
export function comparisonTable(agg: StudyAggregate, dataset: string): Table {
  const rows = agg.comparisons.filter((c) => c.kind === 'baseline' && c.dataset === dataset);
  const level = Math.round(agg.statistics.level * 100);
  return {
    columns: [
      { header: 'variant' },
      { header: 'metric' },
      { header: 'mean over seeds', align: 'right' },
      { header: 'Δ vs baseline', align: 'right' },
      { header: `${level} % interval`, align: 'right' },
      { header: 'p', align: 'right' },
      { header: 'p (Holm)', align: 'right' },
      { header: 'verdict' },
      { header: 'seeds' },
    ],
    rows: rows.map((c) => [
      c.variant,
      `${STUDY_METRIC_LABELS[c.metric]} ${STUDY_METRIC_DIRECTIONS[c.metric] === 'higher' ? '↑' : '↓'}`,
      num(c.value),
      signed(c.delta),
      interval(c.lower, c.upper),
      pText(c.pValue),
      pText(c.pHolm),
      verdictText(c),
      c.seeds.join(', ') || '–',
    ]),
  };
}

/** The forward-ablation table of one dataset and metric, as the original reports it, with intervals. */
export function ablationTable(agg: StudyAggregate, k: number): Table {
  const t = agg.ablation[k];
  const level = Math.round(agg.statistics.level * 100);
  const label = STUDY_METRIC_LABELS[t.metric];
  return {
    columns: [
      { header: 'step', align: 'right' },
      { header: 'variant' },
      { header: label, align: 'right' },
      { header: `Δ ${label} vs previous`, align: 'right' },
      { header: `${level} % interval`, align: 'right' },
      { header: 'share of total', align: 'right' },
      { header: `share ${level} % interval`, align: 'right' },
      { header: 'p (Holm)', align: 'right' },
      { header: 'verdict' },
    ],
    rows: [
      ...t.steps.map((s, i) => [
        String(i),
        s.variant,
        num(s.value),
        s.previous === null ? '' : signed(s.delta),
        s.previous === null ? '' : interval(s.lower, s.upper),
        s.previous === null ? '' : percent(s.share),
        s.previous === null ? '' : interval100(s.shareLower, s.shareUpper),
        s.previous === null ? '' : pText(s.pHolm),
        s.previous === null ? 'start' : s.verdict,
      ]),
      ['', 'total', '', signed(t.total.delta), interval(t.total.lower, t.total.upper), '100.0 %', '', '', ''],
    ],
  };
}

function interval100(lo: number | null, hi: number | null): string {
  if (lo === null || hi === null) return '–';
  return `[${(100 * lo).toFixed(1)}, ${(100 * hi).toFixed(1)}] %`;
}

function whisker(s: Spread | undefined): { median: number | null; low: number | null; high: number | null } {
  return { median: s?.median ?? null, low: s?.min ?? null, high: s?.max ?? null };
}

function resultsSection(agg: StudyAggregate, i: number): Section {
  const d = agg.datasets[i];
  const figure: Figure = {
    name: slug(`bars-${i}-${d.name}`),
    caption: `SRCC and PLCC per variant on ${d.name}: bars are the median over seeds, error bars the range (min–max); variants without a finished run are marked`,
    svg: dualBarsSvg({
      title: `SRCC / PLCC per variant · ${d.name}`,
      labels: agg.variants.map((v) => v.name),
      series: (['srcc', 'plcc'] as const).map((m) => ({
        name: STUDY_METRIC_LABELS[m],
        values: agg.variants.map((v) => whisker(v.metrics[i]?.values[m])),
      })),
      emptyLabel: 'no finished run',
      yLabel: 'correlation with MOS',
    }),
  };
  return {
    title: `Results: ${datasetTitle(agg, i)}`,
    tables: [
      {
        caption: `Per variant on ${d.name}: median over seeds (interquartile range), range over seeds`,
        table: variantTable(agg, i),
        latex: true,
        notes:
          d.direction === 'lower-better'
            ? ['Ground truth is lower-is-better: correlations are against −MOS.']
            : [],
      },
    ],
    figures: [figure],
  };
}

function comparisonSection(agg: StudyAggregate): Section | undefined {
  if (!agg.comparisons.some((c) => c.kind === 'baseline')) return undefined;
  const level = Math.round(agg.statistics.level * 100);
  return {
    title: `Δ vs baseline (${agg.baseline})`,
    paragraphs: [
      `${agg.statistics.method} Holm family: ${agg.statistics.family} test(s), α = ${agg.statistics.alpha}; ${agg.statistics.resamples} resamples, bootstrap seed ${agg.statistics.seed}, ${level} % intervals.`,
    ],
    tables: agg.datasets.map((d) => ({
      caption: `Δ vs ${agg.baseline} on ${d.name}`,
      table: comparisonTable(agg, d.name),
      latex: true,
    })),
  };
}

function ablationSection(agg: StudyAggregate): Section | undefined {
  if (agg.ablation.length === 0 || agg.chain === null) return undefined;
  return {
    title: 'Forward ablation',
    paragraphs: [
      `Chain: ${agg.chain.join(' → ')}. Each step's Δ is against the step before, on the seeds every step finished (one joint bootstrap per dataset, so the steps and the total share resamples); "share of total" is the step's Δ over the total Δ from the first to the last step, as the original reports it.`,
    ],
    tables: agg.ablation.map((t, k) => ({
      caption: `Forward ablation, ${STUDY_METRIC_LABELS[t.metric]} on ${t.dataset} (seeds ${t.seeds.join(', ') || '–'})`,
      table: ablationTable(agg, k),
      notes: t.reason ? [`Not compared: ${t.reason}`] : [],
      latex: true,
    })),
  };
}

function sweepSections(agg: StudyAggregate): Section[] {
  const baseline = agg.variants.find((v) => v.name === agg.baseline);
  return agg.sweeps.map((s, k) => {
    const series: CurveSeries[] = (['srcc', 'plcc'] as const).map((m) => ({
      name: `${STUDY_METRIC_LABELS[m]} (${agg.datasets[0]?.name ?? 'test'})`,
      points: s.points.map((p) => {
        const v = p.metrics[0]?.values[m];
        return { x: p.value, y: v?.median ?? null, low: v?.q1 ?? null, high: v?.q3 ?? null };
      }),
    }));
    const baseSrcc = baseline?.metrics[0]?.values.srcc.median ?? null;
    const table: Table = {
      columns: [
        { header: s.field, align: 'right' },
        { header: 'variant' },
        { header: 'runs done', align: 'right' },
        ...agg.datasets.flatMap((d) =>
          (['srcc', 'plcc'] as const).map((m) => ({
            header: `${STUDY_METRIC_LABELS[m]} ${d.name}`,
            align: 'right' as const,
          })),
        ),
      ],
      rows: s.points.map((p) => {
        const v = agg.variants.find((x) => x.name === p.variant);
        return [
          valueText(p.value),
          p.variant,
          v ? runsCell(v) : '–',
          ...agg.datasets.flatMap((_, i) =>
            (['srcc', 'plcc'] as const).map((m) => medianIqr(p.metrics[i]?.values[m])),
          ),
        ];
      }),
    };
    return {
      title: `Sensitivity: ${s.field}`,
      tables: [{ caption: `${s.field}: median over seeds (interquartile range)`, table, latex: true }],
      figures: [
        {
          name: slug(`sweep-${k}-${s.field}`),
          caption: `${s.field} against SRCC / PLCC on ${agg.datasets[0]?.name ?? 'the test set'}: median over seeds, error bars the interquartile range${s.log ? ' (log axis)' : ''}`,
          svg: whiskerPlotSvg({
            title: `Sensitivity to ${s.field}`,
            xLabel: s.field,
            yLabel: 'correlation with MOS',
            xLog: s.log,
            lines: true,
            series,
            ...(baseSrcc !== null
              ? { reference: { y: baseSrcc, label: `baseline SRCC ${num(baseSrcc)}` } }
              : {}),
          }),
        },
      ],
    };
  });
}

function complexitySection(agg: StudyAggregate): Section | undefined {
  if (agg.complexity.length === 0) return undefined;
  const name0 = agg.datasets[0]?.name ?? 'test';
  const axesOf = [
    { key: 'params' as const, label: 'parameters (M)', scale: 1e-6 },
    { key: 'gmacs' as const, label: 'GMACs (224 × 224)', scale: 1 },
  ];
  const figures: Figure[] = axesOf.map((a) => {
    const xs = agg.complexity.map((p) => p[a.key] * a.scale);
    const log = Math.min(...xs) > 0 && Math.max(...xs) / Math.min(...xs) > 10;
    return {
      name: `accuracy-vs-${a.key}`,
      caption: `SRCC on ${name0} against ${a.label}: median over seeds, error bars the range${log ? ' (log axis)' : ''}`,
      svg: whiskerPlotSvg({
        title: `Accuracy vs ${a.key === 'params' ? 'parameters' : 'GMACs'}`,
        xLabel: a.label,
        yLabel: `SRCC (${name0})`,
        xLog: log,
        lines: false,
        series: [
          {
            name: 'SRCC',
            points: agg.complexity.map((p) => {
              const v = p.metrics[0]?.values.srcc;
              return {
                x: p[a.key] * a.scale,
                y: v?.median ?? null,
                low: v?.min ?? null,
                high: v?.max ?? null,
                label: p.variant,
              };
            }),
          },
        ],
      }),
    };
  });
  const table: Table = {
    columns: [
      { header: 'variant' },
      { header: 'params (M)', align: 'right' },
      { header: 'GMACs', align: 'right' },
      { header: `SRCC ${name0}`, align: 'right' },
      { header: `PLCC ${name0}`, align: 'right' },
    ],
    rows: agg.complexity.map((p) => [
      p.variant,
      (p.params / 1e6).toFixed(2),
      p.gmacs.toFixed(2),
      medianIqr(p.metrics[0]?.values.srcc),
      medianIqr(p.metrics[0]?.values.plcc),
    ]),
  };
  return {
    title: 'Accuracy vs complexity',
    tables: [{ caption: 'Size variants (and the baseline): model size and accuracy', table, latex: true }],
    figures,
  };
}

function curvesSection(agg: StudyAggregate): Section | undefined {
  if (agg.curves.length === 0) return undefined;
  const series = (pick: 'trainLoss' | 'valSrcc') =>
    agg.curves
      .map((c) => ({
        name: c.variant,
        points: c.points.filter((p) => p[pick] !== null).map((p) => [p.epoch, p[pick] as number] as const),
      }))
      .filter((s) => s.points.length > 0);
  const figures: Figure[] = [];
  const val = series('valSrcc');
  if (val.length > 0)
    figures.push({
      name: 'curves-val-srcc',
      caption: 'Validation SRCC per epoch: the median over each variant’s runs',
      svg: lineSvg({
        title: 'Validation SRCC',
        xLabel: 'epoch',
        yLabel: 'SRCC',
        xInteger: true,
        series: val,
      }),
    });
  const loss = series('trainLoss');
  if (loss.length > 0)
    figures.push({
      name: 'curves-train-loss',
      caption: 'Training loss per epoch: the median over each variant’s runs',
      svg: lineSvg({ title: 'Training loss', xLabel: 'epoch', yLabel: 'loss', xInteger: true, series: loss }),
    });
  return {
    title: 'Training curves',
    paragraphs: [
      `Runs per variant: ${agg.curves.map((c) => `${c.variant} ${c.runs}`).join(', ')} (unfinished runs contribute the epochs they logged).`,
    ],
    figures,
  };
}

function runsSection(agg: StudyAggregate): Section {
  const summary: Table = {
    columns: [
      { header: 'variant' },
      { header: 'overrides' },
      { header: 'planned', align: 'right' },
      { header: 'done', align: 'right' },
      { header: 'failed', align: 'right' },
      { header: 'running', align: 'right' },
      { header: 'queued', align: 'right' },
      { header: 'missing', align: 'right' },
      { header: 'state' },
    ],
    rows: agg.variants.map((v) => [
      v.name,
      Object.entries(v.overrides)
        .map(([k, x]) => `${k}: ${valueText(x)}`)
        .join(', ') || (v.name === agg.baseline ? '(baseline)' : '–'),
      String(v.runs.planned),
      String(v.runs.done),
      String(v.runs.failed),
      String(v.runs.running),
      String(v.runs.queued),
      String(v.runs.missing),
      stateText(v),
    ]),
  };
  const open = agg.runs.filter((r) => r.status !== 'done');
  const tables: NonNullable<Section['tables']> = [{ caption: 'Runs per variant', table: summary }];
  tables.push({
    caption: 'Runs not finished (failed, running, queued or never started)',
    table: {
      columns: [
        { header: 'variant' },
        { header: 'seed', align: 'right' },
        { header: 'run id' },
        { header: 'status' },
        { header: 'error' },
      ],
      rows: open.map((r) => [r.variant, String(r.seed), r.runId, r.status.toUpperCase(), r.error ?? '']),
    },
    notes: open.length === 0 ? ['Every planned run finished.'] : [],
  });
  return { title: 'Runs', tables, paragraphs: agg.notes };
}

function settingsSection(agg: StudyAggregate): Section {
  const rows: string[][] = [
    ['study', agg.name],
    ['baseline', agg.baseline],
    ['seeds', agg.seeds.join(', ')],
    ...Object.entries(agg.settings).map(([k, v]) => [k, String(v)]),
    ['datasets', agg.datasets.map((d) => `${d.name} (${d.role}, ${d.n ?? '?'} images)`).join('; ') || '–'],
    ['compared metrics', agg.statistics.metrics.map((m) => STUDY_METRIC_LABELS[m]).join(', ')],
    [
      'bootstrap',
      `${agg.statistics.resamples} resamples, seed ${agg.statistics.seed}, ${agg.statistics.level * 100} % intervals`,
    ],
    ['Holm family', `${agg.statistics.family} tests, α = ${agg.statistics.alpha}`],
  ];
  return {
    title: 'Evaluation settings',
    tables: [{ table: { columns: [{ header: 'setting' }, { header: 'value' }], rows } }],
  };
}

/** The report (sections, tables, figures) of a study aggregate. */
export function studyReport(agg: StudyAggregate, title?: string): Report {
  const settingsLine = Object.entries(agg.settings)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(' · ');
  const done = agg.runs.filter((r) => r.status === 'done').length;
  const sections: Section[] = [
    settingsSection(agg),
    runsSection(agg),
    ...agg.datasets.map((_, i) => resultsSection(agg, i)),
  ];
  for (const s of [comparisonSection(agg), ablationSection(agg)]) if (s) sections.push(s);
  sections.push(...sweepSections(agg));
  for (const s of [complexitySection(agg), curvesSection(agg)]) if (s) sections.push(s);
  return {
    title: title ?? `Study: ${agg.name}`,
    meta: [
      `Baseline ${agg.baseline} · seeds ${agg.seeds.join(', ')} · ${done} of ${agg.runs.length} runs finished`,
      `Evaluation: ${settingsLine || 'no settings recorded'}`,
    ],
    sections,
  };
}

function isAggregate(v: StudyReportInput | StudyAggregate): v is StudyAggregate {
  return (v as StudyAggregate).schema === STUDY_REPORT_SCHEMA;
}

/**
 * Writes a study's report into `outDir`: `study-report.json` (the aggregate), `report.html` (self-contained),
 * `report.md`, `report.tex` (the result tables, booktabs) and `figures/<name>.svg` + `.png`, each file atomically.
 * Takes the study's input (aggregated here with `options`' resamples and seed) or an aggregate. Returns the aggregate
 * and the files written, relative to `outDir`.
 */
export async function writeStudyReport(
  source: StudyReportInput | StudyAggregate,
  outDir: string,
  options: StudyReportOptions = {},
): Promise<{ aggregate: StudyAggregate; files: string[] }> {
  const { png, title, ...agg } = options;
  const aggregate = isAggregate(source) ? source : aggregateStudy(source, agg);
  const files = await writeReport(outDir, studyReport(aggregate, title), { png: png !== false });
  await writeFileAtomic(join(outDir, 'study-report.json'), `${JSON.stringify(aggregate, null, 2)}\n`);
  return { aggregate, files: [...files, 'study-report.json'] };
}
