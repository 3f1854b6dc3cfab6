import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../config.js';
import { PRESET_NAMES, presetConfig } from '../presets.js';
import { fixture } from './__tests__/fixtures.js';
import { checkModelConfig, configFromMetadata, configMetadata, parseModelConfig } from './config-json.js';
import { ModelFileError } from './errors.js';

const micro = (): ModelConfig => presetConfig('smart-iqa-micro');
const withBackbone = (patch: Record<string, unknown>): unknown => ({
  ...micro(),
  backbone: { ...micro().backbone, ...patch },
});

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): ModelFileError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ModelFileError);
    return err as ModelFileError;
  }
  throw new Error('expected an error');
}

describe('model config schema', () => {
  const fixtures = [
    'hypernet-swin-attention.pkl',
    'hypernet-swin-concat.pkl',
    'hypernet-swin-single.pkl',
    'hypernet-resnet.legacy.pkl',
  ];
  it.each([...PRESET_NAMES])('admits preset %s, and checkModelConfig passes it', (name) => {
    expect(parseModelConfig(presetConfig(name))).toEqual(presetConfig(name));
    expect(checkModelConfig(presetConfig(name), name)).toEqual(presetConfig(name));
  });

  it.each(fixtures)('admits the micro test config of %s', (name) => {
    const config = JSON.parse(readFileSync(fixture(`${name}.config.json`), 'utf8')) as unknown;
    expect(checkModelConfig(config, name)).toEqual(config);
  });

  // Each of these reached the builders before: tfjs allocation RangeErrors (windowSize / embedDim 4096) or a heap
  // exhausted by 100000 blocks (SIGABRT).
  it.each([
    [
      'backbone.depths[0]',
      withBackbone({ depths: [100000, 2, 2, 2] }),
      'Too big: expected number to be <=64, got 100000',
    ],
    [
      'backbone.windowSize',
      withBackbone({ windowSize: 4096 }),
      'Too big: expected number to be <=64, got 4096',
    ],
    [
      'backbone.embedDim',
      withBackbone({ embedDim: 4096 }),
      'Too big: expected number to be <=1024, got 4096',
    ],
    [
      'backbone.numHeads[3]',
      withBackbone({ numHeads: [1, 2, 4, 0] }),
      'Too small: expected number to be >=1, got 0',
    ],
    ['backbone.mlpRatio', withBackbone({ mlpRatio: -1 }), 'Too small: expected number to be >0, got -1'],
    [
      'backbone.patchSize',
      withBackbone({ patchSize: 2.5 }),
      'Invalid input: expected int, received number, got 2.5',
    ],
    [
      'backbone.imgSize',
      withBackbone({ imgSize: '224' }),
      'Invalid input: expected number, received string, got "224"',
    ],
    [
      'backbone.depths',
      withBackbone({ depths: [2, 2, 2] }),
      'Too small: expected array to have >=4 items, got [2,2,2]',
    ],
    ['backbone.extra', withBackbone({ extra: 1 }), 'Unrecognized key: "extra"'],
    [
      'backbone.kind',
      { ...micro(), backbone: { kind: 'vit' } },
      "Invalid discriminator value. Expected 'swin' | 'resnet'",
    ],
    [
      'backbone.kind',
      { ...micro(), arch: 'hyperiqa' },
      "expected 'resnet' for arch 'hyperiqa', got \"swin\"",
    ],
    [
      'head.targetFc[1]',
      { ...micro(), head: { ...micro().head, targetFc: [14, 1e9, 7, 7] } },
      'Too big: expected number to be <=4096, got 1000000000',
    ],
    ['dropoutRate', { ...micro(), dropoutRate: 1 }, 'Too big: expected number to be <1, got 1'],
    [
      'fusion',
      { ...micro(), fusion: 'sum' },
      'Invalid option: expected one of "single"|"concat"|"attention", got "sum"',
    ],
    ['(root)', null, 'Invalid input: expected object, received null, got null'],
  ])("refuses field '%s' out of its bounds, naming the file and the field", (field, value, detail) => {
    const t0 = performance.now();
    const err = thrown(() => parseModelConfig(value, 'cfg.json'));
    expect(performance.now() - t0).toBeLessThan(100);
    expect(err.message).toBe(`cfg.json: model config field '${field}': ${detail}`);
    expect(err).toMatchObject({ file: 'cfg.json', field });
  });

  it('prefixes the field with where the config sits in the file', () => {
    const err = thrown(() =>
      parseModelConfig(
        withBackbone({ windowSize: 4096 }),
        'model.json',
        'userDefinedMetadata.iqaBench.config',
      ),
    );
    expect(err.field).toBe('userDefinedMetadata.iqaBench.config.backbone.windowSize');
  });
});

