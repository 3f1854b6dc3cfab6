/**
 * The TensorFlow.js weights format, for browsers: `model.json` (format, generatedBy, a `weightsManifest`, and our
 * ModelConfig in `userDefinedMetadata.iqaBench`) plus the weight data cut into shards of at most 4 MiB
 * (`group1-shard1of3.bin`, …), as tfjs' own converter writes them (a weight may run across two shards; readers join
 * them). Folders written before sharding hold one `group1-shard1of1.bin` and read the same way. Weights are stored in
 * the model's own (tfjs)
 * layouts under their PyTorch names, so a browser assigns them without conversion. Encoding and decoding use
 * `tf.io.encodeWeights` / `tf.io.decodeWeights`. This module has no Node imports: in a browser,
 * `decodeTfjsArtifacts(await tf.io.http(url).load())` works as is.
 */
import * as tf from '@tensorflow/tfjs';
import * as z from 'zod';
import type { ModelConfig } from '../config.js';
import type { ModelCostLimits } from '../config-cost.js';
import { createModel, type IqaModel } from '../model.js';
import type { ParamStore } from '../params.js';
import { checkModelConfig, parseModelConfig } from './config-json.js';
import { fileError, schemaError, withFileErrors } from './errors.js';
import type { LoadReport } from './load.js';
import { formatLoadReport, isCompleteLoad } from './load.js';

export const TFJS_FORMAT = 'iqa-bench-hypernet';
/** The shard of a model with one shard (all models written before sharding). */
export const TFJS_SHARD_NAME = 'group1-shard1of1.bin';
/** Shard size of tfjs' converter (`tensorflowjs_converter --weight_shard_size_bytes`, default 4 MiB). */
const DEFAULT_SHARD_BYTES = 4 * 2 ** 20;

/** `group1-shard<i>of<n>.bin`, i counted from 1: the names tfjs' converter gives the shards of weight group 1. */
function shardName(i: number, n: number): string {
  return `group1-shard${i + 1}of${n}.bin`;
}

export interface TfjsModelJSON {
  format: typeof TFJS_FORMAT;
  generatedBy: string;
  convertedBy: null;
  weightsManifest: tf.io.WeightsManifestConfig;
  userDefinedMetadata: { iqaBench: { config: ModelConfig; layout: 'tfjs' } };
}

export interface EncodeTfjsOptions {
  /** Largest shard in bytes (default 4 MiB, as tfjs' converter). */
  shardBytes?: number;
}

/**
 * Encodes a model's weights (stored layouts, PyTorch names, state-dict order) as model.json and its shards: the weight
 * data (`weightData`, whole) cut into consecutive `shards` of at most `shardBytes`, named in the manifest's `paths`.
 */
