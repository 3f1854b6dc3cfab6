import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.js';
import type { ForwardContext } from './backbone.js';
import type { ResNetBackboneConfig } from './config.js';
import { ParamStore } from './params.js';
import { createResNetBackbone, resnetParamCount, resnetStageSizes } from './resnet/backbone.js';
import { loadStateDict } from './weights/load.js';
import { readSafetensors } from './weights/safetensors.js';
import { readWeights } from './weights/read.js';
import type { StateDict } from './weights/state-dict.js';

// Written by tools/reference/resnet.py (PyTorch 1.13): a baseWidth-8, layers [2,1,1,1] ResNet at 48x48, batch 2.
const FIXTURES = fileURLToPath(new URL('../fixtures/resnet/', import.meta.url));

let golden: StateDict;
let torchState: StateDict;
let cfg: ResNetBackboneConfig;

function g(name: string): Float32Array {
  const t = golden.get(name);
  if (!t) throw new Error(`golden tensor '${name}' missing`);
  return t.data as Float32Array;
}

function gTensor(name: string): tf.Tensor {
  const t = golden.get(name)!;
  return tf.tensor(t.data as Float32Array, t.shape);
}

/** max |a - b| / max |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let md = 0;
  let mr = 0;
  for (let i = 0; i < a.length; i++) {
    md = Math.max(md, Math.abs(a[i] - b[i]));
    mr = Math.max(mr, Math.abs(b[i]));
  }
  return md / mr;
}

function build(seed = 1): { store: ParamStore; backbone: ReturnType<typeof createResNetBackbone> } {
  const store = new ParamStore('res-test');
  const backbone = createResNetBackbone(store, cfg, 'res', { seed });
  return { store, backbone };
}

function loaded(): { store: ParamStore; backbone: ReturnType<typeof createResNetBackbone> } {
  const m = build();
  loadStateDict(m.store, torchState, { source: 'resnet-micro.pth' });
  return m;
}

/** Stage features as arrays (read outside tf.tidy). */
function features(backbone: ReturnType<typeof createResNetBackbone>, ctx: ForwardContext): Float32Array[] {
  const feats = tf.tidy(() => backbone.forward(gTensor('input') as tf.Tensor4D, ctx));
  const out = feats.map((f) => f.dataSync() as Float32Array);
  tf.dispose(feats);
  return out;
}

beforeAll(async () => {
  await selectBackend('wasm');
  const gold = await readSafetensors(FIXTURES + 'resnet-micro-golden.safetensors');
  golden = gold.tensors;
  cfg = JSON.parse(gold.metadata.config) as ResNetBackboneConfig;
  torchState = (await readWeights(FIXTURES + 'resnet-micro.pth')).stateDict;
});

