/**
 * Parity against the independent PyTorch reference (tools/reference/): loads a fixture directory written by
 * tools/reference/make_fixtures.py, builds each model from its config, loads its torch.save checkpoint and compares the
 * eval-mode outputs with the goldens. Used by the tests (committed micro fixtures) and by
 * tools/reference/check-parity.mjs (full-size runs kept out of the repo).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config.js';
import { createModel, type IqaModel } from './model.js';
import { loadStateDict } from './weights/load.js';
import { readWeights } from './weights/read.js';

export interface GoldenRef {
  offset: number;
  shape: number[];
}

export interface ParityModelEntry {
  name: string;
  config: ModelConfig;
  checkpoint: string;
  scores: number[];
  attention: number[][] | null;
  tensors: Record<string, GoldenRef>;
}

export interface ParityIndex {
  torch: string;
  input: { batch: number; size: number };
  goldens: string;
  models: ParityModelEntry[];
}

export interface ParityFixture {
  dir: string;
  index: ParityIndex;
  goldens: Float32Array;
}

export function loadParityFixture(dir: string): ParityFixture {
  const index = JSON.parse(readFileSync(path.join(dir, 'fixture.json'), 'utf8')) as ParityIndex;
  const buf = readFileSync(path.join(dir, index.goldens));
  const goldens = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return { dir, index, goldens };
}

export function golden(fix: ParityFixture, ref: GoldenRef): Float32Array {
  const n = ref.shape.reduce((a, b) => a * b, 1);
  return fix.goldens.subarray(ref.offset, ref.offset + n);
}

/**
 * The reference's test input (tools/reference/smart_iqa.py `test_image`), NHWC:
 * x[b,y,x,c] = float32(sin(0.37y + 0.11x(c+1) + 1.3b) + 0.5cos(0.013xy + 0.7c + 0.2b)).
 */
export function parityInput(batch: number, size = 224): tf.Tensor4D {
  const v = new Float32Array(batch * size * size * 3);
  let i = 0;
  for (let b = 0; b < batch; b++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        for (let c = 0; c < 3; c++)
          v[i++] =
            Math.sin(0.37 * y + 0.11 * x * (c + 1) + 1.3 * b) +
            0.5 * Math.cos(0.013 * x * y + 0.7 * c + 0.2 * b);
  return tf.tensor4d(v, [batch, size, size, 3]);
}

/** max |a - b| / max |b| (the spread of the reference sets the scale). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relError: lengths ${a.length} and ${b.length} differ`);
  let md = 0;
  let mb = 0;
  for (let i = 0; i < a.length; i++) {
    md = Math.max(md, Math.abs(a[i] - b[i]));
    mb = Math.max(mb, Math.abs(b[i]));
  }
  return mb === 0 ? md : md / mb;
}

export function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsError: lengths ${a.length} and ${b.length} differ`);
  let md = 0;
  for (let i = 0; i < a.length; i++) md = Math.max(md, Math.abs(a[i] - b[i]));
  return md;
}

export interface ParityResult {
  name: string;
  /** max |score - reference| */
  scoreAbs: number;
  /** max |attention - reference| (null without attention fusion) */
  attentionAbs: number | null;
  /** Relative error (relError) per compared tensor: stage0..3, target_in_vec, target_fc{l}w / b. */
  rel: Record<string, number>;
  scores: number[];
}

/** Builds the fixture's model `entry`, loads its checkpoint (strict) and compares its eval outputs. */
export async function runParity(
  fix: ParityFixture,
  entry: ParityModelEntry,
  seed = 1,
): Promise<ParityResult> {
  const model: IqaModel = createModel(entry.config, { seed });
  try {
    const wf = await readWeights(path.join(fix.dir, entry.checkpoint));
    loadStateDict(model.params, wf.stateDict, { strict: true, source: entry.checkpoint });
    const x = parityInput(fix.index.input.batch, fix.index.input.size);
    const out = model.forward(x, { returnFeatures: true, returnTarget: true });
    x.dispose();
    const rel: Record<string, number> = {};
    const t = entry.tensors;
    const cmp = (name: string, ten: tf.Tensor): void => {
      if (t[name]) rel[name] = relError(ten.dataSync(), golden(fix, t[name]));
    };
    out.features?.forEach((f, i) => cmp(`stage${i}`, f));
    cmp('target_in_vec', out.target!.input);
    for (let l = 0; l < 5; l++) {
      cmp(`target_fc${l + 1}w`, out.target!.weights[l]);
      cmp(`target_fc${l + 1}b`, out.target!.biases[l]);
    }
    const scores = Array.from(out.score.dataSync());
    const scoreAbs = maxAbsError(scores, entry.scores);
    let attentionAbs: number | null = null;
    if (entry.attention) {
      if (!out.attention)
        throw new Error(`${entry.name}: the reference has attention weights, the model has none`);
      attentionAbs = maxAbsError(out.attention.dataSync(), entry.attention.flat());
    }
    tf.dispose([
      out.score,
      out.attention ?? [],
      ...(out.features ?? []),
      out.target!.input,
      ...out.target!.weights,
      ...out.target!.biases,
    ]);
    return { name: entry.name, scoreAbs, attentionAbs, rel, scores };
  } finally {
    model.dispose();
  }
}
