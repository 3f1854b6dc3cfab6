import { CliError } from './errors.js';
import { readJsonFile } from './json-file.js';

/** The `schema` tag of the result files `cross-dataset` and `eval` write. */
export const RESULT_SCHEMA = 'iqa-bench/result@1';

/** Metrics the CLI knows, with their direction. Names are the keys of `metrics` in a result file. */
export const METRIC_DIRECTIONS = {
  srcc: 'higher',
  plcc: 'higher',
  krcc: 'higher',
  plccLogistic: 'higher',
  rmse: 'lower',
  rmseLogistic: 'lower',
  mae: 'lower',
  maeLogistic: 'lower',
} as const satisfies Record<string, 'higher' | 'lower'>;
export type MetricName = keyof typeof METRIC_DIRECTIONS;
export const METRIC_NAMES = Object.keys(METRIC_DIRECTIONS) as MetricName[];

/** Accepts `plccLogistic`, `plcc_logistic`, `plcc-logistic`, `PLCC-logistic`, …; undefined when unknown. */
export function metricName(input: string): MetricName | undefined {
  const flat = input.toLowerCase().replace(/[-_\s]/g, '');
  return METRIC_NAMES.find((m) => m.toLowerCase() === flat);
}

/** Per-image predictions kept in a result file for the scatter plots (parallel arrays). */
export interface Predictions {
  image: string[];
  /** The model's score of each image (mean of its patch scores). */
  score: number[];
  /** The ground-truth score on the dataset's native scale. */
  mos: number[];
}

/** One evaluated dataset in a result file. */
export interface DatasetResult {
  /** Unique within the file; `check` matches datasets by it. */
  name: string;
  /** The adapter key (`koniq10k`, `kadid10k`, …). */
  key?: string;
  /** The folder it was read from. */
  path?: string;
  /** Which part was evaluated (`test`, `all`, …). */
  split?: string;
  /** `lower-better` for DMOS-like ground truth (correlations are then computed against −MOS); absent: higher-better. */
  direction?: 'higher-better' | 'lower-better';
  /** Number of images evaluated; null when the evaluation failed. */
  n: number | null;
  /** Metric values; null when a metric could not be computed (e.g. a failed logistic fit). */
  metrics: Partial<Record<MetricName, number | null>> & Record<string, number | null>;
  /** Why a metric is null, keyed by metric (e.g. `plccLogistic: "the 4-parameter logistic fit did not converge"`). */
  reasons?: Record<string, string>;
  /** The fitted logistic mapping prediction → MOS behind `plccLogistic` / `rmseLogistic`. */
  logistic?: { model: 4 | 5; params: number[]; converged: boolean };
  predictions?: Predictions;
}

/** The result file of `cross-dataset` and `eval` (`schema: "iqa-bench/result@1"`). */
export interface ResultFile {
  schema: typeof RESULT_SCHEMA;
  /** `cross-dataset`, `eval`, … */
  kind: string;
  /** The program that wrote it (`@iqa-bench/cli 0.1.0`). */
  producer?: string;
  checkpoint?: string;
  /** Everything the numbers depend on (patches, crop, preprocess, seed, backend). */
  settings?: Record<string, unknown>;
  datasets: DatasetResult[];
  /** Mean of each metric over the datasets. */
  mean?: Partial<Record<MetricName, number | null>>;
}

/** A result as `check` and the reports see it, whatever file format it came from. */
export interface LoadedResult {
  file: string;
  format: 'iqa-bench-result' | 'train-summary' | 'smart-iqa-cross-dataset';
  datasets: DatasetResult[];
  mean?: Partial<Record<string, number | null>>;
  checkpoint?: string;
}

/** Result files larger than this are refused (a result with per-image predictions of 100k images is ~10 MB). */
export const MAX_RESULT_BYTES = 64 * 1024 * 1024;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Validates JSON values and names the file and field of anything unexpected. */
class Fields {
  constructor(readonly file: string) {}

