/**
 * The TensorFlow.js weights format, for browsers: `model.json` (format, generatedBy, a `weightsManifest`, and our
 * ModelConfig in `userDefinedMetadata.iqaBench`) plus one binary shard. Weights are stored in the model's own (tfjs)
 * layouts under their PyTorch names, so a browser assigns them without conversion. Encoding and decoding use
 * `tf.io.encodeWeights` / `tf.io.decodeWeights`. This module has no Node imports: in a browser,
 * `decodeTfjsArtifacts(await tf.io.http(url).load())` works as is.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config.js';
import { createModel, type IqaModel } from '../model.js';
import type { ParamStore } from '../params.js';
import { parseModelConfig } from './config-json.js';
import type { LoadReport } from './load.js';
import { formatLoadReport, isCompleteLoad } from './load.js';

export const TFJS_FORMAT = 'iqa-bench-hypernet';
export const TFJS_SHARD_NAME = 'group1-shard1of1.bin';

export interface TfjsModelJSON {
  format: typeof TFJS_FORMAT;
  generatedBy: string;
  convertedBy: null;
  weightsManifest: tf.io.WeightsManifestConfig;
  userDefinedMetadata: { iqaBench: { config: ModelConfig; layout: 'tfjs' } };
}

/** Encodes a model's weights (stored layouts, PyTorch names, state-dict order) as model.json + one shard. */
export async function encodeTfjsModel(
  store: ParamStore,
  config: ModelConfig,
  generatedBy = '@iqa-bench/model',
): Promise<{ modelJSON: TfjsModelJSON; weightData: ArrayBuffer }> {
  const named = store.list().map((e) => ({ name: e.name, tensor: e.variable as tf.Tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  return {
    modelJSON: {
      format: TFJS_FORMAT,
      generatedBy,
      convertedBy: null,
      weightsManifest: [{ paths: [TFJS_SHARD_NAME], weights: specs }],
      userDefinedMetadata: { iqaBench: { config: parseModelConfig(config), layout: 'tfjs' } },
    },
    weightData: data,
  };
}

function bytesOf(spec: tf.io.WeightsManifestEntry, source: string): number {
  if (spec.quantization) throw new Error(`${source}: quantized weight '${spec.name}' is not supported`);
  if (spec.dtype !== 'float32' && spec.dtype !== 'int32')
    throw new Error(`${source}: weight '${spec.name}' has dtype ${spec.dtype}, expected float32 or int32`);
  if (!Array.isArray(spec.shape) || spec.shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw new Error(`${source}: weight '${spec.name}' has an invalid shape`);
  return spec.shape.reduce((a, b) => a * b, 1) * 4;
}

/** The ModelConfig of a model.json written by encodeTfjsModel (validated). */
export function tfjsModelConfig(
  modelJSON: { format?: string; userDefinedMetadata?: unknown },
  source = 'model.json',
): ModelConfig {
  if (modelJSON.format !== TFJS_FORMAT)
    throw new Error(`${source}: format is ${JSON.stringify(modelJSON.format)}, expected '${TFJS_FORMAT}'`);
  const meta = modelJSON.userDefinedMetadata as
    { iqaBench?: { config?: unknown; layout?: unknown } } | undefined;
  if (meta?.iqaBench?.layout !== 'tfjs')
    throw new Error(`${source}: userDefinedMetadata.iqaBench.layout must be 'tfjs'`);
  return parseModelConfig(meta.iqaBench.config, `${source} (userDefinedMetadata.iqaBench.config)`);
}

/** Decodes loaded artifacts (e.g. from `tf.io.http(url).load()`): the config and the named weights (caller disposes). */
export function decodeTfjsArtifacts(
  artifacts: tf.io.ModelArtifacts,
  source = 'model.json',
): { config: ModelConfig; weights: tf.NamedTensorMap } {
  const config = tfjsModelConfig(artifacts, source);
  const specs = artifacts.weightSpecs;
  const data = artifacts.weightData;
  if (!specs || !data) throw new Error(`${source}: no weights (weightsManifest or weight data missing)`);
  const buffers = Array.isArray(data) ? data : [data];
  const total = buffers.reduce((s, b) => s + b.byteLength, 0);
  const need = specs.reduce((s, spec) => s + bytesOf(spec, source), 0);
  if (total !== need)
    throw new Error(`${source}: the weight data has ${total} bytes, the manifest describes ${need}`);
  const names = new Set<string>();
  for (const s of specs) {
    if (typeof s.name !== 'string' || ['__proto__', 'constructor', 'prototype'].includes(s.name))
      throw new Error(`${source}: invalid weight name ${JSON.stringify(s.name)}`);
    if (names.has(s.name)) throw new Error(`${source}: weight '${s.name}' is listed twice`);
    names.add(s.name);
  }
  return { config, weights: tf.io.decodeWeights(data, specs) };
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
    throw new Error(`${source}: the weights do not match the model:\n${formatLoadReport(report)}`);
  for (const name of report.loaded) store.get(name).assign(weights[name]);
  return report;
}

/**
 * Builds the model of loaded artifacts (e.g. `await tf.io.http(url).load()` in a browser) and assigns its weights,
 * strictly: a missing, unexpected or mis-shaped weight throws, naming it. The decoded tensors are disposed.
 */
export function modelFromTfjsArtifacts(
  artifacts: tf.io.ModelArtifacts,
  source = 'model.json',
): { model: IqaModel; config: ModelConfig; report: LoadReport } {
  const { config, weights } = decodeTfjsArtifacts(artifacts, source);
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