describe('checkModelConfig: cross-field rules and cost, before anything is built', () => {
  it('refuses what the builders would refuse, naming the file', () => {
    expect(thrown(() => checkModelConfig(withBackbone({ numHeads: [3, 2, 4, 8] }), 'a.json')).message).toBe(
      'a.json: model config: Swin config: stage 0: dim 16 is not divisible by 3 heads',
    );
    expect(
      thrown(() =>
        checkModelConfig({ ...micro(), head: { ...micro().head, targetFc: [13, 14, 7, 7] } }, 'b.json'),
      ).message,
    ).toBe(
      'b.json: model config: head: TargetNet layer 1 (28 -> 13) has 364 weights, not a multiple of head.featureSize^2 = 49',
    );
    expect(
      thrown(() => checkModelConfig({ ...micro(), head: { ...micro().head, ldaOut: 10 } }, 'c.json')).message,
    ).toBe('c.json: model config: head.targetInSize 28 must exceed 3 * head.ldaOut = 30');
  });

  it('refuses a config within every field bound whose model is too large, naming the limit and how to raise it', () => {
    // Window 56 on the 56 x 56 stage-0 map: one window of 3136 tokens, a relative-position one-hot of 111^2 x 3136^2.
    const wide = withBackbone({ windowSize: 56 });
    const t0 = performance.now();
    const err = thrown(() => checkModelConfig(wide, 'wide.safetensors'));
    expect(performance.now() - t0).toBeLessThan(100);
    expect(err).toMatchObject({ file: 'wide.safetensors', field: 'model config', limit: 'maxModelBytes' });
    expect(err.message).toMatch(
      /^wide\.safetensors: model config: the model would need about \d+\.\d GiB .* over the limit maxModelBytes = 4\.0 GiB; if the file is trusted, raise the limit \(option limits\.maxModelBytes\)$/,
    );
    // Swin with embedDim 1024 (stage 3: 8192 channels): 2.3e9 parameters.
    expect(
      thrown(() => checkModelConfig(withBackbone({ embedDim: 1024, numHeads: [8, 16, 32, 64] }), 'big.json')),
    ).toMatchObject({
      limit: 'maxParams',
    });
    // The limits are the caller's: a smaller one refuses the micro model, a larger one admits what the default refuses.
    expect(thrown(() => checkModelConfig(micro(), 'm.json', { maxModelBytes: 2 ** 20 })).limit).toBe(
      'maxModelBytes',
    );
    const big = withBackbone({ embedDim: 1024, numHeads: [8, 16, 32, 64] });
    expect(checkModelConfig(big, 'big.json', { maxParams: 3e9, maxModelBytes: 2 ** 40 })).toEqual(big);
  });
});

describe('config in safetensors metadata', () => {
  it('round-trips and refuses broken JSON and out-of-bound fields naming the key', () => {
    expect(configFromMetadata(configMetadata(micro()), 'm.safetensors')).toEqual(micro());
    expect(configFromMetadata({}, 'm.safetensors')).toBeNull();
    expect(thrown(() => configFromMetadata({ iqa_bench_config: '{' }, 'm.safetensors')).message).toMatch(
      /^m\.safetensors: metadata 'iqa_bench_config': not valid JSON: /,
    );
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(thrown(() => configFromMetadata({ iqa_bench_config: deep }, 'm.safetensors')).message).toBe(
      "m.safetensors: metadata 'iqa_bench_config': not valid JSON: nested more than 64 levels deep",
    );
    const bomb = JSON.stringify(withBackbone({ depths: [100000, 2, 2, 2] }));
    expect(thrown(() => configFromMetadata({ iqa_bench_config: bomb }, 'm.safetensors')).message).toBe(
      "m.safetensors (metadata 'iqa_bench_config'): model config field 'backbone.depths[0]': Too big: expected number to be <=64, got 100000",
    );
  });
});