describe('ResNet backbone (torchvision v1.5 Bottleneck layout)', () => {
  it('registers exactly the PyTorch state-dict names in PyTorch order, with torch shapes after layout conversion', () => {
    const { store } = build();
    expect(store.names()).toEqual([...torchState.keys()]);
    expect(store.entry('res.bn1.num_batches_tracked').variable.dtype).toBe('int32');
    expect(store.entry('res.layer2.0.downsample.1.running_var').trainable).toBe(false);
    expect(store.count().trainable).toBe(resnetParamCount(cfg).trainable);
    expect(store.count().total).toBe(resnetParamCount(cfg).trainable + resnetParamCount(cfg).buffers);
    store.dispose();
  });

  it('ResNet-50 has the original 23,508,032 backbone parameters and 318 state-dict entries', () => {
    const r50: ResNetBackboneConfig = { kind: 'resnet', layers: [3, 4, 6, 3], baseWidth: 64, imgSize: 224 };
    expect(resnetParamCount(r50).trainable).toBe(23_508_032);
    expect(resnetStageSizes(224)).toEqual([56, 28, 14, 7]);
    // Registration only (no forward): shapes and names of the full model.
    const store = new ParamStore('r50');
    const backbone = createResNetBackbone(store, r50, 'res', { seed: 3, randomInit: false });
    expect(store.count().trainable).toBe(23_508_032);
    expect(store.names().length).toBe(318);
    expect(backbone.stageChannels).toEqual([256, 512, 1024, 2048]);
    store.dispose();
  });

  it('seeded init: same seed same bytes, conv std √(2/(k·k·out)), BN γ=1 β=0', () => {
    const a = build(7);
    const b = build(7);
    const c = build(8);
    const w = (m: typeof a, n: string): Float32Array => m.store.get(n).dataSync() as Float32Array;
    expect(w(a, 'res.layer1.0.conv2.weight')).toEqual(w(b, 'res.layer1.0.conv2.weight'));
    expect(w(a, 'res.layer1.0.conv2.weight')).not.toEqual(w(c, 'res.layer1.0.conv2.weight'));
    const big = w(a, 'res.layer4.0.conv2.weight'); // 3x3, 64 -> 64: std √(2/576)
    const mean = big.reduce((s, v) => s + v, 0) / big.length;
    const std = Math.sqrt(big.reduce((s, v) => s + (v - mean) ** 2, 0) / big.length);
    expect(Math.abs(std / Math.sqrt(2 / 576) - 1)).toBeLessThan(0.03);
    expect([...w(a, 'res.layer3.0.bn2.weight')].every((v) => v === 1)).toBe(true);
    expect([...w(a, 'res.layer3.0.bn2.bias')].every((v) => v === 0)).toBe(true);
    for (const m of [a, b, c]) m.store.dispose();
  });

  it('eval mode: the four stage maps match PyTorch within 1e-5 relative (folded BN and separate ops)', () => {
    const { store, backbone } = loaded();
    const f = features(backbone, { training: false });
    // Inference folds BN into the convs and caches the folded weights: memory is flat from the second call on.
    const before = tf.memory().numTensors;
    expect(resnetStageSizes(cfg.imgSize)).toEqual([12, 6, 3, 2]);
    for (let i = 0; i < 4; i++) expect(relErr(f[i], g(`eval.f${i + 1}`))).toBeLessThan(1e-5);
    // Per-block tidy (inference memory mode) gives the same bytes and keeps only the four stage maps alive.
    const t = features(backbone, { training: false, blockMemory: 'tidy' });
    for (let i = 0; i < 4; i++) expect(t[i]).toEqual(f[i]);
    expect(tf.memory().numTensors).toBe(before);
    // Under a gradient tape eval mode runs conv → BN → ReLU separately (differentiable): same values.
    const taped: Float32Array[] = [];
    tf.grad((xx: tf.Tensor) => {
      const fs = backbone.forward(xx as tf.Tensor4D, { training: false });
      fs.forEach((m) => taped.push(m.dataSync() as Float32Array));
      return tf.sum(fs[3]);
    })(gTensor('input')).dispose();
    for (let i = 0; i < 4; i++) expect(relErr(taped[i], g(`eval.f${i + 1}`))).toBeLessThan(1e-5);
    // Eval leaves the buffers alone.
    expect(store.get('res.layer1.0.bn1.num_batches_tracked').dataSync()[0]).toBe(3);
    // A changed statistic invalidates the folded weights.
    const rv = store.get('res.layer1.0.bn1.running_var');
    rv.assign(tf.tidy(() => tf.mul(rv, 4)));
    const changed = features(backbone, { training: false });
    expect(relErr(changed[0], f[0])).toBeGreaterThan(1e-3);
    const tapedChanged: Float32Array[] = [];
    tf.grad((xx: tf.Tensor) => {
      const fs = backbone.forward(xx as tf.Tensor4D, { training: false });
      tapedChanged.push(fs[0].dataSync() as Float32Array);
      return tf.sum(fs[0]);
    })(gTensor('input')).dispose();
    expect(relErr(changed[0], tapedChanged[0])).toBeLessThan(1e-6);
    backbone.dispose();
    store.dispose();
  });

  for (const blockMemory of ['none', 'checkpoint'] as const) {
    it(`train mode (blockMemory ${blockMemory}): batch-stat features, running-stat update and gradients match PyTorch`, () => {
      const { store, backbone } = loaded();
      const ctx: ForwardContext = { training: true, seeds: () => 1, blockMemory };
      const gradNames = [...golden.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5));
      const vars = gradNames.map((n) => store.get(n));
      const featsOut: tf.Tensor[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const feats = backbone.forward(gTensor('input') as tf.Tensor4D, ctx);
        feats.forEach((f) => featsOut.push(tf.keep(f)));
        return tf.addN(feats.map((f, i) => tf.mean(tf.mul(f, gTensor(`r${i + 1}`))))) as tf.Scalar;
      }, vars);
      expect(Math.abs(value.dataSync()[0] - g('train.loss')[0])).toBeLessThan(
        1e-5 * Math.abs(g('train.loss')[0]) + 1e-7,
      );
      featsOut.forEach((f, i) => expect(relErr(f.dataSync(), g(`train.f${i + 1}`))).toBeLessThan(1e-5));
      for (const n of gradNames) {
        const v = store.get(n);
        const gr = grads[v.name];
        // Conv weights are stored [kh,kw,in,out]; torch gives [out,in,kh,kw].
        const torchLayout = v.rank === 4 ? tf.tidy(() => tf.transpose(gr, [3, 2, 0, 1])) : gr.clone();
        expect(relErr(torchLayout.dataSync(), g(`grad.${n}`)), n).toBeLessThan(2e-5);
        torchLayout.dispose();
      }
      // Every BatchNorm updated its running statistics exactly once, as torch does (momentum 0.1, unbiased var).
      for (const name of store.names()) {
        if (!/running_(mean|var)$|num_batches_tracked$/.test(name)) continue;
        const got = Array.from(store.get(name).dataSync());
        expect(relErr(got, g(`after.${name}`)), name).toBeLessThan(1e-5);
      }
      tf.dispose([value, ...Object.values(grads), ...featsOut]);
      store.dispose();
    });
  }

  it('train mode with updateStats false: the same batch-stat features, every buffer left as it was', () => {
    const { store, backbone } = loaded();
    const buffers = store.names().filter((n) => /running_(mean|var)$|num_batches_tracked$/.test(n));
    const before = buffers.map((n) => Array.from(store.get(n).dataSync()));
    const feats = backbone.forward(gTensor('input') as tf.Tensor4D, {
      training: true,
      seeds: () => 1,
      updateStats: false,
    });
    feats.forEach((f, i) => expect(relErr(f.dataSync(), g(`train.f${i + 1}`))).toBeLessThan(1e-5));
    expect(buffers.map((n) => Array.from(store.get(n).dataSync()))).toEqual(before);
    // ...while the default updates them (the golden values after one torch training forward).
    tf.dispose(feats);
    tf.dispose(backbone.forward(gTensor('input') as tf.Tensor4D, { training: true, seeds: () => 1 }));
    const rm = 'res.layer2.0.bn2.running_mean';
    expect(relErr(Array.from(store.get(rm).dataSync()), g(`after.${rm}`))).toBeLessThan(1e-5);
    backbone.dispose();
    store.dispose();
  });

  it('rejects an input of the wrong shape and a bad config with clear messages', () => {
    const { store, backbone } = build();
    const x = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    expect(() => backbone.forward(x, { training: false })).toThrow(/expected input \[B,48,48,3\]/);
    x.dispose();
    expect(() =>
      createResNetBackbone(new ParamStore(), { ...cfg, layers: [1, 1, 0, 1] }, 'res', { seed: 1 }),
    ).toThrow(/layers\[2\] must be a positive integer/);
    store.dispose();
  });
});
