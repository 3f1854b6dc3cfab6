/**
 * A fuzzing campaign: inputs of every chosen format through a FuzzPool, either a fixed number per format (the test
 * suite) or for a wall-clock budget (bench/fuzz.mjs), where each format gets an equal share of the time. Input `i` of
 * format `f` under seed `s` is always the same bytes, so any finding reruns from (s, f, i) alone.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FORMAT_NAMES } from './formats/index.js';
import { FuzzPool, type CaseResult, type Job, type PoolOptions } from './pool.js';
import { REGRESSIONS_DIR } from './paths.js';
import { BAD_OUTCOMES, OUTCOME_CLASSES, type OutcomeClass } from './types.js';

export interface CampaignOptions extends PoolOptions {
  /** Formats to fuzz (default: all). */
  formats?: readonly string[];
  /** Campaign seed (default '1'). */
  seed?: string;
  /** Inputs per format (ignored when `minutes` is given). */
  perFormat?: number;
  /** Run for this long instead, sharing the time equally between formats. */
  minutes?: number;
  /** Called after every input. */
  onResult?: (r: CaseResult) => void;
  /** Called when the fuzzer itself fails on an input (the campaign goes on). */
  onHarnessError?: (message: string) => void;
}

export type Counts = Map<string, Record<OutcomeClass, number>>;

export interface CampaignReport {
  counts: Counts;
  /** Every input with a bad outcome. */
  bad: CaseResult[];
  /** Failures of the fuzzer itself (a mutator that threw, a child that died while building an input). */
  harnessErrors: string[];
  inputs: number;
  seconds: number;
}

function emptyRow(): Record<OutcomeClass, number> {
  return Object.fromEntries(OUTCOME_CLASSES.map((c) => [c, 0])) as Record<OutcomeClass, number>;
}

export async function runCampaign(options: CampaignOptions = {}): Promise<CampaignReport> {
  const formats = options.formats ?? FORMAT_NAMES;
  for (const f of formats)
    if (!FORMAT_NAMES.includes(f)) throw new Error(`unknown format '${f}'; have ${FORMAT_NAMES.join(', ')}`);
  const seed = options.seed ?? '1';
  const pool = new FuzzPool(options);
  const counts: Counts = new Map(formats.map((f) => [f, emptyRow()]));
  const spent = new Map(formats.map((f) => [f, 0]));
  const next = new Map(formats.map((f) => [f, 0]));
  const bad: CaseResult[] = [];
  const harnessErrors: string[] = [];
  const t0 = Date.now();
  const deadline = options.minutes === undefined ? Infinity : t0 + options.minutes * 60_000;
  const perFormat = options.minutes === undefined ? (options.perFormat ?? 20) : Infinity;
  let inputs = 0;

  /** The format with the least time spent that still has inputs to run. */
  const pick = (): string | undefined => {
    let best: string | undefined;
    for (const f of formats) {
      if ((next.get(f) ?? 0) >= perFormat) continue;
      if (best === undefined || (spent.get(f) ?? 0) < (spent.get(best) ?? 0)) best = f;
    }
    return best;
  };

  const lane = async (): Promise<void> => {
    for (;;) {
      if (Date.now() >= deadline) return;
      const format = pick();
      if (format === undefined) return;
      const index = next.get(format) ?? 0;
      next.set(format, index + 1);
      const job: Job = { type: 'case', format, seed, index };
      const started = Date.now();
      let r: CaseResult;
      try {
        r = await pool.run(job);
      } catch (err) {
        // A bug of the fuzzer, not of a reader: keep going (a long run is not lost), report it at the end.
        harnessErrors.push(
          `${format} #${index}: ${err instanceof Error ? err.message.slice(0, 2000) : String(err)}`,
        );
        options.onHarnessError?.(harnessErrors[harnessErrors.length - 1]);
        continue;
      }
      // Count at least 1 ms so that a format whose inputs are instant still yields its turn.
      spent.set(format, (spent.get(format) ?? 0) + Math.max(1, Date.now() - started));
      const row = counts.get(format);
      if (row) row[r.outcome] += 1;
      inputs += 1;
      if (BAD_OUTCOMES.includes(r.outcome)) bad.push(r);
      options.onResult?.(r);
    }
  };
  try {
    const workers = options.workers ?? 2;
    await Promise.all(Array.from({ length: workers }, () => lane()));
  } finally {
    await pool.close();
  }
  return { counts, bad, harnessErrors, inputs, seconds: (Date.now() - t0) / 1000 };
}

/** A committed reproducer. */
export interface Regression {
  /** Folder name under fixtures/regressions/<format>/. */
  name: string;
  dir: string;
  format: string;
  /** The outcome the reader must have now: a clean refusal, or `parsed` for valid files it used to refuse. */
  expect: Extract<OutcomeClass, 'clean' | 'parsed'>;
  /** For findings whose fix is not merged yet: which branch fixes it (the test is expected to fail until then). */
  fixedOn?: string;
  /** For new findings no branch fixes yet (the test is expected to fail until one does). */
  open?: string;
  /** For `parsed`: the summary the reader must give. */
  summary?: string;
  description: string;
}

/** Every reproducer under fixtures/regressions (sorted by format and name). */
export function listRegressions(root = REGRESSIONS_DIR): Regression[] {
  if (!existsSync(root)) return [];
  const out: Regression[] = [];
  for (const format of readdirSync(root).sort()) {
    const fdir = join(root, format);
    for (const name of readdirSync(fdir).sort()) {
      const dir = join(fdir, name);
      const meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as {
        format: string;
        expect?: 'clean' | 'parsed';
        fixedOn?: string;
        open?: string;
        summary?: string;
        description?: string;
      };
      if (meta.format !== format)
        throw new Error(`${dir}/case.json: format '${meta.format}' but it is filed under ${format}`);
      out.push({
        name,
        dir,
        format,
        expect: meta.expect ?? 'clean',
        ...(meta.fixedOn ? { fixedOn: meta.fixedOn } : {}),
        ...(meta.open ? { open: meta.open } : {}),
        ...(meta.summary !== undefined ? { summary: meta.summary } : {}),
        description: meta.description ?? '',
      });
    }
  }
  return out;
}

/** A text table: one row per format, one column per outcome class, and a total row. */
export function formatTable(counts: Counts): string {
  const cols = [...OUTCOME_CLASSES, 'total'] as const;
  const rows = [...counts].map(([f, r]) => [
    f,
    ...OUTCOME_CLASSES.map((c) => r[c]),
    OUTCOME_CLASSES.reduce((s, c) => s + r[c], 0),
  ]);
  const total = [
    'total',
    ...OUTCOME_CLASSES.map((c) =>
      rows.reduce((s, r) => s + (r[OUTCOME_CLASSES.indexOf(c) + 1] as number), 0),
    ),
  ];
  total.push(rows.reduce((s, r) => s + (r[r.length - 1] as number), 0));
  const all = [['format', ...cols], ...rows, total].map((r) => r.map(String));
  const widths = all[0].map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all
    .map((r, k) => {
      const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
      return k === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}
