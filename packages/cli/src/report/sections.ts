import type { ComplexityReport } from '@iqa-bench/complexity';
import {
  datasetNotes,
  logisticCurve,
  MEAN_METRICS,
  meanCounts,
  METRIC_LABELS,
  rawErrorOffScale,
} from '../evaluation.js';

export { METRIC_LABELS };
import type { MetricName } from '@iqa-bench/metrics';
import type { LoadedResult } from '../result.js';
import type { Table } from '../table.js';
import { num } from '../table.js';
import type { EpochPoint, TrainingRun } from '../training.js';
import { barsSvg, heatmapSvg, lineSvg, scatterSvg } from './figures.js';
import type { Figure, Section } from './report.js';
import { slug } from './report.js';

/** Columns of result tables (MAE stays in the JSON: RMSE says the same in the same units). */
const TABLE_METRICS: MetricName[] = ['srcc', 'plcc', 'plccLogistic', 'krcc', 'rmse', 'rmseLogistic'];
const CORRELATIONS: MetricName[] = ['srcc', 'plcc', 'plccLogistic', 'krcc'];

export interface NamedResult {
  label: string;
  result: LoadedResult;
  /** How the numbers were made (patches, crop, preprocessing, seed, backend, model), one line; shown with the table. */
  settings?: string;
}

/** The metric columns a result's table shows. */
function tableMetrics(result: LoadedResult): MetricName[] {
  return TABLE_METRICS.filter(
    (m) => result.datasets.some((d) => d.metrics[m] !== undefined) || result.mean?.[m] !== undefined,
  );
}

/** Marks a raw RMSE on another scale than MOS (explained in resultNotes). */
export const OFF_SCALE_MARK = '†';

/**
 * The per-dataset metric table of one result, the mean last (the cross-dataset table of the original). The mean row
 * says how many datasets it averages; a mean over fewer datasets than the table has shows its count (`0.8123 (2/3)`).
 * A raw RMSE on another scale than MOS is marked (see resultNotes).
 */
export function resultTable(result: LoadedResult): Table {
  const present = tableMetrics(result);
  const rows = result.datasets.map((d) => [
    d.name,
    d.n === null ? '–' : String(d.n),
    ...present.map((m) =>
      m === 'rmse' && rawErrorOffScale(d) ? `${num(d.metrics[m])}${OFF_SCALE_MARK}` : num(d.metrics[m]),
    ),
  ]);
  if (result.mean) {
    const all = result.datasets.length;
    const counts = meanCounts(result.datasets);
    rows.push([
      `mean of ${all}`,
      '',
      ...present.map((m) => {
        const v = result.mean?.[m];
        const k = counts[m];
        return typeof v === 'number' && k !== undefined && k < all ? `${num(v)} (${k}/${all})` : num(v);
      }),
    ]);
  }
  return {
    columns: [
      { header: 'dataset' },
      { header: 'n', align: 'right' },
      ...present.map((m) => ({ header: METRIC_LABELS[m], align: 'right' as const })),
    ],
    rows,
  };
}

/**
 * The notes under a result's table: why every "–" is empty, a logistic that reverses the sign, raw errors on another
 * scale than MOS (marked in the table), and which datasets a mean over fewer than all leaves out.
 */
export function resultNotes(result: LoadedResult): string[] {
  const present = tableMetrics(result);
  const notes = result.datasets.flatMap((d) =>
    datasetNotes(d, present).map((n) => (n.startsWith(`${d.name}: RMSE `) ? `${OFF_SCALE_MARK} ${n}` : n)),
  );
  if (result.mean) {
    const unaveraged = present.filter((m) => typeof result.mean?.[m] !== 'number');
    const errors = unaveraged.filter((m) => !(MEAN_METRICS as readonly string[]).includes(m));
    if (errors.length > 0)
      notes.push(
        `mean ${errors.map((m) => METRIC_LABELS[m]).join(', ')} –: errors are on each dataset's own MOS scale and are not averaged`,
      );
    for (const m of unaveraged.filter((x) => !errors.includes(x)))
      notes.push(`mean ${METRIC_LABELS[m]} –: no dataset has a value`);
    for (const m of present) {
      const v = result.mean[m];
      if (typeof v !== 'number' || !(MEAN_METRICS as readonly string[]).includes(m)) continue;
      const missing = result.datasets.filter((d) => typeof d.metrics[m] !== 'number').map((d) => d.name);
      if (missing.length > 0)
        notes.push(
          `mean ${METRIC_LABELS[m]}: over ${result.datasets.length - missing.length} of ${result.datasets.length} datasets (without ${missing.join(', ')})`,
        );
    }
  }
  return notes;
}

