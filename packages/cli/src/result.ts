import { parseResultFile, RESULT_SCHEMA, ResultFormatError, type DatasetResult } from '@iqa-bench/metrics';
import { parseRunSummary, SUMMARY_SCHEMA } from '@iqa-bench/train/run-folder';
import { CliError } from './errors.js';
import { readJsonFile } from './json-file.js';
import { parseStructuredText, TextFileError } from '@iqa-bench/core/text';

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

type JsonObject = { [k: string]: unknown };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (isObject(v)) return 'an object';
  return typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : String(v);
}

function fail(file: string, field: string, expected: string, got: unknown): never {
  throw new ResultFormatError(file, field, `expected ${expected}, got ${describe(got)}`);
}

/**
 * The PyTorch original's `cross_dataset_results_*.json`: `{checkpoint, results: {name: {srcc, plcc, num_images} |
 * null}}`, as result entries.
 */
function parseSmartIqa(o: JsonObject, file: string): LoadedResult {
  if (!isObject(o.results)) fail(file, 'results', 'an object', o.results);
  const datasets = Object.entries(o.results).map(([name, v]): DatasetResult => {
    if (v === null) return { name, n: null, metrics: {} };
    if (!isObject(v)) fail(file, `results.${name}`, 'an object or null', v);
    const n = v.num_images ?? null;
    if (n !== null && !(typeof n === 'number' && Number.isInteger(n) && n >= 0))
      fail(file, `results.${name}.num_images`, 'a non-negative integer or null', n);
    const metrics: Record<string, number | null> = {};
    for (const m of ['srcc', 'plcc'] as const) {
      const x = v[m] ?? null;
      if (x !== null && !(typeof x === 'number' && Number.isFinite(x)))
        fail(file, `results.${name}.${m}`, 'a number or null', x);
      metrics[m] = x;
    }
    return { name, n, metrics };
  });
  const r: LoadedResult = { file, format: 'smart-iqa-cross-dataset', datasets };
  if (typeof o.checkpoint === 'string') r.checkpoint = o.checkpoint;
  return r;
}

/**
 * Parses a result file's text. Accepted: an iqa-bench result (`schema: "iqa-bench/result@1"`, what `cross-dataset`
 * and `eval` write), a training run's summary.json (`iqa-bench/train-summary@1`) and the PyTorch original's
 * cross-dataset JSON. Throws a CliError (bad JSON), or a ResultFormatError / RunFolderError naming the file and field.
 */
export function parseResult(text: string, file: string): LoadedResult {
  let value: unknown;
  try {
    value = parseStructuredText(text, { file, format: 'json' });
  } catch (err) {
    const why =
      err instanceof TextFileError ? err.reason.replace(/^not valid JSON: /, '') : (err as Error).message;
    throw new CliError(`${file}: not valid JSON (${why})`);
  }
  return parseValue(value, file);
}

function parseValue(value: unknown, file: string): LoadedResult {
  if (!isObject(value)) fail(file, '(top level)', 'an object', value);
  if (value.schema === RESULT_SCHEMA) {
    const r = parseResultFile(value, file);
    const loaded: LoadedResult = { file, format: 'iqa-bench-result', datasets: r.datasets };
    if (r.mean !== undefined) loaded.mean = r.mean;
    if (r.checkpoint !== undefined) loaded.checkpoint = r.checkpoint;
    return loaded;
  }
  if (value.schema === SUMMARY_SCHEMA) {
    // A training run's summary.json: its `datasets` entries are result entries (the median over rounds of the
    // selected weights' metrics on the reported part).
    return { file, format: 'train-summary', datasets: parseRunSummary(value, file).datasets };
  }
  if (value.schema !== undefined)
    fail(file, 'schema', `"${RESULT_SCHEMA}" or "${SUMMARY_SCHEMA}"`, value.schema);
  if (value.results !== undefined) return parseSmartIqa(value, file);
  return fail(file, 'schema', `"${RESULT_SCHEMA}" (or the original's {results: {…}})`, undefined);
}

/** Reads and parses a result file (size-bounded). `label` is how errors name it (the path as the user typed it). */
export async function readResult(path: string, label = path): Promise<LoadedResult> {
  return parseValue(await readJsonFile(path, label, MAX_RESULT_BYTES), label);
}
