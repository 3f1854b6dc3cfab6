/**
 * Reading a TensorFlow.js-format model folder (`model.json` + weight shards, see ./tfjs-format.ts) from disk,
 * defensively: model.json is size-bounded and validated (schema, model config and its cost) before any shard is
 * touched; every shard must be a regular file inside the folder (symbolic links may not lead out of it), and the
 * shards' sizes must match what the manifest describes, group by group, before one is read. Every error is a
 * ModelFileError naming model.json and the field (a missing shard names the shard and its manifest entry).
 */
import { realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config.js';
import type { ModelCostLimits } from '../config-cost.js';
import { fileError, withFileErrorsAsync } from './errors.js';
import { readFileBounded } from '@iqa-bench/core/fs';
import type { TfjsModelJSON } from './tfjs-format.js';
import { parseTfjsModelJSON, TFJS_MANIFEST_BOUNDS, weightSpecBytes } from './tfjs-format.js';
import { parseStructuredText, TextFileError } from '@iqa-bench/core/text';

/** Largest model.json accepted (64 MiB). */
export const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;

export interface ReadTfjsFolderOptions {
  /** Largest total of the weight shards (default 2 GiB - 1). */
  maxBytes?: number;
  /** Bounds on the model the config describes (see ModelCostLimits). */
  limits?: Partial<ModelCostLimits>;
}

export interface TfjsFolder {
  /** The model.json that was read. */
  jsonPath: string;
  modelJSON: TfjsModelJSON;
  config: ModelConfig;
  /** What tf.io loaders return: decodeTfjsArtifacts / modelFromTfjsArtifacts take it. */
  artifacts: tf.io.ModelArtifacts;
}

/** Reads a folder written by saveTfjsModel (or its model.json); nothing is built. */
export async function readTfjsFolder(path: string, opts: ReadTfjsFolderOptions = {}): Promise<TfjsFolder> {
  const maxBytes = opts.maxBytes ?? 2 ** 31 - 1;
  const isDir = (await withFileErrorsAsync(path, () => stat(path))).isDirectory();
  const jsonPath = isDir ? join(path, 'model.json') : path;
  const raw = await withFileErrorsAsync(jsonPath, () => readFileBounded(jsonPath, MAX_MODEL_JSON_BYTES));
  let value: unknown;
  try {
    value = parseStructuredText(new TextDecoder('utf-8', { fatal: true }).decode(raw), {
      file: jsonPath,
      format: 'json',
      maxItems: TFJS_MANIFEST_BOUNDS.maxWeights,
    });
  } catch (err) {
    throw fileError(
      jsonPath,
      null,
      `not valid UTF-8 JSON (${err instanceof TextFileError ? err.reason : err instanceof Error ? err.message : String(err)})`,
      {
        cause: err,
      },
    );
  }
  const { modelJSON, config } = parseTfjsModelJSON(value, jsonPath, opts.limits);

  // Every shard: a regular file inside the folder, its size known before anything is read.
  const dir = dirname(jsonPath);
  const root = await withFileErrorsAsync(dir, () => realpath(dir));
  const shards: { file: string; size: number }[] = [];
  let total = 0;
  for (const [g, group] of modelJSON.weightsManifest.entries()) {
    const files: { file: string; size: number }[] = [];
    for (const [i, p] of group.paths.entries()) {
      const field = `weightsManifest[${g}].paths[${i}]`;
      const file = join(dir, p);
      let real: string;
      try {
        real = await realpath(file);
      } catch (err) {
        const missing = (err as { code?: unknown }).code === 'ENOENT';
        throw fileError(
          jsonPath,
          field,
          missing
            ? `weight shard '${p}' is missing (${file})`
            : `cannot read weight shard '${p}' (${String(err)})`,
          { cause: err },
        );
      }
      const rel = relative(root, real);
      if (rel.startsWith('..') || isAbsolute(rel))
        throw fileError(jsonPath, field, `weight shard '${p}' leads out of the model folder (to ${real})`);
      const st = await withFileErrorsAsync(jsonPath, () => stat(real), field);
      if (!st.isFile()) throw fileError(jsonPath, field, `weight shard '${p}' is not a regular file`);
      files.push({ file: real, size: st.size });
    }
    const size = files.reduce((s, f) => s + f.size, 0);
    const need = group.weights.reduce((s, w) => s + weightSpecBytes(w), 0n);
    if (BigInt(size) !== need)
      throw fileError(
        jsonPath,
        `weightsManifest[${g}]`,
        `the weight data has ${size} bytes, the manifest describes ${need} (shards: ${group.paths.join(', ')})`,
      );
    total += size;
    if (total > maxBytes)
      throw fileError(
        jsonPath,
        `weightsManifest[${g}]`,
        `the weight shards exceed the limit of ${maxBytes} bytes`,
        {
          limit: 'maxBytes',
        },
      );
    shards.push(...files);
  }

  const weightData: ArrayBuffer[] = [];
  for (const { file, size } of shards) {
    const bytes = await withFileErrorsAsync(file, () => readFileBounded(file, size));
    if (bytes.byteLength !== size) throw fileError(file, null, 'changed size while the model was read');
    weightData.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  }
  return {
    jsonPath,
    modelJSON,
    config,
    artifacts: {
      format: modelJSON.format,
      generatedBy: modelJSON.generatedBy,
      convertedBy: modelJSON.convertedBy,
      userDefinedMetadata: modelJSON.userDefinedMetadata,
      weightSpecs: modelJSON.weightsManifest.flatMap((g) => g.weights),
      weightData,
    },
  };
}
