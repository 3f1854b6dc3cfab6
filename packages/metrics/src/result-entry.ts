/**
 * The result file format, `iqa-bench/result@1`: one entry per evaluated dataset with the numbers `evaluate` computes,
 * under fixed metric names. Evaluations write it (`iqa-bench eval`, `cross-dataset`; a training run's summary.json
 * holds entries of the same shape), and `iqa-bench check` and the reports read it back through the validating parsers
 * here, which name the file and the field of anything unexpected.
 */
import { evaluate, type Evaluation } from './evaluate.js';
import type { NonFinitePolicy } from './input.js';

/** The `schema` tag of a result file. */
export const RESULT_SCHEMA = 'iqa-bench/result@1';

/** The metrics a result entry may hold, with their direction. The names are the keys of an entry's `metrics`. */
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

/** Per-image predictions kept in a result entry for scatter plots (parallel arrays). */
export interface Predictions {
  image: string[];
  /** The model's score of each image (mean of its patch scores). */
  score: number[];
  /** The ground-truth score on the dataset's native scale. */
  mos: number[];
}

/** One evaluated dataset: a result entry. */
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
  /** Metric values; null when a metric could not be computed (e.g. a failed logistic fit). JSON writes NaN as null. */
  metrics: Partial<Record<MetricName, number | null>> & Record<string, number | null>;
  /** Why a metric is null, keyed by metric (e.g. `plccLogistic: "the 4-parameter logistic fit did not converge"`). */
  reasons?: Record<string, string>;
  /** The fitted logistic mapping prediction → MOS behind `plccLogistic` / `rmseLogistic`. */
  logistic?: { model: 4 | 5; params: number[]; converged: boolean };
  predictions?: Predictions;
}

/** A result file (`schema: "iqa-bench/result@1"`). */
export interface ResultFile {
  schema: typeof RESULT_SCHEMA;
  /** What wrote it: `cross-dataset`, `eval`, `train`, … (the iqa-bench writers always set it). */
  kind?: string;
  /** The program that wrote it (`@iqa-bench/cli 0.1.0`). */
  producer?: string;
  checkpoint?: string;
  /** Everything the numbers depend on (patches, crop, preprocess, seed, backend). */
  settings?: Record<string, unknown>;
  datasets: DatasetResult[];
  /** Mean of each metric over the datasets. */
  mean?: Partial<Record<MetricName, number | null>>;
}

/** A result file or entry that is not what the format says; the message names the file and the field. */
export class ResultFormatError extends Error {
  readonly file: string;
  /** The field's path (`datasets[0].metrics.srcc`), or `(top level)`. */
  readonly field: string;

  constructor(file: string, field: string, message: string) {
    super(`${file}: ${field}: ${message}`);
    this.name = 'ResultFormatError';
    this.file = file;
    this.field = field;
  }
}

type JsonObject = { [k: string]: unknown };

/** A short description of a JSON value for messages. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}

/** Checks JSON values of one file and names the file and field of anything unexpected. */
class Fields {
  constructor(readonly file: string) {}

  fail(path: string, expected: string, got: unknown): never {
    throw new ResultFormatError(
      this.file,
      path || '(top level)',
      `expected ${expected}, got ${describe(got)}`,
    );
  }

  object(v: unknown, path: string): JsonObject {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'an object', v);
    return v as JsonObject;
  }

  array(v: unknown, path: string): unknown[] {
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
      const known = metricName(k);
      if (known !== undefined) out[known] = this.metric(x, `${path}.${k}`);
      else if (typeof x === 'number' || x === null) out[k] = x;
    }
    return out;
  }
}

