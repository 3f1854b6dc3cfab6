/** The run's summary: per metric the median over rounds (and spread) of the best and of the final weights. */
import type { TrainConfig } from '../config.js';
import {
  RUN_METRICS,
  SUMMARY_SCHEMA,
  summaryResultEntry,
  type RoundResult,
  type RunMetrics,
  type RunSummary,
} from '../run-folder/summary.js';
import { roundStats } from '../run/stats.js';
import type { ImageSet, TrainingData } from './types.js';

/**
 * Summarises `rounds`. The reported part is the test part when every round measured it, else the selection part;
 * `data` gives the part sizes.
 */
export function summarise(
  cfg: TrainConfig,
  data: TrainingData,
  rounds: RoundResult[],
  wallSeconds: number,
): RunSummary {
  const useTest = rounds.every((r) => r.testBest !== null && r.testFinal !== null);
  const metrics = {} as RunSummary['metrics'];
  for (const m of RUN_METRICS) {
    const best = rounds.map((r) => (useTest ? (r.testBest as RunMetrics) : r.selectBest)[m]);
    const final = rounds.map((r) => (useTest ? (r.testFinal as RunMetrics) : r.selectFinal)[m]);
    const bestStats = roundStats(best);
    const finalStats = roundStats(final);
    metrics[m] = { best: bestStats.median, final: finalStats.median, bestStats, finalStats };
  }
  const reportedPart = useTest ? 'test' : cfg.dataset.selectOn;
  const n = useTest ? (data.test as ImageSet).ids.length : data.select.ids.length;
  const dataset = {
    kind: cfg.dataset.kind,
    root: cfg.dataset.root,
    splitManifest: cfg.dataset.splitManifest,
    selectOn: cfg.dataset.selectOn,
  };
  return {
    schema: SUMMARY_SCHEMA,
    datasets: [summaryResultEntry({ dataset, reportedPart, metrics }, n)],
    dataset,
    seed: cfg.seed,
    rounds: rounds.length,
    reportedPart,
    n: { train: data.train.ids.length, select: data.select.ids.length, test: data.test?.ids.length ?? null },
    selectionMetric: cfg.earlyStopping.metric,
    metrics,
    perRound: rounds,
    wallSeconds,
  };
}
