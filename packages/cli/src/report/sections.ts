import type { ComplexityReport } from '@iqa-bench/complexity';
import { logisticCurve } from '../evaluation.js';
import type { MetricName } from '@iqa-bench/metrics';
import type { LoadedResult } from '../result.js';
import type { Table } from '../table.js';
import { num } from '../table.js';
import type { EpochPoint, TrainingRun } from '../training.js';
import { barsSvg, heatmapSvg, lineSvg, scatterSvg } from './figures.js';
import type { Figure, Section } from './report.js';
import { slug } from './report.js';

/** How result metrics are labelled in tables and figures. */
export const METRIC_LABELS: Record<MetricName, string> = {
  srcc: 'SRCC',
  plcc: 'PLCC',
  plccLogistic: 'PLCC (logistic)',
  krcc: 'KRCC',
  rmse: 'RMSE',
  rmseLogistic: 'RMSE (logistic)',
  mae: 'MAE',
  maeLogistic: 'MAE (logistic)',
};
/** Columns of result tables (MAE stays in the JSON: RMSE says the same in the same units). */
const TABLE_METRICS: MetricName[] = ['srcc', 'plcc', 'plccLogistic', 'krcc', 'rmse', 'rmseLogistic'];
const CORRELATIONS: MetricName[] = ['srcc', 'plcc', 'plccLogistic', 'krcc'];

export interface NamedResult {
  label: string;
  result: LoadedResult;
}

/** The per-dataset metric table of one result, the mean last (the cross-dataset table of the original). */
export function resultTable(result: LoadedResult): Table {
  const present = TABLE_METRICS.filter(
    (m) => result.datasets.some((d) => d.metrics[m] !== undefined) || result.mean?.[m] !== undefined,
  );
  const rows = result.datasets.map((d) => [
    d.name,
    d.n === null ? '–' : String(d.n),
    ...present.map((m) => num(d.metrics[m])),
  ]);
  if (result.mean) rows.push(['mean', '', ...present.map((m) => num(result.mean?.[m]))]);
  return {
    columns: [
      { header: 'dataset' },
      { header: 'n', align: 'right' },
      ...present.map((m) => ({ header: METRIC_LABELS[m], align: 'right' as const })),
    ],
    rows,
  };
}

/** Heatmap: metrics × datasets for one result; results × datasets (SRCC) for several. */
export function resultHeatmap(results: readonly NamedResult[]): Figure | undefined {
  if (results.length === 0) return undefined;
  if (results.length === 1) {
    const r = results[0].result;
    const metrics = CORRELATIONS.filter((m) => r.datasets.some((d) => typeof d.metrics[m] === 'number'));
    if (metrics.length === 0 || r.datasets.length === 0) return undefined;
    return {
      name: 'heatmap',
      caption: `Correlations per dataset (${results[0].label})`,
      svg: heatmapSvg({
        title: 'Correlation with MOS per dataset',
        rows: metrics.map((m) => METRIC_LABELS[m]),
        cols: r.datasets.map((d) => d.name),
        values: metrics.map((m) => r.datasets.map((d) => d.metrics[m] ?? null)),
      }),
    };
  }
  const cols = [...new Set(results.flatMap((r) => r.result.datasets.map((d) => d.name)))];
  return {
    name: 'heatmap',
    caption: 'SRCC per model (rows) and test dataset (columns)',
    svg: heatmapSvg({
      title: 'Cross-dataset SRCC',
      rows: results.map((r) => r.label),
      cols,
      values: results.map((r) =>
        cols.map((c) => r.result.datasets.find((d) => d.name === c)?.metrics.srcc ?? null),
      ),
    }),
  };
}

/** Predicted score against MOS for every dataset that kept its per-image predictions, with the fitted curve. */
export function scatterFigures(results: readonly NamedResult[]): Figure[] {
  const figs: Figure[] = [];
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
        name: slug(`scatter-${results.length > 1 ? `${label}-` : ''}${d.name}`),
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
      tables: results.map((r) => ({ caption: r.label, table: resultTable(r.result) })),
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
            { header: 'latency ms (mean ± std)', align: 'right' as const },
            { header: 'p95 ms', align: 'right' as const },
          ]
        : []),
      ...sizes.map((b) => ({ header: `img/s @${b}`, align: 'right' as const })),
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
        ...(hasLatency
          ? [
              lat ? `${lat.meanMs.toFixed(1)} ± ${lat.stdMs.toFixed(1)}` : '–',
              lat ? lat.p95Ms.toFixed(1) : '–',
            ]
          : []),
        ...sizes.map((b) => {
          const e = m.throughput?.entries.find((x) => x.batchSize === b);
          if (!e) return '–';
          return e.status === 'ok' && e.imagesPerSecond !== undefined
            ? e.imagesPerSecond.toFixed(2)
            : e.status === 'out-of-memory'
              ? 'OOM'
              : 'skip';
        }),
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

/** Each distinct note once, named by the models it applies to (all models: no names). */
function notesOf(report: ComplexityReport): string[] {
  const byNote = new Map<string, string[]>();
  for (const m of report.models) for (const n of m.notes) byNote.set(n, [...(byNote.get(n) ?? []), m.name]);
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
      title: 'latency (ms)',
      values: report.models.map((m) => m.latency?.stats.meanMs ?? Number.NaN),
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
