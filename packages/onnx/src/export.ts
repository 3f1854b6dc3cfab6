/**
 * exportOnnx / writeOnnx: an @iqa-bench/model model (any preset or config it builds) as an ONNX ModelProto, built from
 * the model's config and its parameters by PyTorch name, in eval mode (dropout and drop path off, BatchNorm with its
 * running statistics folded into the convolutions).
 */
import { createRequire } from 'node:module';
import { FileError, writeFileAtomic } from '@iqa-bench/core/fs';
import type { IqaModel, ModelConfig } from '@iqa-bench/model';
import { validateModelConfig } from '@iqa-bench/model';
import { exportStateDict } from '@iqa-bench/model/weights';
import { GraphBuilder, type Dim } from './graph.js';
import { headGraph, type StageMaps } from './head.js';
import { ParamReader } from './params.js';
import { resnetGraph } from './resnet.js';
import { swinGraph } from './swin.js';
import {
  BATCH_DIM,
  EXPORTER_VERSION,
  INPUT_NAME,
  METADATA_KEYS,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  PRODUCER_NAME,
} from './contract.js';

export {
  BATCH_DIM,
  EXPORTER_VERSION,
  FUSION_WEIGHTS_OUTPUT,
  INPUT_NAME,
  METADATA_KEYS,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  PRODUCER_NAME,
  SCORE_OUTPUT,
} from './contract.js';

export const PRODUCER_VERSION: string = (
  createRequire(import.meta.url)('../package.json') as { version: string }
).version;

export interface ExportOptions {
  /** sha256 (64 hex digits) of the checkpoint the model was loaded from, stored in the metadata. */
  checkpointSha256?: string;
  /** Where the model came from (a checkpoint path or preset name), stored in the metadata and the doc string. */
  source?: string;
}

/** The one-line description of the input stored under `iqa-bench.input`. */
export function inputDescription(imgSize: number): string {
  return (
    `${INPUT_NAME}: float32 [${BATCH_DIM}, 3, ${imgSize}, ${imgSize}], NCHW, RGB crops normalised with the ImageNet ` +
    'mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225)'
  );
}

/** Throws a clear error for a config the exporter cannot write (fields named as in ModelConfig). */
function checkSupported(config: ModelConfig): void {
  const kind = (config.backbone as { kind?: unknown }).kind;
  if (kind !== 'swin' && kind !== 'resnet')
    throw new Error(
      `exportOnnx: backbone.kind '${String(kind)}' is not supported (expected 'swin' or 'resnet')`,
    );
  if (!['single', 'concat', 'attention'].includes(config.fusion))
    throw new Error(
      `exportOnnx: fusion '${String(config.fusion)}' is not supported (expected single, concat or attention)`,
    );
  validateModelConfig(config);
  const bb = config.backbone;
  const fs = config.head.featureSize;
  if (bb.kind === 'swin') {
    const base = bb.imgSize / bb.patchSize;
    for (let i = 0; i < 4; i++) {
      const side = base / 2 ** i;
      if (side % fs !== 0)
        throw new Error(`exportOnnx: head.featureSize ${fs} does not divide the stage ${i} map side ${side}`);
    }
    if (!Number.isInteger(bb.mlpRatio * bb.embedDim))
      throw new Error(`exportOnnx: backbone.mlpRatio ${bb.mlpRatio} gives a fractional MLP width`);
  }
}

/** The model as ONNX ModelProto bytes (opset 20, IR 9): input `image` NCHW, outputs `score` (and `fusion_weights`). */
export function exportOnnx(model: IqaModel, options: ExportOptions = {}): Uint8Array {
  const config = model.config;
  checkSupported(config);
  const sha = options.checkpointSha256;
  if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha))
    throw new Error(`exportOnnx: checkpointSha256 must be 64 lowercase hex digits, got '${sha}'`);
  const params = new ParamReader(exportStateDict(model.params));
  const g = new GraphBuilder(ONNX_OPSET);
  const image = g.fresh(INPUT_NAME);
  const bb = config.backbone;
  const stages: StageMaps =
    bb.kind === 'swin'
      ? { layout: 'tokens', maps: swinGraph(g, params, bb, 'swin.backbone', image) }
      : { layout: 'nchw', maps: resnetGraph(g, params, bb, 'res', image) };
  const out = headGraph(g, params, config, stages, bb.kind === 'swin' ? 'swin' : 'res');
  params.check(`exportOnnx${options.source ? ` (${options.source})` : ''}`);

  const metadata: Record<string, string> = {
    [METADATA_KEYS.modelConfig]: JSON.stringify(config),
    [METADATA_KEYS.input]: inputDescription(bb.imgSize),
    [METADATA_KEYS.exporter]: EXPORTER_VERSION,
  };
  if (sha !== undefined) metadata[METADATA_KEYS.checkpointSha256] = sha;
  if (options.source !== undefined) metadata[METADATA_KEYS.source] = options.source;
  const outputs: { name: string; dims: Dim[] }[] = [{ name: out.score, dims: [BATCH_DIM] }];
  if (out.fusionWeights) outputs.push({ name: out.fusionWeights, dims: [BATCH_DIM, 4] });
  return g.model({
    graphName: `${config.arch}-${bb.kind}-${config.fusion}`,
    inputs: [{ name: image, dims: [BATCH_DIM, 3, bb.imgSize, bb.imgSize] }],
    outputs,
    irVersion: ONNX_IR_VERSION,
    producerName: PRODUCER_NAME,
    producerVersion: PRODUCER_VERSION,
    docString:
      `${config.arch} (${bb.kind} backbone, ${config.fusion} fusion) exported by ${PRODUCER_NAME} ${PRODUCER_VERSION}` +
      (options.source ? ` from ${options.source}` : ''),
    metadata,
  });
}

/** exportOnnx, written to `path` atomically (a temporary file renamed over it: never a half-written model). */
export async function writeOnnx(path: string, model: IqaModel, options: ExportOptions = {}): Promise<number> {
  const bytes = exportOnnx(model, options);
  try {
    await writeFileAtomic(path, bytes);
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw new FileError(path, `not written: ${err instanceof Error ? err.message : String(err)}`, undefined, {
      cause: err,
    });
  }
  return bytes.byteLength;
}
