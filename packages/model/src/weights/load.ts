/**
 * Moving weights between a framework-neutral StateDict (PyTorch names and layouts) and a model's ParamStore
 * (tfjs layouts, see ../params.ts): dtype conversion, layout conversion and a full report of what did not match.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamEntry, ParamStore, TorchLayout } from '../params.js';
import { fileError } from './errors.js';
import type { StateDict, TensorData } from './state-dict.js';
import { describe, toFloat32, toInt32 } from './state-dict.js';

/** What loading a state dict into a model did. */
export interface LoadReport {
  /** Model entries that received a value. */
  loaded: string[];
  /** Model entries the state dict lacks. */
  missing: string[];
  /** State-dict entries the model does not have. */
  unexpected: string[];
  /** Entries present on both sides whose shape (in PyTorch layout) or dtype does not fit. */
  mismatched: { name: string; expected: string; got: string }[];
}

export interface LoadOptions {
  /** Throw (and change nothing) unless every entry matches exactly. Default true. */
  strict?: boolean;
}

/** The PyTorch shape of a stored tensor. */
export function torchShape(layout: TorchLayout, stored: readonly number[]): number[] {
  switch (layout) {
    case 'identity':
      return [...stored];
    case 'linear':
      return [stored[1], stored[0]];
    case 'conv':
      return [stored[3], stored[2], stored[0], stored[1]];
    case 'conv1x1':
      return [stored[1], stored[0], 1, 1];
  }
}

type Values = Float32Array | Int32Array;

/** dst[j * rows + i] = src[i * cols + j], in cache-friendly tiles. */
function transpose2d(src: Values, rows: number, cols: number, dst: Values): void {
  const T = 32;
  for (let i0 = 0; i0 < rows; i0 += T) {
    const i1 = Math.min(i0 + T, rows);
    for (let j0 = 0; j0 < cols; j0 += T) {
      const j1 = Math.min(j0 + T, cols);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) dst[j * rows + i] = src[i * cols + j];
    }
  }
}

/**
 * Reorders elements between the PyTorch layout and the stored layout, in JavaScript (the same on every backend, and
 * no slow rank-4 transpose kernels). `stored` is the stored shape; `toStored` picks the direction.
 */
export function convertLayout(
  src: Values,
  layout: TorchLayout,
  stored: readonly number[],
  toStored: boolean,
): Values {
  const dst = src instanceof Float32Array ? new Float32Array(src.length) : new Int32Array(src.length);
  switch (layout) {
    case 'identity':
      dst.set(src);
      break;
    case 'linear':
    case 'conv1x1': {
      // stored [in, out], torch [out, in] (x 1 x 1)
      const [inF, outF] = stored;
      if (toStored) transpose2d(src, outF, inF, dst);
      else transpose2d(src, inF, outF, dst);
      break;
    }
    case 'conv': {
      // stored [kh, kw, in, out] (index (k*I + i)*O + o), torch [out, in, kh, kw] (index (o*I + i)*K + k)
      const [kh, kw, I, O] = stored;
      const K = kh * kw;
      for (let o = 0; o < O; o++) {
        for (let i = 0; i < I; i++) {
          for (let k = 0; k < K; k++) {
            const t = (o * I + i) * K + k;
            const st = (k * I + i) * O + o;
            if (toStored) dst[st] = src[t];
            else dst[t] = src[st];
          }
        }
      }
      break;
    }
  }
  return dst;
}

const FLOATS = new Set(['float32', 'float16', 'bfloat16', 'float64']);
const INTS = new Set(['int64', 'int32', 'int16', 'int8', 'uint8']);

function expectedDescription(e: ParamEntry): string {
  return `${e.variable.dtype === 'int32' ? 'integer' : 'float'}[${torchShape(e.layout, e.variable.shape).join(',')}]`;
}

