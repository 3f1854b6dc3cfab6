/**
 * Resumable training checkpoints: one file holding the model variables (tfjs layout, keyed by parameter name), the
 * optimizer moments and the trainer state (JSON in the header metadata), replaced atomically, so a run killed at any
 * moment finds either the previous or the new complete checkpoint.
 *
 * The file is safetensors (F32 tensors `param/<name>`, `adam.m/<name>`, `adam.v/<name>`, `f32/<key>` for
 * float arrays of the trainer state; `__metadata__.state` = JSON).
 */
import { readFileSync, statSync } from 'node:fs';
import { writeFileAtomicSync } from './atomic.js';

export interface CheckpointContents {
  /** Float32 arrays by name. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  state: unknown;
}

const MAX_HEADER = 64 << 20;

export function encodeCheckpoint(c: CheckpointContents): Uint8Array[] {
  let offset = 0;
  const parts = [`"__metadata__":{"state":${JSON.stringify(JSON.stringify(c.state))}}`];
  const chunks: Uint8Array[] = [];
  for (const [name, t] of c.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new Error(`checkpoint tensor '${name}': shape [${t.shape}] but ${t.data.length} values`);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"F32","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + bytes.byteLength}]}`,
    );
    offset += bytes.byteLength;
    chunks.push(bytes);
  }
  let json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad > 0) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(json.length), true);
  return [len, json, ...chunks];
}

export function decodeCheckpoint(bytes: Uint8Array, source: string): CheckpointContents {
  const fail = (msg: string): never => {
    throw new Error(`${source}: invalid checkpoint: ${msg}`);
  };
  if (bytes.length < 8) fail('shorter than 8 bytes');
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > bytes.length)
    fail(`header length ${n} does not fit the file (${bytes.length} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')) as Record<string, unknown>;
  } catch {
    return fail('header is not JSON');
  }
  const meta = header.__metadata__ as Record<string, unknown> | undefined;
  if (!meta || typeof meta.state !== 'string') fail('no __metadata__.state');
  const dataStart = 8 + n;
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const i = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (i.dtype !== 'F32' || !Array.isArray(i.shape) || !Array.isArray(i.data_offsets))
      fail(`tensor '${name}': bad entry`);
    const shape = i.shape as number[];
    const [b, e] = i.data_offsets as number[];
    const count = shape.reduce((a, c) => a * c, 1);
    if (!Number.isInteger(b) || !Number.isInteger(e) || e - b !== count * 4 || dataStart + e > bytes.length) {
      fail(`tensor '${name}': offsets [${b}, ${e}] do not match shape [${shape}] or the file size`);
    }
    const copy = new Uint8Array(e - b);
    copy.set(bytes.subarray(dataStart + b, dataStart + e));
    tensors.set(name, { shape, data: new Float32Array(copy.buffer) });
  }
  return { tensors, state: JSON.parse(meta?.state as string) as unknown };
}

export function writeCheckpoint(path: string, c: CheckpointContents): void {
  writeFileAtomicSync(path, encodeCheckpoint(c));
}

export function readCheckpoint(path: string, maxBytes = 2 ** 31 - 1): CheckpointContents {
  const size = statSync(path).size;
  if (size > maxBytes) throw new Error(`${path}: ${size} bytes, over the limit of ${maxBytes}`);
  return decodeCheckpoint(readFileSync(path), path);
}
