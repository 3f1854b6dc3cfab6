import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '@iqa-bench/data';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseTrainConfig } from './config.js';
import { datasetRounds } from './data.js';

describe('datasetRounds', () => {
  it('names a part too small to measure (here: 2 references leave the test part empty)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'train-data-'));
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
      'dataset.split: the test part has 0 image(s), at least 2 are needed (50 images, seeded random split); use more references or change dataset.split',
    ]);
  });
});