/** The path of `key` inside the field at `path` ('' is the top level). */
function at(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function parseEntry(f: Fields, v: unknown, path: string): DatasetResult {
  const o = f.object(v, path);
  const d: DatasetResult = {
    name: f.string(o.name, at(path, 'name')),
    n: f.count(o.n, at(path, 'n')),
    metrics: f.metrics(o.metrics, at(path, 'metrics')),
  };
  const key = f.optString(o.key, at(path, 'key'));
  if (key !== undefined) d.key = key;
  const p = f.optString(o.path, at(path, 'path'));
  if (p !== undefined) d.path = p;
  const split = f.optString(o.split, at(path, 'split'));
  if (split !== undefined) d.split = split;
  if (o.direction !== undefined) {
    if (o.direction !== 'higher-better' && o.direction !== 'lower-better') {
      f.fail(at(path, 'direction'), '"higher-better" or "lower-better"', o.direction);
    }
    d.direction = o.direction;
  }
  if (o.reasons !== undefined && o.reasons !== null) {
    const r = f.object(o.reasons, at(path, 'reasons'));
    d.reasons = Object.fromEntries(
      Object.entries(r).map(([k, x]) => [k, f.string(x, `${at(path, 'reasons')}.${k}`)]),
    );
  }
  if (o.logistic !== undefined && o.logistic !== null) {
    const l = f.object(o.logistic, at(path, 'logistic'));
    if (l.model !== 4 && l.model !== 5) f.fail(at(path, 'logistic.model'), '4 or 5', l.model);
    if (typeof l.converged !== 'boolean')
      f.fail(at(path, 'logistic.converged'), 'true or false', l.converged);
    d.logistic = {
      model: l.model,
      params: f.numbers(l.params, at(path, 'logistic.params')),
      converged: l.converged,
    };
  }
  if (o.predictions !== undefined && o.predictions !== null) {
    const pp = f.object(o.predictions, at(path, 'predictions'));
    const image = f
      .array(pp.image, at(path, 'predictions.image'))
      .map((x, i) => f.string(x, `${at(path, 'predictions.image')}[${i}]`));
    const score = f.numbers(pp.score, at(path, 'predictions.score'));
    const mos = f.numbers(pp.mos, at(path, 'predictions.mos'));
    if (score.length !== image.length || mos.length !== image.length) {
      f.fail(
        at(path, 'predictions'),
        'image, score and mos of equal length',
        `${image.length}/${score.length}/${mos.length}`,
      );
    }
    d.predictions = { image, score, mos };
  }
  return d;
}

/**
 * Validates one result entry read from `file` (parsed JSON); `field` is where it sits in the file, for messages ('' for
 * the top level).
 * Metric names are normalised (`plcc_logistic` → `plccLogistic`); unknown numeric metrics are kept, unknown
 * non-numeric ones dropped. Throws ResultFormatError.
 */
export function parseDatasetResult(value: unknown, file: string, field = ''): DatasetResult {
  return parseEntry(new Fields(file), value, field);
}

/** Validates a list of result entries (`datasets` of a result file): each entry, and that names are unique. */
export function parseDatasetResults(value: unknown, file: string, field = 'datasets'): DatasetResult[] {
  const f = new Fields(file);
  const datasets = f.array(value, field).map((d, i) => parseEntry(f, d, `${field}[${i}]`));
  const seen = new Set<string>();
  datasets.forEach((d, i) => {
    if (seen.has(d.name)) f.fail(`${field}[${i}].name`, 'a name not used by another dataset', d.name);
    seen.add(d.name);
  });
  return datasets;
}

/** Validates a whole result file (parsed JSON) whose `schema` is `iqa-bench/result@1`. Throws ResultFormatError. */
export function parseResultFile(value: unknown, file: string): ResultFile {
  const f = new Fields(file);
  const o = f.object(value, '');
  if (o.schema !== RESULT_SCHEMA) f.fail('schema', `"${RESULT_SCHEMA}"`, o.schema);
  const r: ResultFile = { schema: RESULT_SCHEMA, datasets: parseDatasetResults(o.datasets, file) };
  const kind = f.optString(o.kind, 'kind');
  if (kind !== undefined) r.kind = kind;
  const producer = f.optString(o.producer, 'producer');
  if (producer !== undefined) r.producer = producer;
  const checkpoint = f.optString(o.checkpoint, 'checkpoint');
  if (checkpoint !== undefined) r.checkpoint = checkpoint;
  if (o.settings !== undefined && o.settings !== null) r.settings = f.object(o.settings, 'settings');
  if (o.mean !== undefined && o.mean !== null) r.mean = f.metrics(o.mean, 'mean');
  return r;
}

/** NaN (undefined in @iqa-bench/metrics) becomes null in a result file. */
function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/**
 * The entry of a result file for one evaluated dataset, from the model's scores and the ground truth: every metric
 * of `evaluate` (the VQEG 4-parameter logistic for the mapped ones), the reason for each missing one, the fit, and the
 * predictions unless `keepPredictions` is false.
 */
export function datasetResult(
  name: string,
  predictions: Predictions,
  info: {
    key?: string;
    path?: string;
    split?: string;
    lowerIsBetter?: boolean;
    keepPredictions?: boolean;
    /** Non-finite scores: refused (default) or dropped with their pairs (see evaluate). */
    nonFinite?: NonFinitePolicy;
  },
): DatasetResult {
  const e: Evaluation = evaluate(predictions.score, predictions.mos, {
    logistic: 4,
    lowerIsBetter: info.lowerIsBetter ?? false,
    ...(info.nonFinite !== undefined ? { nonFinite: info.nonFinite } : {}),
  });
  const d: DatasetResult = {
    name,
    ...(info.key !== undefined ? { key: info.key } : {}),
    ...(info.path !== undefined ? { path: info.path } : {}),
    ...(info.split !== undefined ? { split: info.split } : {}),
    ...(info.lowerIsBetter ? { direction: 'lower-better' as const } : {}),
    n: e.n,
    metrics: {
      srcc: finiteOrNull(e.srcc),
      plcc: finiteOrNull(e.plcc),
      plccLogistic: finiteOrNull(e.mapped?.plcc ?? Number.NaN),
      krcc: finiteOrNull(e.krcc),
      rmse: finiteOrNull(e.rmse),
      rmseLogistic: finiteOrNull(e.mapped?.rmse ?? Number.NaN),
      mae: finiteOrNull(e.mae),
      maeLogistic: finiteOrNull(e.mapped?.mae ?? Number.NaN),
    },
  };
  const reasons: Record<string, string> = {};
  for (const m of ['srcc', 'plcc', 'krcc'] as const) if (e.reasons[m]) reasons[m] = e.reasons[m];
  if (e.reasons.mapped)
    for (const m of ['plccLogistic', 'rmseLogistic', 'maeLogistic']) reasons[m] = e.reasons.mapped;
  if (Object.keys(reasons).length > 0) d.reasons = reasons;
  const fit = e.mapped?.fit;
  if (fit) d.logistic = { model: fit.model, params: [...fit.params], converged: fit.converged };
  if (info.keepPredictions !== false) d.predictions = predictions;
  return d;
}
