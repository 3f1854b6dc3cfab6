import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lcgValues, PARITY_MICRO, seedSequence, useBackend } from './__tests__/helpers.js';
import type { ModelConfig } from './config.js';
import { createModel, type IqaModel } from './model.js';
import { loadParityFixture, parityInput } from './parity.js';

// Gradient checks on a micro SMART-IQA (every path: shifted windows, merging, attention fusion, generators,
// TargetNet) in training mode, so dropout and drop path are active with fixed seeds.
let config: ModelConfig;
const labels = [0.3, 0.7];
const loss = (s: tf.Tensor1D): tf.Scalar => tf.mean(tf.square(tf.sub(s, tf.tensor1d(labels))));

function grads(
  model: IqaModel,
  blockMemory: 'none' | 'checkpoint' = 'none',
): { loss: number; grads: Map<string, Float32Array> } {
  const x = parityInput(2);
  const r = model.lossGradients(x, { training: true, seeds: seedSequence(500), blockMemory }, loss);
  x.dispose();
  const out = new Map<string, Float32Array>();
  for (const [k, g] of r.grads) {
    out.set(k, g.dataSync() as Float32Array);
    g.dispose();
  }
  return { loss: r.loss, grads: out };
}

beforeAll(async () => {
  await useBackend('wasm');
  config = loadParityFixture(PARITY_MICRO).index.models[0].config;
});
afterAll(() => useBackend('wasm'));

describe('loss gradients', () => {
  it('cover every trainable parameter, agree with the cpu backend and leak nothing', async () => {
    await useBackend('wasm');
    const m = createModel(config, { seed: 11 });
    const before = tf.memory().numTensors;
    const w = grads(m);
    expect(tf.memory().numTensors).toBe(before);
    expect([...w.grads.keys()]).toEqual(m.params.names());
    m.dispose();
    await useBackend('cpu');
    const mc = createModel(config, { seed: 11 });
    const c = grads(mc);
    mc.dispose();
    await useBackend('wasm');
    expect(Math.abs(w.loss - c.loss)).toBeLessThan(1e-6);
    // global scale: the largest gradient anywhere; each tensor within 1e-4 of it and within 1e-3 of its own scale
    let top = 0;
    for (const g of c.grads.values()) for (const v of g) top = Math.max(top, Math.abs(v));
    for (const [name, gc] of c.grads) {
      const gw = w.grads.get(name)!;
      let md = 0;
      let mc2 = 0;
      for (let i = 0; i < gc.length; i++) {
        md = Math.max(md, Math.abs(gw[i] - gc[i]));
        mc2 = Math.max(mc2, Math.abs(gc[i]));
      }
      expect(md / top, name).toBeLessThan(1e-4);
      if (mc2 > 1e-3 * top) expect(md / mc2, name).toBeLessThan(1e-3);
    }
  }, 120_000);

  it('are bit-identical with per-block activation checkpointing, which lowers peak memory', async () => {
    const m = createModel(config, { seed: 12 });
    const plain = grads(m, 'none');
    const before = tf.memory().numTensors;
    const ckpt = grads(m, 'checkpoint');
    expect(tf.memory().numTensors).toBe(before);
    expect(ckpt.loss).toBe(plain.loss);
    for (const [name, g] of plain.grads)
      expect(Array.from(ckpt.grads.get(name)!), name).toEqual(Array.from(g));
    const peak = async (mode: 'none' | 'checkpoint'): Promise<number> =>
      (await tf.profile(() => void grads(m, mode))).peakBytes;
    const pPlain = await peak('none');
    const pCkpt = await peak('checkpoint');
    expect(pCkpt).toBeLessThan(0.7 * pPlain);
    m.dispose();
  }, 60_000);

  it('match central finite differences along random directions', () => {
    const m = createModel(config, { seed: 13 });
    const x = parityInput(2);
    const g = grads(m).grads;
    const entries = m.params.list();
    const original = entries.map((e) => e.variable.clone());
    const evalLoss = (): number =>
      tf.tidy(
        () =>
          loss(
            m.forward(x, { training: true, seeds: seedSequence(500), blockMemory: 'none' }).score,
          ).dataSync()[0],
      );
    for (const trial of [1, 2]) {
      // direction d: random, scaled per tensor to its own spread so every tensor moves comparably
      const dirs = entries.map((e, i) => {
        const v = lcgValues(e.variable.size, 1000 * trial + i);
        return tf.tensor(v, e.variable.shape);
      });
      let analytic = 0;
      entries.forEach((e, i) => {
        const gv = g.get(e.name)!;
        const dv = dirs[i].dataSync();
        for (let k = 0; k < gv.length; k++) analytic += gv[k] * dv[k];
      });
      const eps = 2e-3;
      const at = (t: number): number => {
        entries.forEach((e, i) => e.variable.assign(tf.tidy(() => tf.add(original[i], tf.mul(dirs[i], t)))));
        return evalLoss();
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      entries.forEach((e, i) => e.variable.assign(original[i]));
      expect(Math.abs(numeric - analytic) / Math.abs(analytic), `trial ${trial}`).toBeLessThan(2e-2);
      tf.dispose(dirs);
    }
    tf.dispose(original);
    x.dispose();
    m.dispose();
  }, 60_000);

  it('uses only plain 2-D products in the backbone and head (wasm fast path)', () => {
    const m = createModel(config, { seed: 14 });
    const engine = tf.engine();
    const orig = engine.runKernel.bind(engine);
    const slow: string[] = [];
    engine.runKernel = ((name: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap) => {
      if (name === 'BatchMatMul' || name === '_FusedMatMul') {
        const a = inputs.a as tf.Tensor;
        const b = inputs.b as tf.Tensor;
        const batched = (a.rank === 3 && a.shape[0] > 1) || (b.rank === 3 && b.shape[0] > 1);
        const transposed = attrs?.transposeA === true || attrs?.transposeB === true;
        // the TargetNet's per-image products [B, out, in] · [B, in, 1] are batched by design (tiny)
        const targetNet = b.rank === 3 && b.shape[2] === 1;
        if ((batched || transposed) && !targetNet)
          slow.push(`${name} ${a.shape}·${b.shape} ${JSON.stringify(attrs)}`);
      }
      return orig(name, inputs, attrs);
    }) as typeof engine.runKernel;
    try {
      grads(m);
    } finally {
      engine.runKernel = orig;
      m.dispose();
    }
    expect(slow).toEqual([]);
  }, 60_000);
});
