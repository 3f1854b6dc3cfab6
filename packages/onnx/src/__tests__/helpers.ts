/** Shared test helpers: the TF.js backend, the reference's test image, onnxruntime sessions, model fixtures. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadCheckpoint, type IqaModel, type ModelConfig } from '@iqa-bench/model';
import * as ort from 'onnxruntime-node';
import { writeOnnx, type ExportOptions } from '../export.js';

export { normalizedImage } from './images.js';

/** The PyTorch reference's committed micro fixtures (tools/reference/make_fixtures.py). */
export const PARITY_MICRO = fileURLToPath(new URL('../../../model/fixtures/parity/micro/', import.meta.url));
/** Checkpoint fixtures of @iqa-bench/model (other depths and widths, with their configs). */
export const CHECKPOINTS = fileURLToPath(new URL('../../../model/fixtures/checkpoints/', import.meta.url));

export interface ReferenceModel {
  name: string;
  config: ModelConfig;
  checkpoint: string;
  scores: number[];
  attention: number[][] | null;
}

export function referenceIndex(): { input: { batch: number; size: number }; models: ReferenceModel[] } {
  return JSON.parse(readFileSync(`${PARITY_MICRO}fixture.json`, 'utf8')) as {
    input: { batch: number; size: number };
    models: ReferenceModel[];
  };
}

export async function useWasm(): Promise<void> {
  if (tf.getBackend() !== 'wasm') {
    await tf.setBackend('wasm');
    await tf.ready();
  }
}

/**
 * The reference's test image (tools/reference/smart_iqa.py `test_image`), NCHW and NHWC:
 * x[b,c,y,x] = float32(sin(0.37y + 0.11x(c+1) + 1.3b) + 0.5cos(0.013xy + 0.7c + 0.2b)).
 */
export function testImage(batch: number, size = 224): { nchw: Float32Array; nhwc: Float32Array } {
  const nchw = new Float32Array(batch * 3 * size * size);
  const nhwc = new Float32Array(batch * 3 * size * size);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const v =
            Math.sin(0.37 * y + 0.11 * x * (c + 1) + 1.3 * b) +
            0.5 * Math.cos(0.013 * x * y + 0.7 * c + 0.2 * b);
          nchw[((b * 3 + c) * size + y) * size + x] = v;
          nhwc[((b * size + y) * size + x) * 3 + c] = v;
        }
  return { nchw, nhwc };
}

/** Images of an ImageNet-normalised spread (a fixed LCG), NCHW and NHWC. */
export function randomImages(
  batch: number,
  seed: number,
  size = 224,
): { nchw: Float32Array; nhwc: Float32Array } {
  const nchw = new Float32Array(batch * 3 * size * size);
  let s = seed >>> 0;
  for (let i = 0; i < nchw.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    nchw[i] = (s / 2 ** 32 - 0.5) * 4;
  }
  const nhwc = new Float32Array(nchw.length);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < size * size; p++)
        nhwc[(b * size * size + p) * 3 + c] = nchw[(b * 3 + c) * size * size + p];
  return { nchw, nhwc };
}

export interface OnnxOutputs {
  score: Float32Array;
  fusionWeights: Float32Array | null;
}

export async function runOnnx(
  session: ort.InferenceSession,
  nchw: Float32Array,
  batch: number,
  size = 224,
): Promise<OnnxOutputs> {
  const out = await session.run({ image: new ort.Tensor('float32', nchw, [batch, 3, size, size]) });
  return {
    score: out.score.data as Float32Array,
    fusionWeights: out.fusion_weights ? (out.fusion_weights.data as Float32Array) : null,
  };
}

export function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths ${a.length} and ${b.length} differ`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** max - min: a comparison of near-constant scores would prove little. */
export function spread(a: ArrayLike<number>): number {
  return Math.max(...Array.from(a)) - Math.min(...Array.from(a));
}

/** An exported model written to a temporary folder; `remove` deletes the folder. */
export async function exportedFile(
  model: IqaModel,
  options: ExportOptions = {},
): Promise<{ file: string; dir: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'iqa-onnx-test-'));
  const file = join(dir, 'model.onnx');
  await writeOnnx(file, model, options);
  return { file, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A reference micro checkpoint (tools/reference/make_fixtures.py) by name, loaded with its config. */
export async function referenceModel(name: string): Promise<IqaModel> {
  const entry = referenceIndex().models.find((m) => m.name === name);
  if (!entry) throw new Error(`no reference model ${name}`);
  await useWasm();
  return (await loadCheckpoint(`${PARITY_MICRO}${entry.checkpoint}`, { config: entry.config })).model;
}
