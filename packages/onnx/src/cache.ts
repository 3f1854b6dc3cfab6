/**
 * The export cache: a checkpoint is exported once per (checkpoint sha256, EXPORTER_VERSION); later calls find the
 * file by name and return at once. Entries are written atomically, so a reader never sees a half-written model and an
 * interrupted export leaves no entry.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { loadCheckpoint, type IqaModel, type LoadCheckpointOptions } from '@iqa-bench/model';
import { modelFromTfjsArtifacts, readTfjsFolder } from '@iqa-bench/model/weights';
import { EXPORTER_VERSION } from './contract.js';
import { writeOnnx } from './export.js';

/** `$IQA_BENCH_CACHE/onnx` when set, else `$XDG_CACHE_HOME/iqa-bench/onnx` (`~/.cache/iqa-bench/onnx`). */
export function defaultOnnxCacheDir(): string {
  const own = process.env.IQA_BENCH_CACHE;
  if (own) return join(own, 'onnx');
  const xdg = process.env.XDG_CACHE_HOME;
  // The XDG spec ignores a relative XDG_CACHE_HOME.
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  return join(base, 'iqa-bench', 'onnx');
}

export interface ExportCachedOptions {
  /** Where the exported models live (default defaultOnnxCacheDir()). */
  cacheDir?: string;
  /** Size bounds for reading the checkpoint and for the model built from it (as for loadCheckpoint). */
  limits?: LoadCheckpointOptions['limits'];
}

export interface ExportCachedResult {
  /** The exported model in the cache. */
  file: string;
  /** sha256 of the checkpoint (of model.json and its shards in order, for a TF.js model folder). */
  sha256: string;
  /** True when the file was already there. */
  cached: boolean;
}

async function hashFile(hash: ReturnType<typeof createHash>, file: string): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
}

/** The file name of a cache entry: the checkpoint's hash and the exporter version, both in the name. */
export function cacheEntryName(sha256: string): string {
  return `${sha256}.${EXPORTER_VERSION.replace(/[^A-Za-z0-9]+/g, '-')}.onnx`;
}

/**
 * Exports a checkpoint (any file @iqa-bench/model's loadCheckpoint reads, or a TF.js model folder / model.json that
 * loadTfjsModel reads) to `<cacheDir>/<sha256>.<exporter version>.onnx`, unless that file is already there. The
 * checkpoint's sha256 is stored in the model's metadata. Errors of the checkpoint (unreadable, unsupported, over the
 * limits) name it, as loadCheckpoint's do; nothing is written then.
 */
export async function exportCached(
  checkpoint: string,
  options: ExportCachedOptions = {},
): Promise<ExportCachedResult> {
  const cacheDir = options.cacheDir ?? defaultOnnxCacheDir();
  if (/\.onnx$/i.test(checkpoint))
    throw new Error(
      `${checkpoint}: already an ONNX model; open it with openOnnxScorer instead of exporting it`,
    );
  const hash = createHash('sha256');
  let build: () => Promise<IqaModel>;
  let isDir = false;
  try {
    isDir = (await stat(checkpoint)).isDirectory();
  } catch {
    // loadCheckpoint's error names the file and says what is wrong
    await loadCheckpoint(checkpoint, { limits: options.limits });
  }
  const tfjs = isDir || basename(checkpoint) === 'model.json';
  if (tfjs) {
    // A TF.js model: read and checked once (model.json, then its shards in order), hashed from those bytes.
    const { jsonPath, artifacts } = await readTfjsFolder(checkpoint, { limits: options.limits });
    await hashFile(hash, jsonPath);
    const shards = artifacts.weightData;
    for (const part of Array.isArray(shards) ? shards : shards ? [shards] : [])
      hash.update(new Uint8Array(part));
    build = () =>
      Promise.resolve(modelFromTfjsArtifacts(artifacts, jsonPath, { limits: options.limits }).model);
  } else {
    await hashFile(hash, checkpoint);
    build = async () => (await loadCheckpoint(checkpoint, { limits: options.limits })).model;
  }
  const sha256 = hash.digest('hex');
  const file = join(cacheDir, cacheEntryName(sha256));
  try {
    if ((await stat(file)).isFile()) return { file, sha256, cached: true };
  } catch {
    // not cached yet
  }
  const model = await build();
  try {
    await writeOnnx(file, model, { checkpointSha256: sha256, source: basename(checkpoint) });
  } finally {
    model.dispose();
  }
  return { file, sha256, cached: false };
}
