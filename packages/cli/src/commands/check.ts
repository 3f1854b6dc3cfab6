import { Command } from 'commander';
import { checkTable, checkVerdict, compareResults } from '../check.js';
import { ExitCode } from '../errors.js';
import type { Ctx } from '../context.js';
import type { CommonFlags } from '../io.js';
import { collectMetric, commonOptions, examples, nonNegativeNumber } from '../options.js';
import type { MetricName } from '@iqa-bench/metrics';
import type { LoadedResult } from '../result.js';
import { readResult } from '../result.js';
import { renderText } from '../table.js';

interface CheckFlags extends CommonFlags {
  result: string;
  baseline: string;
  tolerance: number;
  metric?: MetricName[];
}

/** Metrics `check` gates when no `--metric` is given. */
export const DEFAULT_CHECK_METRICS: readonly MetricName[] = ['srcc', 'plcc'];

function defaultMetrics(baseline: LoadedResult): MetricName[] {
  const sets = [...baseline.datasets.map((d) => d.metrics), baseline.mean ?? {}];
  const present = DEFAULT_CHECK_METRICS.filter((m) => sets.some((s) => typeof s[m] === 'number'));
  return present.length > 0 ? present : [...DEFAULT_CHECK_METRICS];
}

export function checkCommand(ctx: Ctx): Command {
  const cmd = new Command('check')
    .summary('compare a result with a baseline; exit 1 on a regression (for CI)')
    .description(
      'Compare a result file with a baseline, dataset by dataset and metric by metric, and exit with 1 when a metric ' +
        'is worse than the baseline by more than the tolerance (lower for SRCC/PLCC/KRCC, higher for RMSE/MAE), or ' +
        'when a dataset or metric of the baseline is missing from the result.\n\n' +
        "Both files may be an iqa-bench result (written by cross-dataset / eval with --out), a training run's " +
        "summary.json, or the PyTorch original's cross_dataset_results_*.json.",
    )
    .requiredOption('--result <file>', 'the result to check (JSON)')
    .requiredOption('--baseline <file>', 'the baseline to compare with (JSON)')
    .option('--tolerance <t>', 'how much worse than the baseline a metric may be', nonNegativeNumber, 0.005)
    .option(
      '--metric <name>',
      `metric to compare, repeatable or comma-separated (default: ${DEFAULT_CHECK_METRICS.join(', ')})`,
      collectMetric,
    );
  commonOptions(cmd, { out: 'also write the comparison as JSON to <file> (atomically)' });
  examples(cmd, [
    'iqa-bench check --result runs/ci/summary.json --baseline ci/baseline.json',
    'iqa-bench check --result cross.json --baseline baseline.json --tolerance 0.01 --metric srcc --metric krcc',
    'iqa-bench check --result cross.json --baseline baseline.json --json > check.json',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: CheckFlags) => {
      out.checkOutExtension(['.json']);
      const [result, baseline] = await Promise.all([
        readResult(out.path(flags.result), flags.result),
        readResult(out.path(flags.baseline), flags.baseline),
      ]);
      const explicit = flags.metric !== undefined && flags.metric.length > 0;
      // The defaults gate what the baseline has of them; metrics named with --metric must be in the baseline.
      const metrics = explicit ? (flags.metric as MetricName[]) : defaultMetrics(baseline);
      const report = compareResults(result, baseline, { tolerance: flags.tolerance, metrics });
      for (const w of report.warnings) out.warn(w);
      await out.writeOut(report);
      out.result(report, () => `${renderText(checkTable(report))}\n\n${checkVerdict(report)}`);
      if (out.flags.json) out.log(checkVerdict(report));
      return report.passed ? ExitCode.ok : ExitCode.checkFailed;
    }),
  );
}