/** The heatmap's colour scale: 0…1, or −1…1 when a correlation is negative (it is then coloured, not clamped to 0). */
function correlationScale(values: readonly (readonly (number | null)[])[]): { min: number; max: number } {
  return values.some((row) => row.some((v) => v !== null && v < 0))
    ? { min: -1, max: 1 }
    : { min: 0, max: 1 };
}

/** Heatmap: metrics × datasets for one result; results × datasets (SRCC) for several. */
export function resultHeatmap(results: readonly NamedResult[]): Figure | undefined {
  if (results.length === 0) return undefined;
  if (results.length === 1) {
    const r = results[0].result;
    const metrics = CORRELATIONS.filter((m) => r.datasets.some((d) => typeof d.metrics[m] === 'number'));
    if (metrics.length === 0 || r.datasets.length === 0) return undefined;
    const values = metrics.map((m) => r.datasets.map((d) => d.metrics[m] ?? null));
    return {
      name: 'heatmap',
      caption: `Correlations per dataset (${results[0].label})`,
      svg: heatmapSvg({
        title: 'Correlation with MOS per dataset',
        rows: metrics.map((m) => METRIC_LABELS[m]),
        cols: r.datasets.map((d) => d.name),
        values,
        ...correlationScale(values),
      }),
    };
  }
  const cols = [...new Set(results.flatMap((r) => r.result.datasets.map((d) => d.name)))];
  const values = results.map((r) =>
    cols.map((c) => r.result.datasets.find((d) => d.name === c)?.metrics.srcc ?? null),
  );
  return {
    name: 'heatmap',
    caption: 'SRCC per model (rows) and test dataset (columns)',
    svg: heatmapSvg({
      title: 'Cross-dataset SRCC',
      rows: results.map((r) => r.label),
      cols,
      values,
      ...correlationScale(values),
    }),
  };
}

/** Predicted score against MOS for every dataset that kept its per-image predictions, with the fitted curve. */
export function scatterFigures(results: readonly NamedResult[]): Figure[] {
  const figs: Figure[] = [];
  const names = new Set<string>();
  /** A file stem not used yet (labels that differ may still slug alike). */
  const unique = (stem: string) => {
    let name = stem;
    for (let k = 2; names.has(name); k++) name = `${stem}-${k}`;
    names.add(name);
    return name;
  };
  for (const { label, result } of results) {
    for (const d of result.datasets) {
      if (!d.predictions || d.predictions.score.length === 0) continue;
      const { score, mos } = d.predictions;
      const curve = logisticCurve(score, mos, d.direction === 'lower-better') ?? undefined;
      const stats = (['srcc', 'plcc', 'plccLogistic'] as const)
        .filter((m) => typeof d.metrics[m] === 'number')
        .map((m) => `${METRIC_LABELS[m]} ${num(d.metrics[m])}`);
      const title = results.length > 1 ? `${d.name} · ${label}` : d.name;
      figs.push({
        name: unique(slug(`scatter-${results.length > 1 ? `${label}-` : ''}${d.name}`)),
        caption: `Predicted score vs MOS on ${d.name}${curve ? ', with the fitted 4-parameter logistic' : ''}`,
        svg: scatterSvg({
          title,
          x: score,
          y: mos,
          ...(curve ? { curve } : {}),
          note: [...stats, `n ${score.length}`].join(' · '),
        }),
      });
    }
  }
  return figs;
}

/** The sections of a report built from result files (cross-dataset / eval). */
export function resultSections(results: readonly NamedResult[]): Section[] {
  if (results.length === 0) return [];
  const heat = resultHeatmap(results);
  const sections: Section[] = [
    {
      title: 'Results per dataset',
      tables: results.map((r) => ({
        caption: r.label,
        table: resultTable(r.result),
        notes: [...(r.settings ? [`Settings: ${r.settings}`] : []), ...resultNotes(r.result)],
        latex: true,
      })),
      figures: heat ? [heat] : [],
    },
  ];
  const scatters = scatterFigures(results);
  if (scatters.length > 0) sections.push({ title: 'Predicted score vs MOS', figures: scatters });
  return sections;
}