  fail(path: string, expected: string, got: unknown): never {
    throw new CliError(`${this.file}: ${path || '(top level)'}: expected ${expected}, got ${describe(got)}`);
  }

  object(v: unknown, path: string): { [k: string]: Json } {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'an object', v);
    return v as { [k: string]: Json };
  }

  array(v: unknown, path: string): Json[] {
    if (!Array.isArray(v)) this.fail(path, 'an array', v);
    return v;
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, 'a string', v);
    return v;
  }

  optString(v: unknown, path: string): string | undefined {
    return v === undefined ? undefined : this.string(v, path);
  }

  /** A finite number or null (JSON cannot hold NaN). */
  metric(v: unknown, path: string): number | null {
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, 'a number or null', v);
    return v;
  }

  count(v: unknown, path: string): number | null {
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      this.fail(path, 'a non-negative integer or null', v);
    return v;
  }

  numbers(v: unknown, path: string): number[] {
    return this.array(v, path).map((x, i) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) this.fail(`${path}[${i}]`, 'a number', x);
      return x;
    });
  }

  metrics(v: unknown, path: string): Record<string, number | null> {
    const o = this.object(v, path);
    const out: Record<string, number | null> = {};
    for (const [k, x] of Object.entries(o)) {
      // Known metrics must be numbers; unknown keys are kept only when numeric (extra information is not an error).
      if (metricName(k) !== undefined) out[metricName(k) as string] = this.metric(x, `${path}.${k}`);
      else if (typeof x === 'number' || x === null) out[k] = x;
    }
    return out;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}

function parseDataset(f: Fields, v: unknown, path: string): DatasetResult {
  const o = f.object(v, path);
  const d: DatasetResult = {
    name: f.string(o.name, `${path}.name`),
    n: f.count(o.n, `${path}.n`),
    metrics: f.metrics(o.metrics, `${path}.metrics`),
  };
  const key = f.optString(o.key, `${path}.key`);
  if (key !== undefined) d.key = key;
  const p = f.optString(o.path, `${path}.path`);
  if (p !== undefined) d.path = p;
  const split = f.optString(o.split, `${path}.split`);
  if (split !== undefined) d.split = split;
  if (o.direction !== undefined) {
    if (o.direction !== 'higher-better' && o.direction !== 'lower-better') {
      f.fail(`${path}.direction`, '"higher-better" or "lower-better"', o.direction);
    }
    d.direction = o.direction;
  }
  if (o.reasons !== undefined && o.reasons !== null) {
    const r = f.object(o.reasons, `${path}.reasons`);
    d.reasons = Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, f.string(v, `${path}.reasons.${k}`)]),
    );
  }
  if (o.logistic !== undefined && o.logistic !== null) {
    const l = f.object(o.logistic, `${path}.logistic`);
    if (l.model !== 4 && l.model !== 5) f.fail(`${path}.logistic.model`, '4 or 5', l.model);
    if (typeof l.converged !== 'boolean') f.fail(`${path}.logistic.converged`, 'true or false', l.converged);
    d.logistic = {
      model: l.model,
      params: f.numbers(l.params, `${path}.logistic.params`),
      converged: l.converged,
    };
  }
  if (o.predictions !== undefined && o.predictions !== null) {
    const pp = f.object(o.predictions, `${path}.predictions`);
    const image = f
      .array(pp.image, `${path}.predictions.image`)
      .map((x, i) => f.string(x, `${path}.predictions.image[${i}]`));
    const score = f.numbers(pp.score, `${path}.predictions.score`);
    const mos = f.numbers(pp.mos, `${path}.predictions.mos`);
    if (score.length !== image.length || mos.length !== image.length) {
      f.fail(
        `${path}.predictions`,
        'image, score and mos of equal length',
        `${image.length}/${score.length}/${mos.length}`,
      );
    }
    d.predictions = { image, score, mos };
  }
  return d;
}

