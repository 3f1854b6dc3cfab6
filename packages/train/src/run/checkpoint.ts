/**
 * Resumable training checkpoints: one file holding the model variables (tfjs layout, keyed by parameter name), the
 * optimizer moments and the trainer state, replaced atomically, so a run killed at any moment finds either the
 * previous or the new complete checkpoint.
 *
 * The file is safetensors, written and read by `@iqa-bench/model`'s codec: F32 tensors `param/<name>`,
 * `adam.m/<name>`, `adam.v/<name>`, `f32/<key>` for float arrays of the trainer state, and the state as JSON in
 * `__metadata__.state`.
 */
import { readFileBoundedSync, writeFileAtomicSync } from '@iqa-bench/core/fs';
import { parseSafetensors, serializeSafetensors, type StateDict } from '@iqa-bench/model/weights';

export interface CheckpointContents {
  /** Float32 arrays by name. */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  state: unknown;
}

/** The checkpoint's bytes. */
export function encodeCheckpoint(c: CheckpointContents): Uint8Array {
  const tensors: StateDict = new Map();
  for (const [name, t] of c.tensors) tensors.set(name, { dtype: 'float32', shape: t.shape, data: t.data });
  return serializeSafetensors(tensors, { state: JSON.stringify(c.state) });
}

/** Parses a checkpoint's bytes; `source` names the file in errors. */
export function decodeCheckpoint(bytes: Uint8Array, source: string): CheckpointContents {
  const { tensors, metadata } = parseSafetensors(bytes, source);
  const fail = (msg: string): never => {
    throw new Error(`${source}: invalid checkpoint: ${msg}`);
  };
  if (typeof metadata.state !== 'string') fail('no __metadata__.state');
  let state: unknown;
  try {
    state = JSON.parse(metadata.state) as unknown;
  } catch {
    fail('__metadata__.state is not JSON');
  }
  const out: CheckpointContents['tensors'] = new Map();
  for (const [name, t] of tensors) {
    if (t.dtype !== 'float32') fail(`tensor '${name}' is ${t.dtype}, expected float32`);
    out.set(name, { shape: t.shape, data: t.data as Float32Array });
  }
  return { tensors: out, state };
}

export function writeCheckpoint(path: string, c: CheckpointContents): void {
  writeFileAtomicSync(path, encodeCheckpoint(c));
}

export function readCheckpoint(path: string, maxBytes = 2 ** 31 - 1): CheckpointContents {
  return decodeCheckpoint(readFileBoundedSync(path, maxBytes, 'checkpoint'), path);
}