/** Loss and correlation curves over epochs of a training run, and its per-epoch table. */
export function trainingSection(label: string, run: TrainingRun): Section {
  const rounds = [...new Set(run.epochs.map((e) => e.round))].sort((a, b) => a - b);
  const tag = (r: number) => (rounds.length > 1 ? ` (round ${r + 1})` : '');
  const series = (pick: (e: EpochPoint) => number | null, name: string) =>
    rounds.map((r) => ({
      name: `${name}${tag(r)}`,
      points: run.epochs
        .filter((e) => e.round === r && pick(e) !== null)
        .map((e) => [e.epoch, pick(e) as number] as const),
    }));
  const part = run.epochs[0]?.part ?? 'val';
  const corr = [
    ...series((e) => e.trainSrcc, 'train SRCC'),
    ...series((e) => e.select.srcc ?? null, `${part} SRCC`),
    ...series((e) => e.select.plcc ?? null, `${part} PLCC`),
  ].filter((s) => s.points.length > 0);
  const figures: Figure[] = [
    {
      name: slug(`training-loss-${label}`),
      caption: `Training loss per epoch (${label})`,
      svg: lineSvg({
        title: 'Training loss',
        xLabel: 'epoch',
        yLabel: 'loss',
        xInteger: true,
        series: series((e) => e.loss, 'loss'),
      }),
    },
    {
      name: slug(`training-correlation-${label}`),
      caption: `Training SRCC and ${part} SRCC / PLCC per epoch (${label})`,
      svg: lineSvg({
        title: 'Correlation with MOS',
        xLabel: 'epoch',
        yLabel: 'correlation',
        xInteger: true,
        series: corr,
      }),
    },
  ];
  const table: Table = {
    columns: [
      ...(rounds.length > 1 ? [{ header: 'round', align: 'right' as const }] : []),
      { header: 'epoch', align: 'right' },
      { header: 'loss', align: 'right' },
      { header: 'train SRCC', align: 'right' },
      { header: `${part} SRCC`, align: 'right' },
      { header: `${part} PLCC`, align: 'right' },
      { header: `${part} KRCC`, align: 'right' },
      { header: 'selected' },
    ],
    rows: run.epochs.map((e) => [
      ...(rounds.length > 1 ? [String(e.round + 1)] : []),
      String(e.epoch),
      num(e.loss),
      num(e.trainSrcc),
      num(e.select.srcc),
      num(e.select.plcc),
      num(e.select.krcc),
      e.best ? '*' : '',
    ]),
  };
  return {
    title: `Training: ${label}`,
    paragraphs: run.tornLastLine
      ? ['metrics.jsonl ends in a partial line (the run was interrupted); it is ignored.']
      : [],
    tables: [{ caption: 'Per epoch (* = best so far on the selection part)', table }],
    figures,
  };
}

type Latency = NonNullable<ComplexityReport['models'][number]['latency']>['stats'];
type Throughput = NonNullable<ComplexityReport['models'][number]['throughput']>['entries'][number];

/** `8.12 (7.95–8.60)`: a median and its interquartile range. */
function medianIqr(median: number, q1: number, q3: number, digits: number): string {
  return `${median.toFixed(digits)} (${q1.toFixed(digits)}–${q3.toFixed(digits)})`;
}

/** Batch-1 latency: median (IQR); mean ± std for reports written before the quartiles were measured. */
export function latencyCell(l: Latency | undefined): string {
  if (!l) return '–';
  if (l.q1Ms !== undefined && l.q3Ms !== undefined) return medianIqr(l.medianMs, l.q1Ms, l.q3Ms, 1);
  return `${l.meanMs.toFixed(1)} ± ${l.stdMs.toFixed(1)}`;
}

/** Images per second: median of the batches (IQR); the overall rate for reports written before. */
function throughputCell(e: Throughput | undefined): string {
  if (!e) return '–';
  if (e.status === 'out-of-memory') return 'OOM';
  if (e.status !== 'ok' || e.imagesPerSecond === undefined) return 'skip';
  return e.rate ? medianIqr(e.rate.median, e.rate.q1, e.rate.q3, 1) : e.imagesPerSecond.toFixed(2);
}

