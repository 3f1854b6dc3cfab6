import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, RESIZE_PRESETS, applyResize, toFloat32 } from '@iqa-bench/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../tools/testing/temp-dir.js';
import type { Scorer, ScoreProgress } from './index.js';
import { createScorer, ScorerError } from './index.js';
import { checkpoint, corrupt, fixtures, golden, jpg, png } from './__tests__/fixtures.js';

describe('createScorer on the tfjs runtime (micro SMART-IQA checkpoint, torch.save .pkl)', () => {
  let center: Scorer;
  let grid: Scorer;
  beforeAll(async () => {
    center = await createScorer({ checkpoint, backend: 'wasm' });
    grid = await createScorer({ checkpoint, backend: 'wasm', crops: 4, mode: 'grid' });
  });
  afterAll(async () => {
    await center?.close();
    await grid?.close();
  });

  it('scores a file as the PyTorch reference does (resize 512x384, ImageNet normalisation, crops, mean)', async () => {
    expect(center.runtime).toBe('tfjs');
    expect(center.backend?.name).toBe('wasm');
    expect(center.config.fusion).toBe('attention');
    expect(center.settings).toEqual({ preprocess: 'seed', crops: 1, mode: 'center', seed: 0, batchSize: 8 });
    expect(center.description).toBe(
      'torch-zip, architecture inferred from the tensors: smart-iqa, Swin (embed 2, depths 2-2-1-1, heads 1-1-2-2), 224x224 input, fusion attention',
    );
    for (const name of ['q90.jpg', 'rgb.png']) {
      const file = join(fixtures, name);
      for (const [scorer, mode] of [
        [center, 'center'],
        [grid, 'grid'],
      ] as const) {
        const want = golden.images[name][mode];
        const got = await scorer.score(file);
        expect(got.origins).toEqual(want.origins);
        expect(got.cropScores).toHaveLength(want.cropScores.length);
        got.cropScores.forEach((s, i) => expect(Math.abs(s - want.cropScores[i])).toBeLessThan(1e-5));
        expect(Math.abs(got.score - want.score)).toBeLessThan(1e-5);
        // The stage weights of attention fusion, per crop and their mean.
        expect(got.cropFusionWeights).toHaveLength(want.attention.length);
        got.cropFusionWeights?.forEach((row, i) =>
          row.forEach((w, j) => expect(Math.abs(w - want.attention[i][j])).toBeLessThan(1e-5)),
        );
        want.attention[0].forEach((_, j) => {
          const mean = want.attention.reduce((a, row) => a + row[j], 0) / want.attention.length;
          expect(Math.abs((got.fusionWeights as number[])[j] - mean)).toBeLessThan(1e-5);
        });
      }
    }
  });

  it('a path, its bytes (Buffer), the decoded RGB image and the normalised image give the same bytes', async () => {
    const fromPath = await grid.score(png);
    const fromBuffer = await grid.score(readFileSync(png));
    const rgb = await decodeImage(png);
    const fromRgb = await grid.score(rgb);
    const resized = applyResize(rgb, RESIZE_PRESETS.seed);
    const normalised = { width: resized.width, height: resized.height, data: toFloat32(resized, 'imagenet') };
    const fromNormalised = await grid.score(normalised);
    for (const s of [fromBuffer, fromRgb, fromNormalised]) expect(s).toEqual(fromPath);
    // One centre crop: only its 224x224 part of the resize is computed from a file, the same bytes as the whole.
    const centreOfPath = await center.score(png);
    expect(centreOfPath.origins).toEqual([[144, 80]]);
    expect(await center.score(normalised)).toEqual(centreOfPath);
    // The crops of one call: the grid scorer's, asked of the centre one.
    expect(await center.score(png, { crops: 4, mode: 'grid' })).toEqual(fromPath);
    await expect(center.score(png, { batchSize: 0 })).rejects.toThrow(
      'batchSize: expected an integer in [1, Infinity], got 0',
    );
    // A normalised image is taken as it is: the same pixels unresized score differently.
    const unresized = { width: rgb.width, height: rgb.height, data: toFloat32(rgb, 'imagenet') };
    await expect(grid.score(unresized)).rejects.toThrow(
      '<image>: image 29x17 is smaller than the 224x224 crop',
    );
    // Per-call resize: none leaves the 29x17 file too small, naming it.
    await expect(grid.score(png, { preprocess: 'none' })).rejects.toThrow(
      `${png}: image 29x17 is smaller than the 224x224 crop`,
    );
  });

  it('corrupt bytes and bad images are errors naming them', async () => {
    await expect(center.score(readFileSync(corrupt), { name: 'upload.jpg' })).rejects.toThrow(
      /^upload\.jpg: cannot decode the image/,
    );
    await expect(center.score(readFileSync(corrupt))).rejects.toThrow(/^<buffer>: cannot decode the image/);
    await expect(center.score({ width: 2, height: 2, data: new Uint8Array(5) })).rejects.toThrow(
      '<image>: data has 5 values, expected width·height·3 = 12 (RGB, row-major)',
    );
  });

  it('scoreFolder: every image in name order, a corrupt one as an error outcome, progress per file', async () => {
    const dir = tempDir('iqa-scorer-folder-');
    for (const f of [jpg, png, corrupt]) copyFileSync(f, join(dir, f.slice(fixtures.length + 1)));
    copyFileSync(png, join(dir, 'notes.txt')); // not an image extension: skipped
    const events: ScoreProgress[] = [];
    const outcomes = await grid.scoreFolder(dir, { onProgress: (p) => events.push(p) });
    expect(outcomes.map((o) => o.file)).toEqual(
      ['corrupt-dqt.jpg', 'q90.jpg', 'rgb.png'].map((n) => join(dir, n)),
    );
    // The decoder's own words, after the file's name (the CLI condenses libvips' repeated lines).
    expect(outcomes[0].error?.message).toMatch(
      new RegExp(`^${join(dir, 'corrupt-dqt.jpg')}: cannot decode the image \\(VipsJpeg: Corrupt JPEG data`),
    );
    expect(outcomes[1].score?.score).toBe((await grid.score(jpg)).score);
    expect(outcomes[2].score?.score).toBe((await grid.score(png)).score);
    expect(events.map((e) => [e.done, e.total, e.index, e.error !== undefined])).toEqual([
      [1, 3, 0, true],
      [2, 3, 1, false],
      [3, 3, 2, false],
    ]);
    const empty = tempDir('iqa-scorer-empty-');
    const err = await grid.scoreFolder(empty).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScorerError);
    expect((err as ScorerError).code).toBe('no-images');
    expect((err as Error).message).toBe(
      `${empty}: no images (.jpg, .jpeg, .png, .bmp, .tif, .tiff) in this folder`,
    );
    await expect(grid.scoreFolder(join(empty, 'nope'))).rejects.toThrow(
      `${join(empty, 'nope')}: no such folder`,
    );
  });

  it('scoreFiles: random crops keyed by seed and id; two worker threads give the same bytes as one', async () => {
    const files = [jpg, { path: png, id: 'photo-1' }, join(fixtures, 'missing.png'), corrupt, jpg];
    const opts = { checkpoint, backend: 'wasm' as const, crops: 3, mode: 'random' as const, seed: 7 };
    const one = await createScorer({ ...opts, workers: 1 });
    const two = await createScorer({ ...opts, workers: 2 });
    const logs: string[] = [];
    const three = await createScorer({ ...opts, seed: 8, workers: 2, onLog: (l) => logs.push(l) });
    try {
      const a = await one.scoreFiles(files);
      const b = await two.scoreFiles(files);
      expect(b).toEqual(a);
      expect(a.map((o) => o.error === undefined)).toEqual([true, true, false, false, true]);
      expect(a[2].error?.message).toMatch(
        new RegExp(`^${join(fixtures, 'missing.png')}: image file not found`),
      );
      // Decoded ahead of the model, one at a time: libvips' reason is kept (a concurrent decode could clear it).
      for (const o of [a[3], b[3]])
        expect(o.error?.message).toMatch(
          new RegExp(
            `^${corrupt}: cannot decode the image \\(VipsJpeg: Corrupt JPEG data: 69 extraneous bytes`,
          ),
        );
      // The same file and id: the same crops; another id or seed: others.
      expect(a[4]).toEqual(a[0]);
      expect(a[1].score?.origins).toEqual((await one.score(png, { id: 'photo-1' })).origins);
      expect(a[1].score?.origins).not.toEqual((await one.score(png)).origins);
      const c = await three.scoreFiles(files);
      expect(logs).toEqual(['scoring on 2 worker threads']);
      expect(c[0].score?.origins).not.toEqual(a[0].score?.origins);
    } finally {
      await Promise.all([one.close(), two.close(), three.close()]);
    }
  });

  it('bad options, a missing or unreadable checkpoint and a closed scorer are errors naming what is wrong', async () => {
    for (const [options, message] of [
      [{ crops: 0 }, 'crops: expected an integer in [1, Infinity], got 0'],
      [{ batchSize: 1.5 }, 'batchSize: expected an integer in [1, Infinity], got 1.5'],
      [{ workers: 65 }, 'workers: expected an integer in [1, 64], got 65'],
      [{ mode: 'diagonal' }, "mode: expected center, random, grid, got 'diagonal'"],
      [{ preprocess: 'huge' }, 'preprocess: expected seed, native, none or a resize spec, got "huge"'],
      [{ runtime: 'torch' }, "runtime: expected tfjs, onnx or auto, got 'torch'"],
    ] as const) {
      const err = await createScorer({ checkpoint, ...(options as object) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ScorerError);
      expect((err as Error).message).toBe(message);
    }
    await expect(createScorer({ checkpoint: join(fixtures, 'none.pkl') })).rejects.toThrow(
      `${join(fixtures, 'none.pkl')}: no such file`,
    );
    await expect(createScorer({ checkpoint: corrupt })).rejects.toThrow(corrupt);
    const dir = tempDir('iqa-scorer-onnx-');
    const fake = join(dir, 'model.onnx');
    mkdirSync(dir, { recursive: true });
    copyFileSync(checkpoint, fake);
    await expect(createScorer({ checkpoint: fake, runtime: 'tfjs' })).rejects.toThrow(
      `${fake}: an ONNX model runs on the onnx runtime, not tfjs`,
    );
    const s = await createScorer({ checkpoint, backend: 'wasm' });
    await s.close();
    await expect(s.score(jpg)).rejects.toThrow('the scorer is closed');
  });
});
