/**
 * safetensors (https://github.com/huggingface/safetensors) read and write, the package's native weights format.
 *
 * Layout: u64 little-endian header length N, N bytes of UTF-8 JSON
 * `{"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}`
 * (padded with spaces so that the data starts 8-byte aligned), then the tensor bytes, offsets relative to the data start.
 * The reader validates everything; tensors come back in data order (the order the writer stored them in).
 */
import { fileError, withFileErrors, withFileErrorsAsync } from './errors.js';
import { readFileBounded, writeFileAtomic } from '@iqa-bench/core/fs';
import type { DType, StateDict } from './state-dict.js';
import { checkTensor, dtypeBytes, numel, tensorBytes, tensorFromBytes } from './state-dict.js';
import { parseStructuredText, TextFileError } from '@iqa-bench/core/text';

const CODES: Record<DType, string> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};
const FROM_CODE = new Map<string, DType>(Object.entries(CODES).map(([d, c]) => [c, d as DType]));

/** Header size bound (the reference implementation's limit). */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

export interface SafetensorsContents {
  tensors: StateDict;
  /** `__metadata__` (string -> string), in file order; empty when absent. */
  metadata: Record<string, string>;
}

function fail(source: string, msg: string): never {
  throw fileError(source, null, `invalid safetensors file: ${msg}`);
}

/** True when `bytes` starts like a safetensors file (plausible header length followed by '{'). */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(bytes.length - 8) && bytes[8] === 0x7b;
}

/** Parses and validates a safetensors buffer. `source` names the file in errors (ModelFileErrors). */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors'): SafetensorsContents {
  return withFileErrors(source, () => parse(bytes, source));
}

function parse(bytes: Uint8Array, source: string): SafetensorsContents {
  if (bytes.length < 8) fail(source, `${bytes.length} bytes, shorter than the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_SAFETENSORS_HEADER))
    fail(source, `header length ${n64} exceeds the limit of ${MAX_SAFETENSORS_HEADER} bytes`);
  const n = Number(n64);
  if (8 + n > bytes.length)
    fail(source, `header length ${n} exceeds the file (${bytes.length} bytes): truncated?`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail(source, 'header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(source, "header does not start with '{'");
  let header: unknown;
  try {
    header = parseStructuredText(text, { file: source, format: 'json', maxItems: 1024 });
  } catch (err) {
    fail(
      source,
      `header is ${err instanceof TextFileError ? err.reason : `not valid JSON (${String(err)})`}`,
    );
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    fail(source, 'header is not a JSON object');

  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info))
        fail(source, '__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(source, `__metadata__['${k}'] must be a string, got ${typeof v}`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof info !== 'object' || info === null || Array.isArray(info))
      fail(source, `tensor '${name}': entry must be an object`);
    const {
      dtype: code,
      shape,
      data_offsets: offs,
    } = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof code === 'string' ? FROM_CODE.get(code) : undefined;
    if (!dtype)
      fail(
        source,
        `tensor '${name}': unsupported dtype ${JSON.stringify(code)} (supported: ${[...FROM_CODE.keys()].join(', ')})`,
      );
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
      fail(source, `tensor '${name}': shape must be a list of non-negative integers`);
    }
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      offs.some((o) => !Number.isSafeInteger(o) || (o as number) < 0)
    ) {
      fail(source, `tensor '${name}': data_offsets must be [begin, end]`);
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) fail(source, `tensor '${name}': data_offsets end ${end} < begin ${begin}`);
    let count: number;
    try {
      count = numel(shape as number[], `tensor '${name}'`);
    } catch (err) {
      fail(source, err instanceof Error ? err.message : String(err));
    }
    if (count * dtypeBytes(dtype) !== end - begin) {
      fail(
        source,
        `tensor '${name}': ${dtype} [${(shape as number[]).join(',')}] needs ${count * dtypeBytes(dtype)} bytes but data_offsets span ${end - begin}`,
      );
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  // Offsets must tile the data section exactly: contiguous, non-overlapping, nothing left over.
  const dataLen = bytes.length - 8 - n;
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin !== at)
      fail(source, `tensor '${e.name}' starts at ${e.begin}, expected ${at} (gap or overlap)`);
    at = e.end;
  }
  if (at !== dataLen)
    fail(
      source,
      `tensor data covers ${at} bytes but the file has ${dataLen} after the header (truncated or trailing bytes)`,
    );

  const base = 8 + n;
  const tensors: StateDict = new Map();
  for (const e of sorted)
    tensors.set(
      e.name,
      tensorFromBytes(
        e.dtype,
        e.shape,
        bytes.subarray(base + e.begin, base + e.end),
        `${source}: '${e.name}'`,
      ),
    );
  return { tensors, metadata };
}

/**
 * The header followed by each tensor's bytes, in state-dict order. The JSON is compact, `__metadata__` first, keys
 * in the given order, padded with spaces to a multiple of 8 bytes (as the reference implementation writes it).
 */
export function encodeSafetensors(tensors: StateDict, metadata: Record<string, string> = {}): Uint8Array[] {
  const parts: string[] = [];
  const meta = Object.entries(metadata);
  if (meta.length > 0) {
    for (const [k, v] of meta)
      if (typeof v !== 'string') throw new Error(`safetensors metadata '${k}' must be a string`);
    parts.push(
      `"__metadata__":{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`,
    );
  }
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error("safetensors: a tensor cannot be named '__metadata__'");
    checkTensor(t, `safetensors: tensor '${name}'`);
    const bytes = tensorBytes(t);
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${CODES[t.dtype]}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + bytes.byteLength}]}`,
    );
    offset += bytes.byteLength;
    chunks.push(bytes);
  }
  let json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const pad = (8 - (json.length % 8)) % 8;
  if (pad > 0) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(json.length), true);
  return [len, json, ...chunks];
}

/** The whole file in one buffer (for small models, tests and browsers). */
export function serializeSafetensors(tensors: StateDict, metadata: Record<string, string> = {}): Uint8Array {
  const chunks = encodeSafetensors(tensors, metadata);
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Reads a .safetensors file (bounded by `maxBytes`, default 2 GiB - 1). */
export async function readSafetensors(
  path: string,
  opts: { maxBytes?: number } = {},
): Promise<SafetensorsContents> {
  const bytes = await withFileErrorsAsync(path, () => readFileBounded(path, opts.maxBytes ?? 2 ** 31 - 1));
  return parseSafetensors(bytes, path);
}

/** Writes a .safetensors file atomically (temporary file + rename). */
export async function writeSafetensors(
  path: string,
  tensors: StateDict,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
