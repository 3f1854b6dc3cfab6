import { generateSynthetic } from '@iqa-bench/data';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseTrainConfig } from './config.js';
import { datasetRounds } from './data.js';
import { tempDir } from '../../../tools/testing/temp-dir.js';

describe('datasetRounds', () => {
  it('names a part too small to measure (here: 2 references leave the test part empty)', async () => {
    const root = tempDir('train-data-');
    await generateSynthetic({ layout: 'kadid10k', out: root, seed: 1, refs: 2, width: 32, height: 32 });
    const cfg = (split: { train: number; val: number }) =>
      parseTrainConfig({
        dataset: { kind: 'kadid10k', root, split, preprocess: 'none' },
        model: { preset: 'smart-iqa-micro' },
        patches: { size: 32 },
      });
    const rounds = await datasetRounds(cfg({ train: 0.6, val: 0.2 }));
    const err = await rounds(0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'dataset.split: part "test" of the kadid10k split got 0 images in 0 reference groups, too few to measure (train: 50 images in 2 reference groups, test: 0 images in 0 reference groups); at least 2 images in every part (a correlation needs 2); reference groups are not split, and 2 groups cannot give every part that at train 80 % / test 20 %: use more data or other ratios',
    ]);
  });
});
