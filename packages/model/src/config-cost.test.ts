import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from './config.js';
import { costOverLimit, DEFAULT_MODEL_COST_LIMITS, estimateModelCost } from './config-cost.js';
import { createModel } from './model.js';
import { presetConfig } from './presets.js';
import { fixture } from './weights/__tests__/fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const fixtureConfig = (name: string): ModelConfig =>
  JSON.parse(readFileSync(fixture(`${name}.config.json`), 'utf8')) as ModelConfig;

const MICRO: [string, () => ModelConfig][] = [
  ['smart-iqa-micro', () => presetConfig('smart-iqa-micro')],
  ...[
    'hypernet-swin-attention.pkl',
    'hypernet-swin-concat.pkl',
    'hypernet-swin-single.pkl',
    'hypernet-resnet.legacy.pkl',
  ].map((n): [string, () => ModelConfig] => [n, () => fixtureConfig(n)]),
];

describe('estimateModelCost', () => {
  it.each([...MICRO, ['hyperiqa-resnet50', () => presetConfig('hyperiqa-resnet50')]] as const)(
    '%s: the parameter count equals the built ParamStore',
    (_, config) => {
      const model = createModel(config(), { seed: 0, randomInit: false });
      try {
        const cost = estimateModelCost(config());
        expect(cost.params).toBe(model.params.count().total);
        expect(cost.paramBytes).toBe(4 * cost.params);
        expect(cost.totalBytes).toBe(cost.paramBytes + cost.bufferBytes + cost.activationBytes);
      } finally {
        model.dispose();
      }
    },
  );

  it('knows the presets: parameter counts of Swin-T/S/B and ResNet-50 HyperNets', () => {
    // Counted by building each model (tfjs ParamStore.count().total); the Swin-T/ResNet-50 backbones alone are timm's
    // 27.5 M and torchvision's 23.5 M (+ BatchNorm buffers).
    expect(
      (['smart-iqa-tiny', 'smart-iqa-small', 'smart-iqa-base', 'hyperiqa-resnet50'] as const).map(
        (n) => estimateModelCost(presetConfig(n)).params,
      ),
    ).toEqual([29521479, 50839383, 89111941, 27428542]);
    const base = estimateModelCost(presetConfig('smart-iqa-base'));
    expect(base.totalBytes).toBeLessThan(DEFAULT_MODEL_COST_LIMITS.maxModelBytes / 4);
    expect(costOverLimit(base)).toBeNull();
  });

  it.each([MICRO[0], MICRO[4]])(
    '%s: the activation estimate bounds the peak tfjs measures in a batch-1 forward (cpu backend)',
    async (_, config) => {
      const baseline = tf.memory().numBytes;
      const model = createModel(config(), { seed: 1, randomInit: false });
      const x = tf.zeros([1, 224, 224, 3]) as tf.Tensor4D;
      try {
        // The first forward also fills the inference caches (bufferBytes); the second needs activations only.
        const first = await tf.profile(() => model.predict(x));
        const cached = tf.memory().numBytes;
        const second = await tf.profile(() => model.predict(x));
        tf.dispose([first.result, second.result]);
        const cost = estimateModelCost(config());
        // The estimate counts the input image, which exists before the forward.
        const activations = second.peakBytes - cached + x.size * 4;
        expect(activations).toBeGreaterThan(0.5 * cost.activationBytes);
        expect(activations).toBeLessThanOrEqual(cost.activationBytes);
        // Weights, kept buffers, caches, input and the first forward's activations: within the total estimate.
        expect(first.peakBytes - baseline).toBeLessThanOrEqual(cost.totalBytes);
      } finally {
        x.dispose();
        model.dispose();
      }
    },
    30_000,
  );

  it('names the limit that refuses a cost and how to raise it', () => {
    const cost = estimateModelCost(presetConfig('smart-iqa-micro'));
    expect(costOverLimit(cost, { maxParams: 1000 })).toEqual({
      limit: 'maxParams',
      message:
        'the model would have 5.975e+5 parameters, over the limit maxParams = 1.000e+3; if the file is trusted, raise ' +
        'the limit (option limits.maxParams)',
    });
    const over = costOverLimit(cost, { maxModelBytes: 2 ** 20 });
    expect(over?.limit).toBe('maxModelBytes');
    expect(over?.message).toMatch(
      /^the model would need about 21\.8 MiB \(weights 2\.3 MiB, kept buffers 10\.5 MiB, batch-1 activations 9\.0 MiB\), over the limit maxModelBytes = 1\.0 MiB; if the file is trusted, raise the limit \(option limits\.maxModelBytes\)$/,
    );
  });
});
