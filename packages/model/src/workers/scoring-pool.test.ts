import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lcgValues } from '../__tests__/helpers.js';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../backend.js';
import { loadCheckpoint } from '../checkpoint.js';
import { createModel, type IqaModel } from '../model.js';
import { scoreImage, type NormalizedImage } from '../score.js';
import { ScoringPool } from './scoring-pool.js';

function image(width: number, height: number, seed: number): NormalizedImage {
  return { width, height, data: lcgValues(width * height * 3, seed) };
}

// Different sizes, so that crops and costs differ between images.
const images = [
  image(240, 230, 1),
  image(224, 224, 2),
  image(260, 236, 3),
  image(230, 250, 4),
  image(232, 226, 5),
];
const options = { crops: 2, mode: 'random' as const, seed: 11 };

let model: IqaModel;
let reference: number[][];

beforeAll(async () => {
  await selectBackend('wasm');
  model = createModel('smart-iqa-micro', { seed: 5 });
  reference = [];
  for (const im of images) reference.push((await scoreImage(model, im, options)).cropScores);
});

afterAll(() => model.dispose());

// Worker start-up (a tfjs + wasm instance per thread) takes seconds on a loaded machine.
describe('ScoringPool (worker_threads, one wasm backend each)', { timeout: 60_000 }, () => {
  it('2 workers give the same bytes as a sequential scoreImage loop, in input order', async () => {
    const pool = await ScoringPool.create({ model: { config: 'smart-iqa-micro', seed: 5 }, workers: 2 });
    try {
      expect(pool.size).toBe(2);
      expect(pool.backends.map((b) => [b.name, b.threads])).toEqual([
        ['wasm', 1],
        ['wasm', 1],
      ]);
      const seen: number[] = [];
      const got = await pool.scoreImages(images, { options, onResult: (i) => seen.push(i) });
      expect(got.map((g) => g.cropScores)).toEqual(reference);
      expect(got.map((g) => g.score)).toEqual(reference.map((p) => (p[0] + p[1]) / 2));
      expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
      // The workers stay leak-free across calls and per-image options override the call's.
      const again = await pool.scoreImages([{ image: images[0], options: { crops: 1, mode: 'center' } }], {
        options,
      });
      expect(again[0].cropScores).toEqual((await scoreImage(model, images[0])).cropScores);
    } finally {
      await pool.close();
    }
  });

  it('fromModel copies the current weights; one worker gives the same bytes too; async generator input', async () => {
    // Perturb a weight so that a re-initialised model would differ.
    const w = model.params.get('conv1.0.weight');
    const saved = w.clone();
    w.assign(tf.tidy(() => tf.mul(w, 1.5)));
    const expected: number[][] = [];
    for (const im of images.slice(0, 3)) expected.push((await scoreImage(model, im, options)).cropScores);
    const pool = await ScoringPool.fromModel(model, { workers: 1 });
    try {
      async function* gen(): AsyncGenerator<NormalizedImage> {
        for (const im of images.slice(0, 3)) yield im;
      }
      const got = await pool.scoreImages(gen(), { options });
      expect(got.map((g) => g.cropScores)).toEqual(expected);
      expect(got.every((g) => g.worker === 0)).toBe(true);
    } finally {
      await pool.close();
      w.assign(saved);
      saved.dispose();
    }
  });

  it('checkpoint source: each worker reads a HyperIQA (ResNet) checkpoint; scores equal the main thread', async () => {
    const file = fileURLToPath(new URL('../../fixtures/parity/micro/hyperiqa-micro.pkl', import.meta.url));
    const { model: local } = await loadCheckpoint(file);
    const expected: number[][] = [];
    for (const im of images.slice(0, 2)) expected.push((await scoreImage(local, im, options)).cropScores);
    local.dispose();
    const pool = await ScoringPool.create({ model: { checkpoint: file }, workers: 2 });
    try {
      expect(pool.config.arch).toBe('hyperiqa');
      const got = await pool.scoreImages(images.slice(0, 2), { options });
      expect(got.map((g) => g.cropScores)).toEqual(expected);
    } finally {
      await pool.close();
    }
  });

  it('a failing image rejects with its index and name; bad options are refused', async () => {
    await expect(
      ScoringPool.create({ model: { config: 'smart-iqa-micro', seed: 1 }, workers: 0 }),
    ).rejects.toThrow(/workers must be an integer in \[1, 64\], got 0/);
    await expect(
      ScoringPool.create({ model: { config: 'no-such-preset' as 'smart-iqa-micro', seed: 1 }, workers: 1 }),
    ).rejects.toThrow(/could not build the model: createModel: unknown preset 'no-such-preset'/);
    const pool = await ScoringPool.create({ model: { config: 'smart-iqa-micro', seed: 1 }, workers: 2 });
    try {
      const items = [
        { image: images[0] },
        { image: image(100, 100, 9), name: 'tiny.png' },
        { image: images[1] },
      ];
      await expect(pool.scoreImages(items)).rejects.toThrow(
        /image #1 \(tiny\.png\): image 100x100 is smaller than/,
      );
    } finally {
      await pool.close();
    }
    await expect(pool.scoreImages(images)).rejects.toThrow(/the pool is closed/);
  });
});