/** The complexity table (one row per model) as the CLI prints it and the HTML report shows it. */
export function complexityTable(report: ComplexityReport): Table {
  const sizes = [
    ...new Set(report.models.flatMap((m) => m.throughput?.entries.map((e) => e.batchSize) ?? [])),
  ].sort((a, b) => a - b);
  const hasLatency = report.models.some((m) => m.latency !== null);
  return {
    columns: [
      { header: 'model' },
      { header: 'params (M)', align: 'right' },
      { header: 'GMACs', align: 'right' },
      { header: 'GFLOPs', align: 'right' },
      { header: 'HyperNet GMACs', align: 'right' },
      ...(hasLatency
        ? [
            { header: 'latency ms, median (IQR)', align: 'right' as const },
            { header: 'runs', align: 'right' as const },
          ]
        : []),
      ...sizes.map((b) => ({ header: `img/s @${b}, median (IQR)`, align: 'right' as const })),
      { header: 'peak MiB', align: 'right' },
    ],
    rows: report.models.map((m) => {
      const lat = m.latency?.stats;
      return [
        m.name,
        (m.params.total / 1e6).toFixed(m.params.total < 1e5 ? 4 : 2),
        (m.ops.whole.macs / 1e9).toFixed(2),
        (m.ops.whole.flops / 1e9).toFixed(2),
        m.ops.hypernet ? (m.ops.hypernet.macs / 1e9).toFixed(2) : '–',
        ...(hasLatency ? [latencyCell(lat), lat ? String(lat.runs) : '–'] : []),
        ...sizes.map((b) => throughputCell(m.throughput?.entries.find((x) => x.batchSize === b))),
        (m.ops.whole.memory.peakBytes / 2 ** 20).toFixed(0),
      ];
    }),
  };
}

/** One line naming where the numbers were measured. */
export function complexityEnvironment(report: ComplexityReport): string {
  const e = report.environment;
  const device = e.gpu ? `GPU ${e.gpu}, CPU ${e.cpu.model}` : `CPU ${e.cpu.model} (${e.cpu.cores} cores)`;
  return `backend ${e.backend}${e.threads !== null ? ` (${e.threads} thread(s))` : ''}, tfjs ${e.tfjsVersion}, ${device}, Node ${e.node}; @iqa-bench/complexity ${report.tool.version}`;
}

/**
 * Notes of @iqa-bench/complexity that explain its JSON fields or method rather than the numbers shown (how
 * `ops.hypernet` was traced, the module attribution method, the MAC/FLOP definitions the paragraph states, reference
 * checks the report does not show): left out of the report, kept in the JSON.
 */
const INTERNAL_NOTES = [
  /\bops\.(whole|hypernet)\b/,
  /^No HyperNet-only op count/,
  /^Module attribution/,
  /^MACs: multiply-accumulates/,
  /^Reference MAC checks/,
];

/** Each distinct note a reader needs once, named by the models it applies to (all models: no names). */
function notesOf(report: ComplexityReport): string[] {
  const byNote = new Map<string, string[]>();
  for (const m of report.models)
    for (const n of m.notes) {
      if (INTERNAL_NOTES.some((re) => re.test(n))) continue;
      byNote.set(n, [...(byNote.get(n) ?? []), m.name]);
    }
  return [...byNote].map(([n, models]) =>
    models.length === report.models.length ? n : `${models.join(', ')}: ${n}`,
  );
}

/** Parameters, MACs and latency side by side, as bars, with the table and the measurement conditions. */
export function complexitySection(report: ComplexityReport, index = 0): Section {
  const labels = report.models.map((m) => m.name);
  const panels = [
    { title: 'params (M)', values: report.models.map((m) => m.params.total / 1e6) },
    { title: 'GMACs', values: report.models.map((m) => m.ops.whole.macs / 1e9) },
  ];
  if (report.models.some((m) => m.latency !== null)) {
    panels.push({
      title: 'latency (ms, median)',
      values: report.models.map((m) => m.latency?.stats.medianMs ?? Number.NaN),
    });
  }
  return {
    title: 'Complexity',
    paragraphs: [
      `Measured with ${complexityEnvironment(report)}. MACs count multiply-accumulates of the executed kernels (the whole model, TargetNet included); FLOPs = 2 × MACs plus every other arithmetic operation. Input 224 × 224.`,
      ...notesOf(report),
    ],
    tables: [{ table: complexityTable(report) }],
    figures: [
      {
        name: index === 0 ? 'complexity' : `complexity-${index + 1}`,
        caption: 'Parameters, MACs and batch-1 latency per model',
        svg: barsSvg({ title: 'Complexity', labels, panels }),
      },
    ],
  };
}
