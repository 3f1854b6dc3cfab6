import { logisticCurve } from '../evaluation.js';
import type { LoadedResult, MetricName } from '../result.js';
import type { Table } from '../table.js';
import { num } from '../table.js';
import { heatmapSvg, scatterSvg } from './figures.js';
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
