/**
 * Resumable training checkpoints: one file holding the model variables (tfjs layout, keyed by parameter name), the
 * optimizer moments and the trainer state, replaced atomically, so a run killed at any moment finds either the
 * previous or the new complete checkpoint.
 *
 * The file is safetensors, written and read by `@iqa-bench/model`'s codec: F32 tensors `param/<name>`,
 * `adam.m/<name>`, `adam.v/<name>`, `f32/<key>` for float arrays of the trainer state, and the state as JSON in
 * `__metadata__.state`.
 */
import { existsSync, linkSync, renameSync, rmSync } from 'node:fs';
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

/** Where a run's resume point lives: `last` and, kept from the step before, `previous`. */
export interface ResumePaths {
  last: string;
  previous: string;
}

/**
 * Writes the run's new resume point. The one it replaces is kept as `previous` (a hard link to the same file, no
 * copy), so that a last checkpoint damaged after it was written (a truncated copy, a bad disk) still leaves the run
 * one checkpoint back; the new `last` then replaces its name atomically, so `last` is never missing. Where hard links
 * are not supported the old file is renamed instead, and a crash before the new write leaves only `previous`, which
 * is a valid resume point too.
 */
export function writeResumePoint(paths: ResumePaths, c: CheckpointContents): void {
  if (existsSync(paths.last)) {
    rmSync(paths.previous, { force: true });
    try {
      linkSync(paths.last, paths.previous);
    } catch {
      renameSync(paths.last, paths.previous);
    }
  }
  writeCheckpoint(paths.last, c);
}

/** A resume point that was read, and what was wrong with the later one(s) it replaces. */
export interface ResumePoint {
  file: string;
  contents: CheckpointContents;
  /** Why `last` (when it exists) could not be used. */
  skipped: string[];
}

/**
 * Reads the latest usable resume point: `last`, else `previous`; `check` validates the contents (e.g. the trainer
 * state) and throws when they are not usable. Null when neither file exists; an Error naming both files and what is
 * wrong with each when none can be used.
 */
export function readResumePoint(
  paths: ResumePaths,
  check: (c: CheckpointContents, file: string) => void = () => undefined,
): ResumePoint | null {
  const skipped: string[] = [];
  for (const file of [paths.last, paths.previous]) {
    if (!existsSync(file)) continue;
    try {
      const contents = readCheckpoint(file);
      check(contents, file);
      return { file, contents, skipped };
    } catch (err) {
      skipped.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (skipped.length === 0) return null;
  throw new Error(`no usable checkpoint to resume from: ${skipped.join('; ')}`);
}