export async function encodeTfjsModel(
  store: ParamStore,
  config: ModelConfig,
  generatedBy = '@iqa-bench/model',
  opts: EncodeTfjsOptions = {},
): Promise<{ modelJSON: TfjsModelJSON; weightData: ArrayBuffer; shards: ArrayBuffer[] }> {
  const shardBytes = opts.shardBytes ?? DEFAULT_SHARD_BYTES;
  if (!Number.isSafeInteger(shardBytes) || shardBytes < 4)
    throw new Error(`encodeTfjsModel shardBytes: expected an integer of at least 4, got ${shardBytes}`);
  const named = store.list().map((e) => ({ name: e.name, tensor: e.variable as tf.Tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  const count = Math.max(1, Math.ceil(data.byteLength / shardBytes));
  if (count > TFJS_MANIFEST_BOUNDS.maxShards)
    throw new Error(
      `encodeTfjsModel: ${data.byteLength} bytes in shards of ${shardBytes} would make ${count} shards, more than the ${TFJS_MANIFEST_BOUNDS.maxShards} a reader accepts`,
    );
  const shards = Array.from({ length: count }, (_, i) => data.slice(i * shardBytes, (i + 1) * shardBytes));
  return {
    modelJSON: {
      format: TFJS_FORMAT,
      generatedBy,
      convertedBy: null,
      weightsManifest: [{ paths: shards.map((_, i) => shardName(i, count)), weights: specs }],
      userDefinedMetadata: { iqaBench: { config: parseModelConfig(config), layout: 'tfjs' } },
    },
    weightData: data,
    shards,
  };
}

// ---- the schema of model.json: every field typed and bounded before anything is read or built

/** Names a weight may not have (they would reach Object.prototype in the decoded name -> tensor map). */
const RESERVED_NAMES = ['__proto__', 'constructor', 'prototype'];

/** Largest rank, extent of one dimension and number of weights a manifest may declare. */
export const TFJS_MANIFEST_BOUNDS = { maxRank: 8, maxDim: 2 ** 31 - 1, maxWeights: 1 << 16, maxShards: 1024 };

/** True for a shard path this format accepts: a plain file name next to model.json (nothing may point elsewhere). */
export function isShardFileName(p: string): boolean {
  return p.length > 0 && p.length <= 255 && p !== '.' && p !== '..' && !/[/\\\0:]/.test(p);
}

const weightSpecSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(1024)
    .refine((n) => !RESERVED_NAMES.includes(n), { error: 'reserved weight name' }),
  shape: z.array(z.int().min(0).max(TFJS_MANIFEST_BOUNDS.maxDim)).max(TFJS_MANIFEST_BOUNDS.maxRank),
  dtype: z.enum(['float32', 'int32']),
});

const weightSpecsSchema = z.array(weightSpecSchema).max(TFJS_MANIFEST_BOUNDS.maxWeights);

const shardPathSchema = z.string().refine(isShardFileName, {
  error: (iss) => `weight path ${JSON.stringify(iss.input)} must be a file name next to model.json`,
});

const manifestGroupSchema = z.strictObject({
  paths: z.array(shardPathSchema).min(1).max(TFJS_MANIFEST_BOUNDS.maxShards),
  weights: weightSpecsSchema,
});

const metadataSchema = z.strictObject({
  // Checked by checkModelConfig, which names the config's own fields.
  iqaBench: z.strictObject({ config: z.unknown(), layout: z.literal('tfjs') }),
});

/** model.json as encodeTfjsModel writes it (this format carries weights and a config, no graph or layers topology). */
const modelJSONSchema = z.strictObject({
  format: z.literal(TFJS_FORMAT),
  generatedBy: z.string().max(1024),
  convertedBy: z.string().max(1024).nullable(),
  modelTopology: z.null().optional(),
  weightsManifest: z.array(manifestGroupSchema).min(1).max(TFJS_MANIFEST_BOUNDS.maxShards),
  userDefinedMetadata: metadataSchema,
});

/** The fields of loaded artifacts (tf.io.http / browser loaders) this format uses; other tfjs fields must be empty. */
const artifactsSchema = z.looseObject({
  format: z.literal(TFJS_FORMAT),
  modelTopology: z.null().optional(),
  weightSpecs: weightSpecsSchema,
  userDefinedMetadata: metadataSchema,
});

const CONFIG_FIELD = 'userDefinedMetadata.iqaBench.config';

/** Bytes of one weight's data (exact; shapes are bounded by the schema). */
export function weightSpecBytes(spec: { shape: readonly number[] }): bigint {
  return spec.shape.reduce((a, d) => a * BigInt(d), 4n);
}

/** Every weight name once. */
function checkUniqueNames(
  specs: readonly { name: string }[],
  source: string,
  field: (i: number) => string,
): void {
  const names = new Set<string>();
  specs.forEach((s, i) => {
    if (names.has(s.name)) throw fileError(source, field(i), `weight '${s.name}' is listed twice`);
    names.add(s.name);
  });
}

/**
 * Validates an untrusted model.json (parsed JSON) before anything is read or built: the schema (format, manifest
 * groups, shard paths, weight names, shapes and dtypes), unique weight names, and the model config (schema, cross-field
 * rules, cost within `limits`). Throws a ModelFileError naming `source` and the field.
 */
export function parseTfjsModelJSON(
  value: unknown,
  source = 'model.json',
  limits: Partial<ModelCostLimits> = {},
): { modelJSON: TfjsModelJSON; config: ModelConfig } {
  const r = modelJSONSchema.safeParse(value, { reportInput: true });
  if (!r.success) throw schemaError(source, r.error);
  const groups = r.data.weightsManifest;
  const specs = groups.flatMap((g, gi) =>
    g.weights.map((w, wi) => ({ ...w, field: `weightsManifest[${gi}].weights[${wi}]` })),
  );
  checkUniqueNames(specs, source, (i) => specs[i].field);
  const config = checkModelConfig(r.data.userDefinedMetadata.iqaBench.config, source, limits, CONFIG_FIELD);
  const modelJSON: TfjsModelJSON = {
    format: TFJS_FORMAT,
    generatedBy: r.data.generatedBy,
    convertedBy: null,
    weightsManifest: groups,
    userDefinedMetadata: { iqaBench: { config, layout: 'tfjs' } },
  };
  return { modelJSON, config };
}

/**
 * The ModelConfig of a model.json written by encodeTfjsModel, or of artifacts loaded from one: format and layout,
 * then the config's schema, cross-field rules and cost within `limits` (checkModelConfig).
 */
export function tfjsModelConfig(
  modelJSON: { format?: string; userDefinedMetadata?: unknown },
  source = 'model.json',
  limits: Partial<ModelCostLimits> = {},
): ModelConfig {
  const r = z
    .looseObject({ format: z.literal(TFJS_FORMAT), userDefinedMetadata: metadataSchema })
    .safeParse(modelJSON, { reportInput: true });
  if (!r.success) throw schemaError(source, r.error);
  return checkModelConfig(r.data.userDefinedMetadata.iqaBench.config, source, limits, CONFIG_FIELD);
}

/**
 * Decodes loaded artifacts (e.g. from `tf.io.http(url).load()`): the config and the named weights (caller disposes).
 * Everything is validated (tfjsModelConfig; weight specs, names and data size) before a tensor is made.
 */
export function decodeTfjsArtifacts(
  artifacts: tf.io.ModelArtifacts,
  source = 'model.json',
  opts: { limits?: Partial<ModelCostLimits> } = {},
): { config: ModelConfig; weights: tf.NamedTensorMap } {
  const config = tfjsModelConfig(artifacts, source, opts.limits);
  const data = artifacts.weightData;
  if (!artifacts.weightSpecs || !data)
    throw fileError(source, null, 'no weights (weightsManifest or weight data missing)');
  const r = artifactsSchema.safeParse(artifacts, { reportInput: true });
  if (!r.success) throw schemaError(source, r.error);
  const specs = r.data.weightSpecs;
  checkUniqueNames(specs, source, (i) => `weightSpecs[${i}]`);
  const buffers = Array.isArray(data) ? data : [data];
  const total = buffers.reduce((s, b) => s + b.byteLength, 0);
  const need = specs.reduce((s, spec) => s + weightSpecBytes(spec), 0n);
  if (BigInt(total) !== need)
    throw fileError(source, null, `the weight data has ${total} bytes, the manifest describes ${need}`);
  return { config, weights: withFileErrors(source, () => tf.io.decodeWeights(data, specs)) };
}

/** Assigns decoded weights (stored layouts) to a store; strict: every name, shape and dtype must match. */
export function assignTfjsWeights(
  store: ParamStore,
  weights: tf.NamedTensorMap,
  source = 'model.json',
): LoadReport {
  const report: LoadReport = { loaded: [], missing: [], unexpected: [], mismatched: [] };
  const given = new Map(Object.entries(weights));
  for (const e of store.list()) {
    const t = given.get(e.name);
    given.delete(e.name);
    if (!t) report.missing.push(e.name);
    else if (t.dtype !== e.variable.dtype || t.shape.join(',') !== e.variable.shape.join(',')) {
      report.mismatched.push({
        name: e.name,
        expected: `${e.variable.dtype}[${e.variable.shape.join(',')}]`,
        got: `${t.dtype}[${t.shape.join(',')}]`,
      });
    } else report.loaded.push(e.name);
  }
  report.unexpected.push(...given.keys());
  if (!isCompleteLoad(report))
    throw fileError(source, null, `the weights do not match the model:\n${formatLoadReport(report)}`);
  for (const name of report.loaded) store.get(name).assign(weights[name]);
  return report;
}

/**
 * Builds the model of loaded artifacts (e.g. `await tf.io.http(url).load()` in a browser) and assigns its weights,
 * strictly: a missing, unexpected or mis-shaped weight throws, naming it. The decoded tensors are disposed. Nothing is
 * built unless the artifacts pass decodeTfjsArtifacts' checks, the model's cost within `opts.limits` included.
 */
export function modelFromTfjsArtifacts(
  artifacts: tf.io.ModelArtifacts,
  source = 'model.json',
  opts: { limits?: Partial<ModelCostLimits> } = {},
): { model: IqaModel; config: ModelConfig; report: LoadReport } {
  const { config, weights } = decodeTfjsArtifacts(artifacts, source, opts);
  try {
    const model = createModel(config, { seed: 0, randomInit: false });
    try {
      return { model, config, report: assignTfjsWeights(model.params, weights, source) };
    } catch (err) {
      model.dispose();
      throw err;
    }
  } finally {
    for (const t of Object.values(weights)) t.dispose();
  }
}
