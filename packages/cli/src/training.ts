import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from './errors.js';

/** One epoch of a training run as metrics.jsonl (@iqa-bench/train) records it. */
export interface EpochPoint {
  round: number;
  epoch: number;
  loss: number | null;
  trainSrcc: number | null;
  /** The selection part (`val`, or `test` for the original's protocol) and its metrics. */
  part: string;
  select: Record<string, number | null>;
  best: boolean;
}

export interface TrainingRun {
  dir: string;
  epochs: EpochPoint[];
  /** metrics.jsonl ended in a partial line (a run killed while writing): ignored. */
  tornLastLine: boolean;
}

const MAX_JSONL_BYTES = 64 * 1024 * 1024;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * Reads a training run directory's metrics.jsonl: the `kind: "epoch"` records, in file order. Lines that are not
 * JSON objects are refused with file and line; a partial last line (a killed run) is ignored and reported.
 */
export async function readTrainingRun(dir: string, label = dir): Promise<TrainingRun> {
  const file = join(dir, 'metrics.jsonl');
  const shown = join(label, 'metrics.jsonl');
  let text: string;
  try {
    const s = await stat(file);
    if (s.size > MAX_JSONL_BYTES)
      throw new CliError(`${shown}: ${s.size} bytes is more than ${MAX_JSONL_BYTES}`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(
      `${shown}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); expected a training run folder`,
    );
  }
  const lines = text.split('\n');
  const tornLastLine = lines.length > 0 && lines[lines.length - 1] !== '';
  const complete = tornLastLine ? lines.slice(0, -1) : lines;
  const epochs: EpochPoint[] = [];
  complete.forEach((line, i) => {
    if (line.trim() === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      throw new CliError(`${shown}: line ${i + 1}: not valid JSON`);
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec))
      throw new CliError(`${shown}: line ${i + 1}: expected a JSON object`);
    const r = rec as Record<string, unknown>;
    if (r.kind !== 'epoch') return;
    if (!Number.isInteger(r.round) || !Number.isInteger(r.epoch)) {
      throw new CliError(`${shown}: line ${i + 1}: expected integer "round" and "epoch" in an epoch record`);
    }
    const part = 'val' in r ? 'val' : 'test' in r ? 'test' : null;
    const sel = part === null ? {} : r[part];
    const select: Record<string, number | null> = {};
    if (typeof sel === 'object' && sel !== null) for (const [k, v] of Object.entries(sel)) select[k] = num(v);
    epochs.push({
      round: r.round as number,
      epoch: r.epoch as number,
      loss: num(r.loss),
      trainSrcc: num(r.trainSrcc),
      part: part ?? 'val',
      select,
      best: r.best === true,
    });
  });
  return { dir: label, epochs, tornLastLine };
}
