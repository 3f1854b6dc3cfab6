/**
 * Checkpoints as whole models: read any supported weights file (safetensors, torch.save zip or legacy, with or without
 * a checkpoint wrapper), find its architecture (the config stored in our safetensors metadata, else inferred from keys
 * and shapes), build the model and load the weights; write safetensors with the config in its metadata; export and
 * import the TensorFlow.js weights format; start training from ImageNet backbone weights (timm Swin, torchvision ResNet).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendPreference, BackendSelection } from './backend.js';
import { selectBackend } from './backend.js';
import type { ModelConfig } from './config.js';
import type { ModelCostLimits } from './config-cost.js';
import type { IqaModel } from './model.js';
import { createModel } from './model.js';
import type { ParamStore } from './params.js';
import {
  checkModelConfig,
  CONFIG_METADATA_KEY,
  configFromMetadata,
  configMetadata,
} from './weights/config-json.js';
import { writeFileAtomic } from '@iqa-bench/core/fs';
import { fileError, withFileErrorsAsync } from './weights/errors.js';
import type { InferOptions } from './weights/infer.js';
import { inferConfig } from './weights/infer.js';
import type { LoadReport } from './weights/load.js';
import { exportStateDict, loadStateDict } from './weights/load.js';
import type { PretrainedKind } from './weights/pretrained.js';
import { detectPretrained, loadPretrainedBackbone } from './weights/pretrained.js';
import type { WeightsFormat } from './weights/read.js';
import { readWeights } from './weights/read.js';
import type { ReadLimits } from './weights/torch-pickle.js';
import { writeSafetensors } from './weights/safetensors.js';
import { readTfjsFolder } from './weights/tfjs-folder.js';
import type { EncodeTfjsOptions } from './weights/tfjs-format.js';
import { encodeTfjsModel, modelFromTfjsArtifacts } from './weights/tfjs-format.js';

export interface LoadCheckpointOptions {
  /** Every model tensor must be in the file with the right shape, and nothing else (default true). */
  strict?: boolean;
  /** Select this backend before building the model (default: keep the active one). */
  backend?: BackendPreference;
  /** Use this architecture instead of the file's metadata or inference. */
  config?: ModelConfig;
  /** Rates that weights do not store (for inferred configs; see inferConfig). */
  rates?: Pick<InferOptions, 'dropPathRate' | 'dropoutRate' | 'attentionDropout'>;
  /** Initialisation seed of the entries a non-strict load leaves untouched (default 0; strict loads skip the draw). */
  seed?: number;
  /** Size bounds for the file (ReadLimits) and for the model built from it (ModelCostLimits). */
  limits?: Partial<ReadLimits & ModelCostLimits>;
}

export interface LoadedCheckpoint {
  model: IqaModel;
  config: ModelConfig;
  /** Where the config came from. */
  configSource: 'given' | 'metadata' | 'inferred';
  report: LoadReport;
  format: WeightsFormat | 'tfjs';
  /** Checkpoint-dict key the weights were under ('model_hyper', ...), or null. */
  wrapper: string | null;
  /** The backend selection, when `backend` was given. */
  backend: BackendSelection | null;
}

/**
 * Reads a checkpoint, builds its model and loads the weights. Strict by default: a missing, unexpected or mis-shaped
 * tensor is an error naming all of them (and no model is returned). The file is never executed, and the config
 * (given, stored or inferred) passes checkModelConfig (schema, cross-field rules, cost within `limits`) before the
 * model is built.
 */
export async function loadCheckpoint(
  path: string,
  opts: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const backend = opts.backend ? await selectBackend(opts.backend) : null;
  // Whatever goes wrong with the file, the error is a ModelFileError naming it.
  return withFileErrorsAsync(path, () => readCheckpointModel(path, opts, backend));
}

