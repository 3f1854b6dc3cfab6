import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../config.js';
import { createModel } from '../model.js';
import { presetConfig } from '../presets.js';
import { fixture } from './__tests__/fixtures.js';
import type { ShapeMap } from './infer.js';
import { inferConfig } from './infer.js';
import { torchShape } from './load.js';
import { readWeights } from './read.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Names and PyTorch shapes of a freshly built model (what a checkpoint of it holds). */
function shapesOf(config: ModelConfig): ShapeMap {
  const m = createModel(config, { seed: 1 });
  try {
    return new Map(m.params.list().map((e) => [e.name, { shape: torchShape(e.layout, e.variable.shape) }]));
  } finally {
    m.dispose();
  }
}

describe('inferConfig', () => {
  // Small and Base differ from Tiny only in numbers the other cases cover; building them costs seconds.
  it.each(['smart-iqa-micro', 'smart-iqa-tiny', 'hyperiqa-resnet50'] as const)(
    'recovers preset %s (rates included) from its keys and shapes',
    (name) => {
      expect(inferConfig(shapesOf(presetConfig(name)))).toEqual(presetConfig(name));
    },
    30_000,
  );

  it.each([
    'hypernet-swin-attention.pkl',
    'hypernet-swin-concat.pkl',
    'hypernet-swin-single.pkl',
    'hypernet-resnet.legacy.pkl',
  ])('recovers the config of %s (a state dict written by PyTorch)', async (name) => {
    const expected = JSON.parse(readFileSync(fixture(`${name}.config.json`), 'utf8')) as ModelConfig;
    const { stateDict } = await readWeights(fixture(name));
    expect(inferConfig(stateDict)).toEqual(expected);
  });

  it('works for any embed dim, depths, heads, window, MLP ratio, input size and head sizes', () => {
    const micro = presetConfig('smart-iqa-micro');
    const odd: ModelConfig = {
      ...micro,
      backbone: {
        kind: 'swin',
        embedDim: 6,
        depths: [1, 3, 2, 1],
        numHeads: [2, 3, 4, 6],
        windowSize: 4,
        patchSize: 4,
        imgSize: 128,
        mlpRatio: 2,
      },
      fusion: 'concat',
      head: {
        ldaOut: 3,
        hyperInChannels: 5,
        targetInSize: 16,
        targetFc: [8, 6, 8, 4],
        featureSize: 4,
        conv1Hidden: [9, 7],
        attentionHidden: 256,
      },
      dropPathRate: 0,
      dropoutRate: 0,
    };
    expect(inferConfig(shapesOf(odd))).toEqual(odd);
    // user-given rates win over defaults
    const r = inferConfig(shapesOf(micro), { dropPathRate: 0.1, dropoutRate: 0.05, attentionDropout: 0.25 });
    expect([r.dropPathRate, r.dropoutRate, r.attentionDropout]).toEqual([0.1, 0.05, 0.25]);
  });

  it('explains what is missing or inconsistent', () => {
    const shapes = new Map(shapesOf(presetConfig('smart-iqa-micro')));
    expect(() => inferConfig(new Map(), { source: 'x.pkl' })).toThrow(
      /x\.pkl: cannot infer the architecture: neither 'swin\.backbone\.patch_embed\.proj\.weight' nor 'res\.conv1\.weight'/,
    );
    const noFc = new Map(shapes);
    noFc.delete('fc2b_fc.weight');
    expect(() => inferConfig(noFc)).toThrow(/missing 'fc2b_fc\.weight'/);
    const gap = new Map(shapes);
    for (const k of [...gap.keys()]) if (k.startsWith('swin.backbone.layers_1.blocks.0.')) gap.delete(k);
    expect(() => inferConfig(gap)).toThrow(
      /'swin\.backbone\.layers_1\.blocks\.\*' has indices 1, expected 0\.\.0/,
    );
    const badConv1 = new Map(shapes);
    badConv1.set('conv1.0.weight', { shape: [32, 100, 1, 1] });
    badConv1.delete('multiscale_attention.attention_net.0.weight');
    for (const k of [...badConv1.keys()]) if (k.includes('multiscale_attention')) badConv1.delete(k);
    expect(() => inferConfig(badConv1)).toThrow(
      /conv1\.0\.weight takes 100 channels: neither the last stage \(128\) nor all stages \(240\)/,
    );
  });
});