function uniqueNames(f: Fields, datasets: DatasetResult[], path: string): void {
  const seen = new Set<string>();
  datasets.forEach((d, i) => {
    if (seen.has(d.name)) f.fail(`${path}[${i}].name`, 'a name not used by another dataset', d.name);
    seen.add(d.name);
  });
}

function parseIqaBench(f: Fields, o: { [k: string]: Json }): LoadedResult {
  const datasets = f.array(o.datasets, 'datasets').map((d, i) => parseDataset(f, d, `datasets[${i}]`));
  uniqueNames(f, datasets, 'datasets');
  const r: LoadedResult = { file: f.file, format: 'iqa-bench-result', datasets };
  if (o.mean !== undefined && o.mean !== null) r.mean = f.metrics(o.mean, 'mean');
  const ckpt = f.optString(o.checkpoint, 'checkpoint');
  if (ckpt !== undefined) r.checkpoint = ckpt;
  return r;
}

/** The `schema` tag of a training run's summary.json (@iqa-bench/train). */
export const TRAIN_SUMMARY_SCHEMA = 'iqa-bench/train-summary@1';

/**
 * A training run's summary.json: its `datasets` entries have the shape of a result file's (the median over rounds of
 * the selected weights' metrics on the reported part).
 */
function parseTrainSummary(f: Fields, o: { [k: string]: Json }): LoadedResult {
  const datasets = f.array(o.datasets, 'datasets').map((d, i) => parseDataset(f, d, `datasets[${i}]`));
  uniqueNames(f, datasets, 'datasets');
  return { file: f.file, format: 'train-summary', datasets };
}

/** The PyTorch original's `cross_dataset_results_*.json`: `{checkpoint, results: {name: {srcc, plcc, num_images} | null}}`. */
function parseSmartIqa(f: Fields, o: { [k: string]: Json }): LoadedResult {
  const results = f.object(o.results, 'results');
  const datasets = Object.entries(results).map(([name, v]): DatasetResult => {
    if (v === null) return { name, n: null, metrics: {} };
    const r = f.object(v, `results.${name}`);
    return {
      name,
      n: f.count(r.num_images ?? null, `results.${name}.num_images`),
      metrics: f.metrics({ srcc: r.srcc ?? null, plcc: r.plcc ?? null }, `results.${name}`),
    };
  });
  const r: LoadedResult = { file: f.file, format: 'smart-iqa-cross-dataset', datasets };
  if (typeof o.checkpoint === 'string') r.checkpoint = o.checkpoint;
  return r;
}

/**
 * Parses a result file's text. Accepted: an iqa-bench result (`schema: "iqa-bench/result@1"`, what `cross-dataset`
 * and `eval` write), a training run's summary.json (`iqa-bench/train-summary@1`) and the PyTorch original's
 * cross-dataset JSON. Throws a CliError naming the file and field.
 */
export function parseResult(text: string, file: string): LoadedResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  return parseValue(value, file);
}

function parseValue(value: unknown, file: string): LoadedResult {
  const f = new Fields(file);
  const o = f.object(value, '');
  if (o.schema === RESULT_SCHEMA) return parseIqaBench(f, o);
  if (o.schema === TRAIN_SUMMARY_SCHEMA) return parseTrainSummary(f, o);
  if (o.schema !== undefined) f.fail('schema', `"${RESULT_SCHEMA}" or "${TRAIN_SUMMARY_SCHEMA}"`, o.schema);
  if (o.results !== undefined) return parseSmartIqa(f, o);
  return f.fail('schema', `"${RESULT_SCHEMA}" (or the original's {results: {…}})`, undefined);
}

/** Reads and parses a result file (size-bounded). `label` is how errors name it (the path as the user typed it). */
export async function readResult(path: string, label = path): Promise<LoadedResult> {
  return parseValue(await readJsonFile(path, label, MAX_RESULT_BYTES), label);
}
