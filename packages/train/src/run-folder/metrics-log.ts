/**
 * metrics.jsonl: the run's log, one JSON record per line, in order: an `epoch` record after every epoch (training
 * loss and SRCC, the selection part's metrics, learning rates, seconds) and a `round` record at the end of every round
 * (test metrics of the best and of the final weights).
 *
 * Every change rewrites the whole file atomically (a log has one line per epoch, so this stays small), so a kill
 * never leaves a torn line. Readers still accept a last line without its newline (a file cut short by another tool)
 * and report it as torn instead of failing; any other malformed line is an error naming the file and line.
 */
import { readFileBoundedSync, writeFileAtomicSync } from '@iqa-bench/core/fs';
import * as z from 'zod';
import { describeIssue } from '../config.js';
import { MAX_RUN_FILE_BYTES, parseJson, RunFolderError, readRunText, readRunTextSync } from './files.js';
import { roundResultSchema, runMetricsSchema, type RoundResult, type RunMetrics } from './summary.js';

/** The log's name in a run folder. */
export const METRICS_LOG_FILE = 'metrics.jsonl';

/** One epoch. Exactly one of `val` / `test` is present: the selection part (the config's `dataset.selectOn`). */
export interface EpochRecord {
  kind: 'epoch';
  round: number;
  /** 1-based. */
  epoch: number;
  /** Optimizer steps done in the round so far. */
  steps: number;
  /** Mean training loss over the epoch's samples. */
  loss: number;
  /** SRCC of the training predictions (before each step's update) against their labels. */
  trainSrcc: number;
  val?: RunMetrics;
  test?: RunMetrics;
  /** This epoch is the new best (its weights are the round's best). */
  best: boolean;
  /** Learning rate of each parameter group at the epoch's last step. */
  lr: Record<string, number>;
  /** Wall-clock seconds of the epoch (the only field that differs between identical runs). */
  seconds: number;
  /**
   * Present when the epoch's last batch was too small for the batch-level loss (`training.smallLastBatch`): its size,
   * and whether it was merged into the previous batch or dropped.
   */
  smallLastBatch?: { size: number; action: 'merge' | 'drop' };
}

/** The end of a round. */
export interface RoundRecord extends RoundResult {
  kind: 'round';
}

export type MetricsRecord = EpochRecord | RoundRecord;

const count = z.number().int().nonnegative();
const number = z
  .number()
  .nullable()
  .transform((v) => v ?? Number.NaN);

const epochRecordSchema: z.ZodType<EpochRecord> = z
  .object({
    kind: z.literal('epoch'),
    round: count,
    epoch: z.number().int().positive(),
    steps: count,
    loss: number,
    trainSrcc: number,
    val: runMetricsSchema.optional(),
    test: runMetricsSchema.optional(),
    best: z.boolean(),
    lr: z.record(z.string(), z.number()),
    seconds: z.number().nonnegative(),
    smallLastBatch: z
      .object({ size: z.number().int().positive(), action: z.enum(['merge', 'drop']) })
      .optional(),
  })
  .refine((r) => (r.val === undefined) !== (r.test === undefined), {
    message: 'expected exactly one of "val" and "test" (the selection part)',
  });

const roundRecordSchema: z.ZodType<RoundRecord> = z.intersection(
  z.object({ kind: z.literal('round') }),
  roundResultSchema,
);

/** The selection part of an epoch record and its metrics. */
export function epochSelection(r: EpochRecord): { part: 'val' | 'test'; metrics: RunMetrics } {
  return r.val !== undefined
    ? { part: 'val', metrics: r.val }
    : { part: 'test', metrics: r.test as RunMetrics };
}

export interface MetricsLog {
  records: MetricsRecord[];
  /** The line of each record, as it is in the file (without its newline). */
  lines: string[];
  /** The file ended in a line without its newline, which was left out. */
  tornLastLine: boolean;
}

function recordOf(value: unknown, label: string, line: number): MetricsRecord {
  const fail = (reason: string): never => {
    throw new RunFolderError(label, `line ${line}: ${reason}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('expected a JSON object');
  const kind = (value as { kind?: unknown }).kind;
  if (kind !== 'epoch' && kind !== 'round') {
    fail(`kind: expected "epoch" or "round", got ${kind === undefined ? 'nothing' : JSON.stringify(kind)}`);
  }
  const res = (kind === 'epoch' ? epochRecordSchema : roundRecordSchema).safeParse(value);
  if (!res.success) fail(res.error.issues.map(describeIssue).join('; '));
  return res.data as MetricsRecord;
}

/** Parses and validates a log's text; `label` names the file in errors (`<label>: line 3: …`). */
export function parseMetricsLog(text: string, label: string): MetricsLog {
  const all = text.split('\n');
  // After the last newline: '' for a complete file, else a line cut short.
  const tornLastLine = all[all.length - 1] !== '';
  const records: MetricsRecord[] = [];
  const lines: string[] = [];
  all.slice(0, -1).forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = parseJson(line, label);
    } catch (err) {
      throw new RunFolderError(
        label,
        `line ${i + 1}: ${(err as RunFolderError).message.slice(label.length + 2)}`,
      );
    }
    records.push(recordOf(value, label, i + 1));
    lines.push(line);
  });
  return { records, lines, tornLastLine };
}

/** Reads and validates a run folder's metrics.jsonl; errors name it `label` (default: the path). */
export async function readMetricsLog(file: string, label = file): Promise<MetricsLog> {
  return parseMetricsLog(await readRunText(file, label, 'run log'), label);
}

/** Synchronous `readMetricsLog`. */
export function readMetricsLogSync(file: string, label = file): MetricsLog {
  return parseMetricsLog(readRunTextSync(file, label, 'run log'), label);
}

/** Appends one record (rewriting the file atomically; a torn last line is dropped). */
export function appendMetricsRecordSync(file: string, record: MetricsRecord): void {
  let prev = '';
  try {
    prev = readFileBoundedSync(file, MAX_RUN_FILE_BYTES, 'run log').toString('utf8');
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err;
  }
  if (prev.length > 0 && !prev.endsWith('\n')) prev = prev.slice(0, prev.lastIndexOf('\n') + 1);
  writeFileAtomicSync(file, `${prev}${JSON.stringify(record)}\n`);
}

/** Writes the log with exactly `records` (an empty log for a new run). */
export function writeMetricsLogSync(file: string, records: readonly MetricsRecord[]): void {
  writeFileAtomicSync(file, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/**
 * Keeps the first `count` records of the log, byte for byte, and drops the rest (a resumed run drops what was logged
 * after its checkpoint: it logs it again, identically). A missing log counts as empty.
 */
export function truncateMetricsLogSync(file: string, count: number): void {
  let lines: string[] = [];
  try {
    lines = readMetricsLogSync(file).lines;
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code !== 'ENOENT') throw err;
  }
  if (lines.length < count) {
    throw new RunFolderError(
      file,
      `holds ${lines.length} record(s) but the run's checkpoint follows ${count}: the log is incomplete (restore it, or train into a new run folder)`,
    );
  }
  writeFileAtomicSync(
    file,
    lines
      .slice(0, count)
      .map((l) => `${l}\n`)
      .join(''),
  );
}
