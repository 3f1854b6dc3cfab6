/**
 * The built-in example study (`iqa-bench study run --example ablation`): the original SMART-IQA study's shape on
 * synthetic data and micro models — fusion ablations (attention vs concat vs single: A), a wider backbone (B) and a
 * learning-rate sweep (E) — with three seeds, a forward-ablation chain and a cross-dataset evaluation set, small
 * enough to finish in minutes on two cores.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StudyFileInput } from './file.js';

export const EXAMPLE_NAMES = ['ablation'] as const;
export type ExampleName = (typeof EXAMPLE_NAMES)[number];

/** The example's training config: smart-iqa-micro on 64-pixel crops, a few short epochs. */
export const ABLATION_BASE = {
  backend: 'wasm',
  dataset: { preprocess: 'none' },
  model: {
    preset: 'smart-iqa-micro',
    backbone: { windowSize: 2 },
    head: { targetInSize: 16, targetFc: [8, 8, 4, 4] },
  },
  optimizer: { kind: 'adamw', lr: 3e-3, lrRatio: 10, weightDecay: 1e-4, clipGradNorm: 1 },
  schedule: { kind: 'cosine', warmupSteps: 5 },
  loss: { kind: 'plcc' },
  patches: { train: 1, test: 2, size: 64 },
  augmentation: { testCrop: 'center' },
  earlyStopping: { enabled: false },
  memory: { microBatchSize: 8, evalBatchSize: 32 },
  training: { epochs: 6, batchSize: 8 },
} as const;

/** The example study file (paths relative to it). */
export const ABLATION_STUDY: StudyFileInput = {
  name: 'fusion-size-lr-ablation',
  base: ABLATION_BASE as unknown as Record<string, unknown>,
  dataset: { kind: 'kadid10k', root: 'data/train' },
  split: { train: 0.6, val: 0.2, seed: 1 },
  eval: [{ name: 'koniq-synth', kind: 'koniq10k', root: 'data/eval' }],
  seeds: [1, 2, 3],
  baseline: 'full',
  chain: ['A2-single', 'A1-concat', 'full'],
  variants: {
    full: {},
    'A1-concat': { 'model.fusion': 'concat' },
    'A2-single': { 'model.fusion': 'single' },
    'B1-wide': { 'model.backbone.embedDim': 24 },
    E: { 'optimizer.lr': [1e-3, 1e-2] },
  },
};

/**
 * Writes the example into `dir`: the synthetic datasets (`data/train` in the KADID-10k layout, `data/eval` in the
 * KonIQ-10k layout, new scenes) and `ablation.json`, the study file; returns its path. Existing data is reused.
 */
export async function writeExampleStudy(dir: string, name: ExampleName = 'ablation'): Promise<string> {
  if (!EXAMPLE_NAMES.includes(name))
    throw new Error(`unknown example '${String(name)}'; examples: ${EXAMPLE_NAMES.join(', ')}`);
  const { generateSynthetic } = await import('@iqa-bench/data');
  mkdirSync(join(dir, 'data'), { recursive: true });
  if (!existsSync(join(dir, 'data', 'train'))) {
    await generateSynthetic({
      layout: 'kadid10k',
      out: join(dir, 'data', 'train'),
      seed: 11,
      refs: 6,
      width: 80,
      height: 80,
    });
  }
  if (!existsSync(join(dir, 'data', 'eval'))) {
    await generateSynthetic({
      layout: 'koniq10k',
      out: join(dir, 'data', 'eval'),
      seed: 12,
      refs: 2,
      width: 80,
      height: 80,
    });
  }
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(ABLATION_STUDY, null, 2)}\n`);
  return file;
}