/** Converts one state-dict tensor to the values a variable takes, or returns why it cannot. */
function convert(e: ParamEntry, t: TensorData): Float32Array | Int32Array | string {
  const want = torchShape(e.layout, e.variable.shape);
  if (want.length !== t.shape.length || want.some((d, i) => d !== t.shape[i])) return 'shape';
  if (e.variable.dtype === 'float32') return FLOATS.has(t.dtype) ? toFloat32(t) : 'dtype';
  if (e.variable.dtype === 'int32') {
    if (!INTS.has(t.dtype)) return 'dtype';
    try {
      return toInt32(t, e.name);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
  return 'dtype';
}

/** Compares a state dict against model entries and converts what matches (nothing is assigned yet). */
function plan(
  entries: readonly ParamEntry[],
  sd: StateDict,
): { report: LoadReport; values: Map<ParamEntry, Float32Array | Int32Array> } {
  const report: LoadReport = { loaded: [], missing: [], unexpected: [], mismatched: [] };
  const values = new Map<ParamEntry, Float32Array | Int32Array>();
  const names = new Set<string>();
  for (const e of entries) {
    names.add(e.name);
    const t = sd.get(e.name);
    if (!t) {
      report.missing.push(e.name);
      continue;
    }
    const v = convert(e, t);
    if (typeof v === 'string') {
      const why = v === 'shape' || v === 'dtype' ? '' : ` (${v})`;
      report.mismatched.push({ name: e.name, expected: expectedDescription(e), got: `${describe(t)}${why}` });
    } else {
      values.set(e, v);
      report.loaded.push(e.name);
    }
  }
  for (const k of sd.keys()) if (!names.has(k)) report.unexpected.push(k);
  return { report, values };
}

function assign(values: Map<ParamEntry, Float32Array | Int32Array>): void {
  for (const [e, v] of values) {
    const next = tf.tensor(
      convertLayout(v, e.layout, e.variable.shape, true),
      e.variable.shape,
      e.variable.dtype,
    );
    e.variable.assign(next);
    next.dispose();
  }
}

/** True when nothing is missing, unexpected or mismatched. */
export function isCompleteLoad(r: LoadReport): boolean {
  return r.missing.length === 0 && r.unexpected.length === 0 && r.mismatched.length === 0;
}

/** A readable multi-line summary naming every problem. */
export function formatLoadReport(r: LoadReport): string {
  const lines = [`${r.loaded.length} tensors loaded`];
  if (r.missing.length) lines.push(`${r.missing.length} missing from the weights: ${r.missing.join(', ')}`);
  if (r.unexpected.length)
    lines.push(`${r.unexpected.length} unexpected (not in the model): ${r.unexpected.join(', ')}`);
  if (r.mismatched.length) {
    lines.push(
      `${r.mismatched.length} mis-shaped or mis-typed: ${r.mismatched.map((m) => `${m.name} (model ${m.expected}, weights ${m.got})`).join(', ')}`,
    );
  }
  return lines.join('\n');
}

/**
 * Loads a PyTorch-layout state dict into `entries` (a whole ParamStore or part of one): float16 / bfloat16 /
 * float64 -> float32, int64 -> int32 (overflow checked), torch layouts -> stored layouts. Strict (the default): throws,
 * naming every missing, unexpected and mismatched tensor, and changes nothing unless everything matches. Non-strict:
 * loads what matches and returns the report.
 */
export function loadEntries(
  entries: readonly ParamEntry[],
  sd: StateDict,
  opts: LoadOptions & { source?: string } = {},
): LoadReport {
  const { report, values } = plan(entries, sd);
  if ((opts.strict ?? true) && !isCompleteLoad(report)) {
    throw fileError(
      opts.source ?? 'loadStateDict',
      null,
      `the weights do not match the model:\n${formatLoadReport(report)}`,
    );
  }
  assign(values);
  return report;
}

/** Loads a state dict into every entry of a ParamStore (see loadEntries). */
export function loadStateDict(
  store: ParamStore,
  sd: StateDict,
  opts: LoadOptions & { source?: string } = {},
): LoadReport {
  return loadEntries(store.list(), sd, opts);
}

/**
 * The model's state dict in PyTorch names, order and layouts: float32 parameters and buffers, integer buffers as
 * int64 (PyTorch's type for them). Loadable by `model.load_state_dict` in PyTorch once converted to tensors.
 */
export function exportStateDict(store: ParamStore): StateDict {
  const sd: StateDict = new Map();
  for (const e of store.list()) {
    const shape = torchShape(e.layout, e.variable.shape);
    const values = e.variable.dataSync();
    if (e.variable.dtype === 'int32') {
      const v = convertLayout(values as Int32Array, e.layout, e.variable.shape, false);
      sd.set(e.name, { dtype: 'int64', shape, data: BigInt64Array.from(v, (x) => BigInt(x)) });
    } else if (e.variable.dtype === 'float32') {
      sd.set(e.name, {
        dtype: 'float32',
        shape,
        data: convertLayout(values as Float32Array, e.layout, e.variable.shape, false) as Float32Array,
      });
    } else {
      throw new Error(`exportStateDict: '${e.name}' has unsupported dtype ${e.variable.dtype}`);
    }
  }
  return sd;
}
