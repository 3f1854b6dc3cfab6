import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { IqaModel, ModelConfig, ModelCostLimits } from '@iqa-bench/model';
import type { ReadLimits } from '@iqa-bench/model/weights';

/** A checkpoint loaded as a TensorFlow.js model. */
export interface OpenedModel {
  model: IqaModel;
  config: ModelConfig;
  /** The file's format (`safetensors`, `torch-zip`, `torch-legacy`, `tfjs`, …). */
  format: string;
  /**
   * What the file is, in one line, without its name: `torch-zip (under 'model_hyper'), architecture inferred from the
   * tensors: smart-iqa, Swin (…), 224x224 input, fusion attention`.
   */
  description: string;
}

/** Whether a checkpoint is an ONNX model (by its name). */
export function isOnnxFile(path: string): boolean {
  return /\.onnx$/i.test(path);
}

/**
 * Loads a checkpoint as a TensorFlow.js model on the active backend: safetensors, a PyTorch torch.save file (zip or
 * legacy; read by an allow-list unpickler that never executes the file), or a TensorFlow.js model folder / model.json.
 * Strict: every tensor must match. Errors name the file.
 */
export async function openModel(
  path: string,
  options: { limits?: Partial<ReadLimits & ModelCostLimits> } = {},
): Promise<OpenedModel> {
  const m = await import('@iqa-bench/model');
  const limits = options.limits ?? {};
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new Error(`${path}: ${why}`, { cause: err });
  }
  if (!isDir && isOnnxFile(path))
    throw new Error(`${path}: an ONNX model runs on the onnx runtime, not tfjs`);
  const loaded =
    isDir || basename(path) === 'model.json'
      ? await m.loadTfjsModel(path, { limits })
      : await m.loadCheckpoint(path, { limits });
  const description = `${loaded.format}${loaded.wrapper ? ` (under '${loaded.wrapper}')` : ''}, architecture ${loaded.configSource === 'metadata' ? 'from the file' : 'inferred from the tensors'}: ${describeConfig(loaded.config)}`;
  return { model: loaded.model, config: loaded.config, format: loaded.format, description };
}

/** One line: backbone, size, fusion. */
export function describeConfig(c: ModelConfig): string {
  const b = c.backbone;
  const backbone =
    b.kind === 'swin'
      ? `Swin (embed ${b.embedDim}, depths ${b.depths.join('-')}, heads ${b.numHeads.join('-')})`
      : `ResNet (layers ${b.layers.join('-')}, width ${b.baseWidth})`;
  return `${c.arch}, ${backbone}, ${b.imgSize}x${b.imgSize} input, fusion ${c.fusion}`;
}
