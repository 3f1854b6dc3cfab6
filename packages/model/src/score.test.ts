import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lcgValues, PARITY_MICRO, useBackend } from './__tests__/helpers.js';
import { createModel } from './model.js';
import { loadParityFixture } from './parity.js';
import { presetConfig } from './presets.js';
import { cropOrigins, extractCrops, scoreCropOrigins, scoreImage, type NormalizedImage } from './score.js';

beforeAll(() => useBackend('wasm'));

describe('cropOrigins', () => {
  it('center: torchvision CenterCrop (round half to even)', () => {
    expect(cropOrigins(384, 512, 224, 25, 'center')).toEqual([[80, 144]]);
    expect(cropOrigins(225, 227, 224, 1, 'center')).toEqual([[0, 2]]); // 0.5 → 0, 1.5 → 2
    expect(cropOrigins(224, 224, 224, 1, 'center')).toEqual([[0, 0]]);
  });

  it('random: seeded, reproducible, inside the image', () => {
    const a = cropOrigins(384, 512, 224, 20, 'random', 42);
    expect(cropOrigins(384, 512, 224, 20, 'random', 42)).toEqual(a);
    expect(cropOrigins(384, 512, 224, 20, 'random', 43)).not.toEqual(a);
    expect(a.length).toBe(20);
    for (const [y, x] of a) {
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(160);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(288);
    }
    expect(new Set(a.map(([y]) => y)).size).toBeGreaterThan(5);
    expect(() => cropOrigins(384, 512, 224, 2, 'random')).toThrow(/seed/);
  });

  it('grid: ceil(√K) rows spanning the image, row-major', () => {
    expect(cropOrigins(384, 512, 224, 4, 'grid')).toEqual([
      [0, 0],
      [0, 288],
      [160, 0],
      [160, 288],
    ]);
    const g = cropOrigins(384, 512, 224, 10, 'grid'); // 4 rows x 3 cols, first 10
    expect(g.length).toBe(10);
    expect(g[0]).toEqual([0, 0]);
    expect(g[2]).toEqual([0, 288]);
    expect(g[9]).toEqual([160, 0]);
    expect(() => cropOrigins(100, 512, 224, 1, 'grid')).toThrow(/smaller/);
  });
});

describe('scoreCropOrigins', () => {
  it('takes given origins (checked) over crops, mode and seed', () => {
    expect(scoreCropOrigins(384, 512, 224, { crops: 3, mode: 'random', seed: 1 })).toEqual(
      cropOrigins(384, 512, 224, 3, 'random', 1),
    );
    expect(scoreCropOrigins(384, 512, 224, { origins: [[160, 288]], mode: 'grid', crops: 9 })).toEqual([
      [160, 288],
    ]);
    expect(() => scoreCropOrigins(384, 512, 224, { origins: [[161, 0]] })).toThrow(
      'origins[0]: a 224x224 crop at [161,0] ([y, x]) must lie inside the 512x384 image',
    );
    expect(() => scoreCropOrigins(384, 512, 224, { origins: [[0, 1.5]] })).toThrow(/origins\[0\]/);
    expect(() => scoreCropOrigins(384, 512, 224, { origins: [] })).toThrow(/non-empty/);
  });
});

describe('scoreImage', () => {
  it('averages the crop scores, batched, equal to scoring the crops one by one', async () => {
    const config = loadParityFixture(PARITY_MICRO).index.models[0].config;
    const m = createModel(config, { seed: 5 });
    const img: NormalizedImage = { width: 300, height: 260, data: lcgValues(300 * 260 * 3, 77) };
    await scoreImage(m, img); // fills the model's inference cache
    const before = tf.memory().numTensors;
    const r = await scoreImage(m, img, { crops: 5, mode: 'random', seed: 9, batchSize: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.cropScores.length).toBe(5);
    expect(r.score).toBeCloseTo(r.cropScores.reduce((a, b) => a + b, 0) / 5, 6);
    for (let i = 0; i < 5; i++) {
      const x = tf.tensor4d(extractCrops(img, [r.origins[i]], 224), [1, 224, 224, 3]);
      const s = m.predict(x);
      expect(s.dataSync()[0]).toBeCloseTo(r.cropScores[i], 5);
      tf.dispose([x, s]);
    }
    // The same crops given as origins: the same scores, whatever crops/mode/seed say.
    const given = await scoreImage(m, img, { origins: r.origins, crops: 1, mode: 'center', batchSize: 2 });
    expect(given).toEqual(r);
    // crop pixels are the image's
    const crop = extractCrops(img, [[3, 5]], 224);
    expect(crop[0]).toBe(img.data[(3 * 300 + 5) * 3]);
    expect(crop[(10 * 224 + 7) * 3 + 2]).toBe(img.data[((3 + 10) * 300 + 5 + 7) * 3 + 2]);
    m.dispose();
  }, 60_000);

  it("attention: true returns each crop's fusion weights, those of its own forward pass", async () => {
    const m = createModel('smart-iqa-micro', { seed: 3 });
    const img: NormalizedImage = { width: 260, height: 240, data: lcgValues(260 * 240 * 3, 11) };
    await scoreImage(m, img, { attention: true }); // fills the model's inference cache
    const before = tf.memory().numTensors;
    const r = await scoreImage(m, img, { crops: 4, mode: 'grid', batchSize: 3, attention: true });
    expect(tf.memory().numTensors).toBe(before);
    const plain = await scoreImage(m, img, { crops: 4, mode: 'grid', batchSize: 3 });
    expect(plain.attention).toBeUndefined();
    expect(r.cropScores).toEqual(plain.cropScores); // asking for the weights leaves the scores alone
    expect(r.attention?.length).toBe(4);
    for (let i = 0; i < 4; i++) {
      const x = tf.tensor4d(extractCrops(img, [r.origins[i]], 224), [1, 224, 224, 3]);
      const out = m.forward(x);
      const a = Array.from(out.attention?.dataSync() ?? []);
      expect(a.length).toBe(4);
      r.attention?.[i].forEach((v, k) => expect(v).toBeCloseTo(a[k], 6));
      expect(r.attention?.[i].reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
      tf.dispose([x, out.score, out.attention as tf.Tensor]);
    }
    // Two crops of different content have different weights.
    expect(r.attention?.[0]).not.toEqual(r.attention?.[3]);
    m.dispose();
    const concat = createModel({ ...presetConfig('smart-iqa-micro'), fusion: 'concat' }, { seed: 3 });
    expect(
      (await scoreImage(concat, img, { crops: 2, mode: 'grid', attention: true })).attention,
    ).toBeUndefined();
    concat.dispose();
  }, 60_000);
});
