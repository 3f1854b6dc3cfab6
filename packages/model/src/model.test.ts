import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PARITY_MICRO, seedSequence, useBackend } from './__tests__/helpers.js';
import type { ModelConfig } from './config.js';
import { createModel } from './model.js';
import { loadParityFixture, parityInput } from './parity.js';
import { presetConfig } from './presets.js';

let micro: ModelConfig;

beforeAll(async () => {
  await useBackend('wasm');
  micro = loadParityFixture(PARITY_MICRO).index.models[0].config;
});

describe('presets', () => {
  it('smart-iqa-tiny has the original state-dict key order and 29,521,479 parameters', () => {
    const m = createModel('smart-iqa-tiny', { seed: 1, randomInit: false });
    try {
      const names = m.params.names();
      expect(names.length).toBe(210);
      expect(m.params.count().total).toBe(29_521_479);
      expect(names.slice(0, 6)).toEqual([
        'swin.backbone.patch_embed.proj.weight',
        'swin.backbone.patch_embed.proj.bias',
        'swin.backbone.patch_embed.norm.weight',
        'swin.backbone.patch_embed.norm.bias',
        'swin.backbone.layers_0.blocks.0.norm1.weight',
        'swin.backbone.layers_0.blocks.0.norm1.bias',
      ]);
      const block = names
        .filter((n) => n.startsWith('swin.backbone.layers_2.blocks.5.'))
        .map((n) => n.slice(32));
      expect(block).toEqual([
        'norm1.weight',
        'norm1.bias',
        'attn.relative_position_bias_table',
        'attn.qkv.weight',
        'attn.qkv.bias',
        'attn.proj.weight',
        'attn.proj.bias',
        'norm2.weight',
        'norm2.bias',
        'mlp.fc1.weight',
        'mlp.fc1.bias',
        'mlp.fc2.weight',
        'mlp.fc2.bias',
      ]);
      const ds = names.indexOf('swin.backbone.layers_1.downsample.norm.weight');
      expect(names.slice(ds, ds + 4)).toEqual([
        'swin.backbone.layers_1.downsample.norm.weight',
        'swin.backbone.layers_1.downsample.norm.bias',
        'swin.backbone.layers_1.downsample.reduction.weight',
        'swin.backbone.layers_1.blocks.0.norm1.weight',
      ]);
      expect(names.filter((n) => n.startsWith('swin.backbone.')).length).toBe(169);
      expect(names.slice(169)).toEqual([
        'swin.lda1_pool.0.weight',
        'swin.lda1_fc.weight',
        'swin.lda1_fc.bias',
        'swin.lda2_pool.0.weight',
        'swin.lda2_fc.weight',
        'swin.lda2_fc.bias',
        'swin.lda3_pool.0.weight',
        'swin.lda3_fc.weight',
        'swin.lda3_fc.bias',
        'swin.lda4_fc.weight',
        'swin.lda4_fc.bias',
        'multiscale_attention.attention_net.0.weight',
        'multiscale_attention.attention_net.0.bias',
        'multiscale_attention.attention_net.3.weight',
        'multiscale_attention.attention_net.3.bias',
        'conv1.0.weight',
        'conv1.0.bias',
        'conv1.2.weight',
        'conv1.2.bias',
        'conv1.4.weight',
        'conv1.4.bias',
        'fc1w_conv.weight',
        'fc1w_conv.bias',
        'fc1b_fc.weight',
        'fc1b_fc.bias',
        'fc2w_conv.weight',
        'fc2w_conv.bias',
        'fc2b_fc.weight',
        'fc2b_fc.bias',
        'fc3w_conv.weight',
        'fc3w_conv.bias',
        'fc3b_fc.weight',
        'fc3b_fc.bias',
        'fc4w_conv.weight',
        'fc4w_conv.bias',
        'fc4b_fc.weight',
        'fc4b_fc.bias',
        'fc5w_fc.weight',
        'fc5w_fc.bias',
        'fc5b_fc.weight',
        'fc5b_fc.bias',
      ]);
      // stored layouts: torch Linear [out,in] → [in,out]; Conv [out,in,kh,kw] → [kh,kw,in,out]; 1x1 conv → [in,out]
      expect(m.params.entry('fc1w_conv.weight').variable.shape).toEqual([3, 3, 112, 512]);
      expect(m.params.entry('conv1.0.weight').variable.shape).toEqual([1440, 512]);
      expect(m.params.entry('swin.lda4_fc.weight').variable.shape).toEqual([768, 176]);
      expect(
        m.params.entry('swin.backbone.layers_0.blocks.0.attn.relative_position_bias_table').variable.shape,
      ).toEqual([169, 3]);
    } finally {
      m.dispose();
    }
  });

  it('small and base match the original parameter counts (50,839,383 and 89,111,941)', () => {
    for (const [name, total, tensors] of [
      ['smart-iqa-small', 50_839_383, 366],
      ['smart-iqa-base', 89_111_941, 366],
    ] as const) {
      const m = createModel(name, { seed: 1, randomInit: false });
      expect(m.params.count().total).toBe(total);
      expect(m.params.names().length).toBe(tensors);
      m.dispose();
    }
  });

  it('hyperiqa-resnet50 has the original 27,375,369 trainable parameters (BN statistics are buffers)', () => {
    const m = createModel('hyperiqa-resnet50', { seed: 1, randomInit: false });
    expect(m.params.count().trainable).toBe(27_375_369);
    expect(m.params.names()[0]).toBe('res.conv1.weight');
    expect(m.params.names().filter((n) => n.startsWith('res.lda')).length).toBe(11);
    expect(m.params.entry('conv1.0.weight').variable.shape).toEqual([2048, 1024]);
    expect(Array.from(m.params.get('res.layer1.0.conv1.weight').dataSync().slice(0, 4))).toEqual([
      0, 0, 0, 0,
    ]);
    m.dispose();
  });

  it('fusion variants drop the attention MLP (single and concat) and change conv1 input width', () => {
    for (const [fusion, cin, n] of [
      ['single', 768, 206],
      ['concat', 1440, 206],
    ] as const) {
      const m = createModel({ ...presetConfig('smart-iqa-tiny'), fusion }, { seed: 1, randomInit: false });
      expect(m.params.names().length).toBe(n);
      expect(m.params.entry('conv1.0.weight').variable.shape).toEqual([cin, 512]);
      m.dispose();
    }
  });

  it('rejects bad configurations with a named field', () => {
    const bad = presetConfig('smart-iqa-micro');
    expect(() => createModel({ ...bad, dropoutRate: 1.5 }, { seed: 1 })).toThrow(/dropoutRate/);
    expect(() =>
      createModel({ ...bad, backbone: { ...micro.backbone, numHeads: [3, 2, 2, 4] } } as ModelConfig, {
        seed: 1,
      }),
    ).toThrow(/not divisible by 3 heads/);
    expect(() =>
      createModel({ ...bad, head: { ...bad.head, targetFc: [14, 15, 7, 7] } }, { seed: 1 }),
    ).toThrow(/multiple of 7²/);
  });
});

