import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { MetricName } from '@iqa-bench/metrics';
import { METRIC_NAMES, metricName } from '@iqa-bench/metrics';

/** Adds the flags every command shares. `results`: the command produces a result (table / `--json` / `--out`). */
export function commonOptions(cmd: Command, results: { out?: string } | false): Command {
  if (results !== false) {
    cmd
      .option('--json', 'print the result as JSON on stdout only (logs go to stderr)')
      .option('--out <file>', results.out ?? 'also write the result as JSON to <file> (atomically)');
  }
  return cmd
    .option('-q, --quiet', 'no progress bars and no log lines on stderr')
    .option('--verbose', 'print the stack trace of an error');
}

/** Appends an "Examples:" section to a command's help. */
export function examples(cmd: Command, lines: readonly string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('expected a non-negative number.');
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a positive integer.');
  }
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('expected a non-negative integer.');
  return n;
}

/** `1,4,8` → [1, 4, 8]. */
export function positiveIntList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
    throw new InvalidArgumentError('expected a comma-separated list of positive integers, e.g. 1,4,8.');
  }
  return parts.map(Number);
}

/** Collects a repeatable flag (`--x a --x b` and `--x a,b` both give [a, b]). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ];
}

/** Collects `--metric` values, validating each name. */
export function collectMetric(value: string, previous: MetricName[] | undefined): MetricName[] {
  const out = [...(previous ?? [])];
  for (const part of value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const m = metricName(part);
    if (m === undefined)
      throw new InvalidArgumentError(`unknown metric "${part}"; expected one of ${METRIC_NAMES.join(', ')}.`);
    if (!out.includes(m)) out.push(m);
  }
  return out;
}
