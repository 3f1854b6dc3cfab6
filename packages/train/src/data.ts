/**
 * Builds the trainer's image sets from a config through @iqa-bench/data: load the dataset, take the split (manifest,
 * shipped split, or a seeded random split redrawn every round), carve the validation part, and wrap one
 * PatchSampler per part. The split actually used is written as a manifest next to the round's results.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  DatasetError,
  loadDataset,
  partImages,
  PatchSampler,
  randomSplit,
  readSplitManifest,
  shippedSplit,
  withValidation,
  writeSplitManifest,
  type IqaDataset,
  type IqaImage,
  type Split,
} from '@iqa-bench/data';
import { ConfigError, type TrainConfig } from './config.js';
import type { ImageSet, PatchRef, TrainingData } from './trainer/types.js';

/**
 * The images of one part as the trainer takes them: seeded crops per the config (`test` mode: the configured test
 * crops, no augmentation), labels on the config's scale.
 */
export function imageSet(cfg: TrainConfig, images: readonly IqaImage[], mode: 'train' | 'test'): ImageSet {
  const label = cfg.dataset.labels === 'native' ? 'score' : 'normScore';
  const sampler = new PatchSampler({
    images,
    mode,
    patchesPerImage: mode === 'train' ? cfg.patches.train : cfg.patches.test,
    seed: cfg.seed,
    preset: cfg.dataset.preprocess,
    patchSize: cfg.patches.size,
    hflip: cfg.augmentation.hflip,
    colorJitter: cfg.augmentation.colorJitter,
    testCrop: cfg.augmentation.testCrop,
    label,
  });
  return {
    ids: images.map((im) => im.id),
    labels: images.map((im) => (label === 'score' ? im.score : im.normScore)),
    patchSize: cfg.patches.size,
    async patches(refs: readonly PatchRef[], epoch: number): Promise<Float32Array> {
      return (await sampler.assemble(refs, epoch)).data;
    },
  };
}

/** The split of `round` per the config (before the validation part is carved). */
async function baseSplit(cfg: TrainConfig, ds: IqaDataset, round: number): Promise<Split> {
  if (cfg.dataset.splitManifest !== null) return readSplitManifest(cfg.dataset.splitManifest, ds);
  if (cfg.dataset.shippedSplit !== null) return shippedSplit(ds, cfg.dataset.shippedSplit);
  const { train, val } = cfg.dataset.split;
  return randomSplit(ds, { seed: cfg.seed, round, ratios: { train: train + val, test: 1 - train - val } });
}

/**
 * The split functions refuse a part too small to measure (a DatasetError 'too-small' naming what every part got);
 * for a training config that is a problem of `dataset.split`, reported as a ConfigError.
 */
async function tooSmallAsConfigError(
  ds: IqaDataset,
  round: number,
  make: () => Promise<Split>,
): Promise<Split> {
  try {
    return await make();
  } catch (err) {
    if (!(err instanceof DatasetError) || err.code !== 'too-small') throw err;
    const problems = err.problems.map((p) => `dataset.split: ${p.message}; ${p.expected}`);
    throw new ConfigError(`${ds.key} round ${round}: ${problems.join('; ')}`, problems);
  }
}

/**
 * Loads the dataset once and returns a factory of each round's TrainingData (pass it as `train({ data })`).
 * `manifestDir(round)` (default: none) names a folder to write the round's split manifest into.
 */
export async function datasetRounds(
  cfg: TrainConfig,
  opts: { manifestDir?: (round: number) => string } = {},
): Promise<(round: number) => Promise<TrainingData>> {
  return roundsOf(cfg, await loadDataset(cfg.dataset.kind, cfg.dataset.root, cfg.dataset.load), opts);
}

/** datasetRounds on a dataset loaded already. */
export function roundsOf(
  cfg: TrainConfig,
  ds: IqaDataset,
  opts: { manifestDir?: (round: number) => string } = {},
): (round: number) => Promise<TrainingData> {
  return async (round: number) => {
    const { train, val } = cfg.dataset.split;
    const split = await tooSmallAsConfigError(ds, round, async () => {
      const base = await baseSplit(cfg, ds, round);
      return 'val' in base.parts
        ? base
        : withValidation(base, ds, {
            selection: cfg.dataset.selectOn === 'val' ? 'validation' : 'test',
            fraction: val > 0 ? val / (train + val) : 0.1,
            seed: cfg.seed,
          });
    });
    let manifest: string | null = null;
    if (opts.manifestDir) {
      const dir = opts.manifestDir(round);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'split.json');
      manifest = (await writeSplitManifest(file, split)).hash;
    }
    const part = (name: string) => partImages(ds, split, name);
    const selectTest = cfg.dataset.selectOn === 'test';
    // Correlations need two images: say which part is too small rather than fail later on a NaN metric.
    const needed: [string, string][] = selectTest
      ? [
          ['train', 'train'],
          ['test', 'test (selection)'],
        ]
      : [
          ['train', 'train'],
          ['val', 'validation'],
          ['test', 'test'],
        ];
    const small = needed
      .map(([name, label]) => [label, split.parts[name]?.length ?? 0] as const)
      .filter(([, count]) => count < 2)
      .map(([label, count]) => `the ${label} part has ${count} image(s), at least 2 are needed`);
    if (small.length > 0) {
      const problems = small.map(
        (m) =>
          `dataset.split: ${m} (${ds.images.length} images, ${cfg.dataset.splitManifest ?? 'seeded random split'}); use more references or change dataset.split`,
      );
      throw new ConfigError(`${ds.key} round ${round}: ${problems.join('; ')}`, problems);
    }
    return {
      train: imageSet(cfg, part('train'), 'train'),
      select: imageSet(cfg, part(selectTest ? 'test' : 'val'), 'test'),
      test: selectTest ? undefined : imageSet(cfg, part('test'), 'test'),
      description: {
        dataset: ds.key,
        root: ds.root,
        layout: ds.layout,
        split: {
          method: split.method,
          seed: split.seed,
          round: split.round,
          selection: split.selection,
          hash: manifest,
        },
        counts: Object.fromEntries(Object.entries(split.parts).map(([k, v]) => [k, v.length])),
        scale: ds.scale,
      },
    };
  };
}