describe('initialisation', () => {
  it('is a pure function of the seed and follows the original per-layer init schemes', () => {
    const a = createModel('smart-iqa-micro', { seed: 7 });
    const b = createModel('smart-iqa-micro', { seed: 7 });
    const c = createModel('smart-iqa-micro', { seed: 8 });
    try {
      for (const name of a.params.names()) {
        expect(Array.from(a.params.get(name).dataSync()), name).toEqual(
          Array.from(b.params.get(name).dataSync()),
        );
      }
      expect(a.params.get('fc1w_conv.weight').dataSync()).not.toEqual(
        c.params.get('fc1w_conv.weight').dataSync(),
      );
      const std = (name: string): number => {
        const v = a.params.get(name).dataSync() as Float32Array;
        const mean = v.reduce((s, x) => s + x, 0) / v.length;
        return Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
      };
      // kaiming_normal_ fan_in: √(2 / (16·9)) for fc1w_conv (3x3 on 16 channels), √(2/256) for lda1_fc
      expect(std('fc1w_conv.weight')).toBeCloseTo(Math.sqrt(2 / 144), 2);
      expect(std('swin.lda1_fc.weight')).toBeCloseTo(Math.sqrt(2 / 256), 2);
      expect(std('multiscale_attention.attention_net.0.weight')).toBeCloseTo(0.01, 3);
      expect(
        Array.from(a.params.get('multiscale_attention.attention_net.0.bias').dataSync()).every(
          (x) => x === 0,
        ),
      ).toBe(true);
      expect(std('swin.backbone.layers_3.blocks.1.mlp.fc1.weight')).toBeCloseTo(0.02, 3);
      expect(
        Array.from(a.params.get('swin.backbone.layers_1.blocks.0.norm2.weight').dataSync()).every(
          (x) => x === 1,
        ),
      ).toBe(true);
      // conv1 keeps PyTorch's default U(±1/√fan_in)
      const w = a.params.get('conv1.2.weight').dataSync() as Float32Array;
      expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(32));
    } finally {
      [a, b, c].forEach((m) => m.dispose());
    }
  });
});

