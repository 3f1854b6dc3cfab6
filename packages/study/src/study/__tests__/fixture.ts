/**
 * A tiny synthetic study for the tests: @iqa-bench/data's synthetic KADID-layout dataset (3 references), a split
 * manifest of 6 / 3 / 3 images, smart-iqa-micro trained 2 epochs, three variants (attention, concat and single
 * fusion) and two seeds. Each run takes a few seconds on wasm.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSynthetic, writeSplitManifest } from '@iqa-bench/data';
import { stringify } from 'yaml';

export const STUDY_YAML = (variants: Record<string, Record<string, unknown>>) => ({
  name: 'tiny',
  base: 'base.yaml',
  dataset: { kind: 'kadid10k', root: 'data' },
  split: { manifest: 'split-in.json' },
  seeds: [1, 2],
  variants,
  baseline: 'full',
});

export const TINY_VARIANTS = {
  full: {},
  concat: { 'model.fusion': 'concat' },
  single: { 'model.fusion': 'single' },
};

export const TINY_BASE = {
  backend: 'wasm',
  dataset: { kind: 'kadid10k', root: 'data', preprocess: 'none' },
  model: { preset: 'smart-iqa-micro' },
  optimizer: { lr: 1e-3, lrRatio: 10 },
  loss: { kind: 'l1' },
  patches: { train: 1, test: 2, size: 224 },
  memory: { microBatchSize: 3, evalBatchSize: 6 },
  training: { epochs: 2, batchSize: 3, checkpointEverySteps: 1 },
};

/** Writes the dataset, its split, the base config and the study file into `dir`; returns the study file's path. */
export async function writeTinyStudy(
  dir: string,
  variants: Record<string, Record<string, unknown>> = TINY_VARIANTS,
): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const root = join(dir, 'data');
  const syn = await generateSynthetic({
    layout: 'kadid10k',
    out: root,
    seed: 3,
    refs: 3,
    width: 232,
    height: 232,
  });
  const pick = (ref: number, n: number, skip = 0) =>
    syn.images
      .filter((i) => i.ref === ref)
      .map((i) => i.id)
      .sort()
      .filter((_, k) => k % 4 === 0)
      .slice(skip, skip + n);
  await writeSplitManifest(join(dir, 'split-in.json'), {
    dataset: 'kadid10k',
    method: 'custom',
    seed: null,
    round: null,
    ratios: null,
    selection: 'validation',
    parts: {
      train: [...pick(1, 3), ...pick(2, 3)].sort(),
      val: pick(3, 3).sort(),
      test: pick(3, 3, 3).sort(),
    },
  });
  writeFileSync(join(dir, 'base.yaml'), stringify(TINY_BASE));
  return writeStudy(dir, variants);
}

/** (Re)writes the study file of `dir` with `variants`. */
export function writeStudy(dir: string, variants: Record<string, Record<string, unknown>>): string {
  const file = join(dir, 'study.yaml');
  writeFileSync(file, stringify(STUDY_YAML(variants)));
  return file;
}