async function readCheckpointModel(
  path: string,
  opts: LoadCheckpointOptions,
  backend: BackendSelection | null,
): Promise<LoadedCheckpoint> {
  const file = await readWeights(path, opts.limits);
  const pretrained = detectPretrained(file.stateDict);
  if (pretrained) {
    throw fileError(
      path,
      null,
      `this is a ${pretrained} ImageNet backbone, not a HyperNet checkpoint; ` +
        'build a model with createModel() and call loadBackboneWeights(model, path)',
    );
  }
  let config: ModelConfig;
  let configSource: LoadedCheckpoint['configSource'];
  const fromMeta = configFromMetadata(file.metadata, path);
  if (opts.config) {
    config = checkModelConfig(opts.config, 'loadCheckpoint options.config', opts.limits);
    configSource = 'given';
  } else if (fromMeta) {
    config = checkModelConfig(fromMeta, `${path} (metadata '${CONFIG_METADATA_KEY}')`, opts.limits);
    configSource = 'metadata';
  } else {
    const inferred = inferConfig(file.stateDict, { ...opts.rates, source: path });
    config = checkModelConfig(inferred, `${path} (inferred architecture)`, opts.limits);
    configSource = 'inferred';
  }
  const strict = opts.strict ?? true;
  // A strict load overwrites every tensor: skip drawing random initial values.
  const model = createModel(config, { seed: opts.seed ?? 0, randomInit: !strict });
  try {
    const report = loadStateDict(model.params, file.stateDict, { strict, source: path });
    return { model, config, configSource, report, format: file.format, wrapper: file.wrapper, backend };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** Writes a model's weights (PyTorch names and layouts, float32) with its config in the metadata, atomically. */
export async function saveSafetensors(path: string, store: ParamStore, config: ModelConfig): Promise<void> {
  await writeSafetensors(path, exportStateDict(store), configMetadata(config));
}

/**
 * Loads ImageNet backbone weights (timm Swin or torchvision ResNet state dict, .pth or .safetensors) into a model's
 * backbone; the head keeps its initialisation. The starting point for training.
 */
export async function loadBackboneWeights(
  model: IqaModel,
  path: string,
  opts: { limits?: Partial<ReadLimits> } = {},
): Promise<LoadReport & { kind: PretrainedKind; dropped: string[] }> {
  const file = await readWeights(path, opts.limits);
  return loadPretrainedBackbone(model.params, file.stateDict, path);
}

/**
 * Writes `<dir>/model.json` and the weight shards `<dir>/group1-shard<i>of<n>.bin` of at most 4 MiB each
 * (`opts.shardBytes`), as tfjs' converter does; each file atomic, model.json last. Returns the paths written and the
 * bytes of weight data (`shard` is the first shard, for callers of the one-shard format).
 */
export async function saveTfjsModel(
  dir: string,
  store: ParamStore,
  config: ModelConfig,
  opts: EncodeTfjsOptions = {},
): Promise<{ modelJson: string; shards: string[]; shard: string; bytes: number }> {
  const { modelJSON, weightData, shards } = await encodeTfjsModel(store, config, undefined, opts);
  await mkdir(dir, { recursive: true });
  const paths = modelJSON.weightsManifest[0].paths.map((p) => join(dir, p));
  for (const [i, data] of shards.entries()) await writeFileAtomic(paths[i], [new Uint8Array(data)]);
  const modelJson = join(dir, 'model.json');
  await writeFileAtomic(modelJson, [new TextEncoder().encode(`${JSON.stringify(modelJSON, null, 1)}\n`)]);
  return { modelJson, shards: paths, shard: paths[0], bytes: weightData.byteLength };
}

/**
 * Reads a TensorFlow.js model written by saveTfjsModel (a folder or its model.json) and builds the model. model.json
 * and the shards are validated first (readTfjsFolder: schema, config cost within `limits`, shard paths and sizes).
 */
export async function loadTfjsModel(
  path: string,
  opts: { backend?: BackendPreference; maxBytes?: number; limits?: Partial<ModelCostLimits> } = {},
): Promise<LoadedCheckpoint> {
  const backend = opts.backend ? await selectBackend(opts.backend) : null;
  const { jsonPath, artifacts } = await readTfjsFolder(path, opts);
  const { model, config, report } = modelFromTfjsArtifacts(artifacts, jsonPath, { limits: opts.limits });
  return { model, config, configSource: 'metadata', report, format: 'tfjs', wrapper: null, backend };
}