describe('forward', () => {
  it('is deterministic in eval, seeded in training, and checks its input', () => {
    const m = createModel(micro, { seed: 3 });
    const x = parityInput(2);
    try {
      const e1 = m.predict(x).dataSync();
      const e2 = m.predict(x).dataSync();
      expect(Array.from(e1)).toEqual(Array.from(e2));
      const t1 = m.forward(x, { training: true, seeds: seedSequence(100) });
      const t2 = m.forward(x, { training: true, seeds: seedSequence(100) });
      const t3 = m.forward(x, { training: true, seeds: seedSequence(200) });
      expect(Array.from(t1.score.dataSync())).toEqual(Array.from(t2.score.dataSync()));
      expect(Array.from(t1.score.dataSync())).not.toEqual(Array.from(t3.score.dataSync()));
      expect(Array.from(t1.score.dataSync())).not.toEqual(Array.from(e1));
      tf.dispose([t1.score, t1.attention!, t2.score, t2.attention!, t3.score, t3.attention!]);
      expect(() => m.forward(x, { training: true })).toThrow(/seeds/);
      expect(() => m.predict(tf.zeros([1, 112, 112, 3]))).toThrow(/\[B,224,224,3\]/);
      const seeds = () => 0;
      expect(() => m.forward(x, { training: true, seeds })).toThrow(/non-zero/);
    } finally {
      x.dispose();
      m.dispose();
    }
  });

  it('hyperNet() returns the generated TargetNet parameters of forward()', () => {
    const m = createModel(micro, { seed: 3 });
    const x = parityInput(1);
    const out = m.forward(x, { returnTarget: true });
    const hn = m.hyperNet(x);
    expect(hn.weights.map((w) => w.shape)).toEqual([
      [1, 14, 28],
      [1, 14, 14],
      [1, 7, 14],
      [1, 7, 7],
      [1, 1, 7],
    ]);
    for (let l = 0; l < 5; l++)
      expect(Array.from(hn.weights[l].dataSync())).toEqual(Array.from(out.target!.weights[l].dataSync()));
    tf.dispose([
      x,
      out.score,
      out.attention!,
      out.target!.input,
      ...out.target!.weights,
      ...out.target!.biases,
    ]);
    tf.dispose([hn.input, ...hn.weights, ...hn.biases]);
    m.dispose();
  });

  it('keeps tf.memory().numTensors flat over 200 predictions', () => {
    const m = createModel(micro, { seed: 3 });
    const x = parityInput(1);
    m.predict(x).dispose(); // first call fills the inference cache (q/k/v weights, attention biases)
    const before = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) m.predict(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    m.dispose();
  }, 60_000);

  it('dispose() frees every tensor the model made', () => {
    const before = tf.memory().numTensors;
    const m = createModel(micro, { seed: 3 });
    const x = parityInput(1);
    m.predict(x).dispose();
    x.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('chunked inference attention', () => {
  it('gives the same scores as one pass over the batch', () => {
    const x = parityInput(3);
    const whole = createModel(micro, { seed: 4, attentionChunkGroups: 1e9 });
    const chunked = createModel(micro, { seed: 4, attentionChunkGroups: 1 }); // one image per chunk
    const a = whole.predict(x);
    const b = chunked.predict(x);
    const d = Math.max(...Array.from(a.dataSync()).map((v, i) => Math.abs(v - b.dataSync()[i])));
    expect(d).toBeLessThan(1e-6);
    tf.dispose([x, a, b]);
    whole.dispose();
    chunked.dispose();
  });
});
