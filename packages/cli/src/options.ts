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

/** Bounds of a numeric flag (as `@iqa-bench/train`'s `configField` reads them from the config schema). */
export interface NumberBounds {
  integer?: boolean;
  min?: { value: number; inclusive: boolean };
  max?: { value: number; inclusive: boolean };
}

/** What a number within `b` is, in words: "a positive integer", "an integer from 1 to 16", "a number > 0.5". */
function expectedNumber(b: NumberBounds): string {
  const { integer = false, min, max } = b;
  const noun = integer ? 'integer' : 'number';
  if (min !== undefined && max === undefined && min.value === 0) {
    return min.inclusive ? `a non-negative ${noun}` : `a positive ${noun}`;
  }
  if (integer && min?.value === 1 && min.inclusive && max === undefined) return 'a positive integer';
  if (min?.inclusive && max?.inclusive)
    return `${integer ? 'an integer' : 'a number'} from ${min.value} to ${max.value}`;
  const parts = [
    min ? `${min.inclusive ? '>=' : '>'} ${min.value}` : '',
    max ? `${max.inclusive ? '<=' : '<'} ${max.value}` : '',
  ].filter((p) => p !== '');
  return `${integer ? 'an integer' : 'a number'}${parts.length > 0 ? ` ${parts.join(' and ')}` : ''}`;
}

/** A commander argument parser for a number within `b`. */
export function numberIn(b: NumberBounds): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    const ok =
      value.trim() !== '' &&
      Number.isFinite(n) &&
      (!b.integer || (/^[+-]?\d+$/.test(value.trim()) && Number.isSafeInteger(n))) &&
      (b.min === undefined || (b.min.inclusive ? n >= b.min.value : n > b.min.value)) &&
      (b.max === undefined || (b.max.inclusive ? n <= b.max.value : n < b.max.value));
    if (!ok) throw new InvalidArgumentError(`expected ${expectedNumber(b)}.`);
    return n;
  };
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
