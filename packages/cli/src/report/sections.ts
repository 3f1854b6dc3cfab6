import { logisticCurve } from '../evaluation.js';
import type { LoadedResult, MetricName } from '../result.js';
import type { Table } from '../table.js';
import { num } from '../table.js';
import type { EpochPoint, TrainingRun } from '../training.js';
import { heatmapSvg, lineSvg, scatterSvg } from './figures.js';
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
const TABLE_METRICS: MetricName[] = [
  'srcc',
  'plcc',
  'plccLogistic',
  'krcc',
  'rmse',
  'rmseLogistic',
  'mae',
  'maeLogistic',
];
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
