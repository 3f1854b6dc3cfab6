import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  configField,
  fromOriginalFlags,
  loadTrainConfig,
  parseTrainConfig,
  readTrainConfigFile,
} from './config.js';
import { tempDir } from '../../../tools/testing/temp-dir.js';

const minimal = { dataset: { kind: 'kadid10k', root: '/data/kadid' }, model: { preset: 'smart-iqa-tiny' } };

function problemsOf(input: unknown): string[] {
  try {
    parseTrainConfig(input, 'test');
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('parseTrainConfig', () => {
  it('fills the documented defaults', () => {
    const c = parseTrainConfig(minimal);
    expect(c.seed).toBe(42);
    expect(c.backend).toBe('wasm');
    expect(c.dataset).toEqual({
      kind: 'kadid10k',
      root: '/data/kadid',
      load: {},
      splitManifest: null,
      shippedSplit: null,
      split: { train: 0.7, val: 0.1 },
      selectOn: 'val',
      labels: 'normalized',
      preprocess: 'native',
    });
    expect(c.optimizer).toEqual({
      kind: 'adamw',
      lr: 1e-4,
      lrRatio: 10,
      weightDecay: 2e-4,
      betas: [0.9, 0.999],
      eps: 1e-8,
      clipGradNorm: 1,
      backbonePrefixes: ['swin.', 'res.'],
    });
    expect(c.schedule).toEqual({
      kind: 'cosine',
      tMax: null,
      etaMin: 0,
      etaMinMode: 'relative',
      warmupSteps: 0,
    });
    expect(c.loss.kind).toBe('l1');
    expect(c.training).toEqual({
      epochs: 10,
      batchSize: 32,
      rounds: 1,
      checkpointEverySteps: 0,
      smallLastBatch: 'merge',
    });
    expect(c.memory).toEqual({
      microBatchSize: 4,
      activationCheckpointing: false,
      evalBatchSize: 16,
      workers: 1,
    });
  });

  it('names every bad field and what was expected', () => {
    const p = problemsOf({
      ...minimal,
      seed: -1,
      optimizer: { lr: 'fast', betas: [0.9] },
      schedule: { kind: 'exponential' },
      training: { epochs: 0 },
      extra: true,
    });
    const text = p.join('\n');
    expect(text).toMatch(/^seed: .*>=0/m);
    expect(text).toMatch(/^optimizer\.lr: .*expected number, received string/m);
    expect(text).toMatch(/^optimizer\.betas(\[1\])?: /m);
    expect(text).toMatch(/^schedule\.kind: .*cosine.*step.*constant/m);
    expect(text).toMatch(/^training\.epochs: .*>0/m);
    expect(text).toMatch(/^\(root\): unknown field\(s\) 'extra'/m);
  });

  it('requires dataset and model, and checks cross-field constraints', () => {
    expect(problemsOf({}).join('\n')).toMatch(/dataset: .*expected object.*\n.*model: /);
    expect(
      problemsOf({ ...minimal, dataset: { ...minimal.dataset, split: { train: 0.8, val: 0.2 } } }),
    ).toEqual(['dataset.split: train + val must be < 1 to leave a test part (got 0.8 + 0.2)']);
    expect(problemsOf({ ...minimal, memory: { microBatchSize: 64 } })).toEqual([
      'memory.microBatchSize: must be <= training.batchSize (32), got 64',
    ]);
  });

  it('loads YAML and JSON files and names the file in errors', () => {
    const dir = tempDir('train-config-');
    const y = join(dir, 'run.yaml');
    writeFileSync(
      y,
      'seed: 7\ndataset:\n  kind: koniq10k\n  root: ./k\nmodel:\n  preset: smart-iqa-tiny\nloss:\n  kind: srcc\n',
    );
    const c = loadTrainConfig(y);
    expect(c.seed).toBe(7);
    expect(c.loss.kind).toBe('plcc');
    const j = join(dir, 'run.json');
    writeFileSync(j, JSON.stringify({ ...minimal, optimizer: { eps: 0 } }));
    expect(() => loadTrainConfig(j)).toThrow(`Invalid training config (${j}):\n  optimizer.eps: `);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"seed": ');
    expect(() => loadTrainConfig(bad)).toThrow(/bad\.json: not valid JSON/);
    expect(() => loadTrainConfig(join(dir, 'x.toml'))).toThrow(
      /x\.toml: expected a \.json, \.yaml or \.yml file/,
    );
    expect(() => loadTrainConfig(join(dir, 'none.yaml'))).toThrow(
      `${join(dir, 'none.yaml')}: config file not found`,
    );
    const list = join(dir, 'list.yaml');
    writeFileSync(list, '- seed: 1\n');
    expect(() => readTrainConfigFile(list, 'list.yaml')).toThrow(
      'list.yaml: expected a mapping of config sections, got a list',
    );
    const syntax = join(dir, 'syntax.yaml');
    writeFileSync(syntax, 'seed: 1\ndataset:\n  kind: [kadid10k\n');
    expect(() => readTrainConfigFile(syntax, 'syntax.yaml')).toThrow(
      /^syntax\.yaml:\d+:\d+: not valid YAML: /,
    );
  });

  it('refuses deeply nested YAML by file, line and column instead of overflowing the stack', () => {
    // A fuzzer found that 1,000 nested `[` gave a ConfigError reading "Maximum call stack size exceeded".
    const dir = tempDir('train-config-');
    const deep = join(dir, 'deep.yaml');
    writeFileSync(deep, `seed: ${'['.repeat(1000)}\n`);
    let err: unknown;
    try {
      loadTrainConfig(deep);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      /deep\.yaml:1:\d+: not valid YAML: nested more than 64 levels deep$/,
    );
    expect((err as ConfigError).problems).toHaveLength(1);
    const tags = join(dir, 'tags.yaml');
    writeFileSync(tags, 'seed: !!js/function "return 1"\n');
    expect(() => loadTrainConfig(tags)).toThrow(/tags\.yaml:1:\d+: not valid YAML: /);
  });
});

describe('configField', () => {
  it('reads choices, bounds and descriptions from the schema', () => {
    expect(configField('optimizer.lr')).toEqual({
      path: 'optimizer.lr',
      type: 'number',
      integer: false,
      min: { value: 0, inclusive: false },
      description: 'backbone learning rate',
    });
    expect(configField('memory.workers')).toMatchObject({
      type: 'number',
      integer: true,
      min: { value: 1, inclusive: true },
      max: { value: 16, inclusive: true },
    });
    expect(configField('seed')).toMatchObject({
      integer: true,
      max: { value: 2 ** 31 - 1, inclusive: true },
    });
    expect(configField('loss.kind')).toMatchObject({
      type: 'choice',
      choices: ['l1', 'l2', 'plcc', 'srcc', 'rank', 'fidelity', 'spearman'],
    });
    expect(configField('schedule.kind')).toEqual({
      path: 'schedule.kind',
      type: 'choice',
      choices: ['cosine', 'step', 'constant'],
      description: 'learning-rate schedule',
      discriminator: true,
    });
    expect(configField('earlyStopping.enabled').type).toBe('boolean');
    expect(configField('dataset.splitManifest')).toMatchObject({ type: 'string' });
    expect(() => configField('optimizer.momentum')).toThrow("no field 'optimizer.momentum'");
  });
});

describe('fromOriginalFlags', () => {
  it('train_smart_iqa.py defaults: what the code ran, quirks explicit', () => {
    const c = fromOriginalFlags({}, { root: '/data/koniq' });
    expect(c.dataset).toMatchObject({
      kind: 'koniq10k',
      selectOn: 'test',
      labels: 'native',
      preprocess: 'seed',
    });
    expect(c.model).toMatchObject({
      preset: 'smart-iqa-base',
      dropPathRate: 0.3,
      dropoutRate: 0.4,
      fusion: 'attention',
    });
    expect(c.optimizer).toMatchObject({
      kind: 'adamw',
      lr: 5e-7,
      lrRatio: 10,
      weightDecay: 2e-4,
      clipGradNorm: 1,
    });
    expect(c.schedule).toMatchObject({ kind: 'cosine', etaMin: 1e-6, etaMinMode: 'absolute' });
    expect(c.patches).toEqual({ train: 20, test: 20, size: 224 });
    expect(c.augmentation).toEqual({ hflip: true, testCrop: 'random', colorJitter: false });
    expect(c.earlyStopping).toMatchObject({ enabled: true, patience: 5, metric: 'srcc' });
    expect(c.training).toMatchObject({ epochs: 10, batchSize: 32, rounds: 10 });
    expect(c.loss).toMatchObject({ kind: 'l1', alpha: 0, margin: 0.1 });
  });

  it('maps the canonical E6 command and the loss names', () => {
    const c = fromOriginalFlags(
      {
        dataset: 'koniq-10k',
        model_size: 'tiny',
        patience: 3,
        train_test_num: 1,
        drop_path_rate: 0.2,
        dropout_rate: 0.3,
        loss_type: 'srcc',
      },
      { root: '/k', seed: 3 },
    );
    expect(c.seed).toBe(3);
    expect(c.model.preset).toBe('smart-iqa-tiny');
    expect(c.loss.kind).toBe('plcc');
    expect(fromOriginalFlags({ loss_type: 'pairwise' }, { root: '/k' }).loss.kind).toBe('fidelity');
    expect(fromOriginalFlags({ lr_scheduler: 'none' }, { root: '/k' }).schedule.kind).toBe('constant');
    expect(fromOriginalFlags({ use_lr_scheduler: false }, { root: '/k' }).schedule.kind).toBe('constant');
    expect(fromOriginalFlags({ lr_scheduler: 'step' }, { root: '/k' }).schedule).toMatchObject({
      kind: 'step',
      groups: 'head',
    });
  });

  it('train_hyperiqa.py defaults: Adam with L2, no clipping, step schedule on both groups, center test crops', () => {
    const c = fromOriginalFlags({}, { root: '/l', script: 'hyperiqa' });
    expect(c.dataset.kind).toBe('livec');
    expect(c.model.preset).toBe('hyperiqa-resnet50');
    expect(c.optimizer).toMatchObject({
      kind: 'adam',
      lr: 2e-5,
      weightDecay: 5e-4,
      clipGradNorm: null,
      backbonePrefixes: ['res.'],
    });
    expect(c.schedule).toMatchObject({ kind: 'step', stepSize: 6, gamma: 0.1, groups: 'all' });
    expect(c.training).toMatchObject({ epochs: 16, batchSize: 96 });
    expect(c.patches.train).toBe(25);
    expect(c.augmentation.testCrop).toBe('center');
  });

  it('rejects what the original would not accept', () => {
    expect(() => fromOriginalFlags({ lr_ratio: 2.5 }, { root: '/k' })).toThrow(
      /flags\.lr_ratio: the original parses it as int/,
    );
    expect(() => fromOriginalFlags({ dataset: 'spaq' }, { root: '/k' })).toThrow(
      /flags\.dataset: expected one of/,
    );
  });
});
