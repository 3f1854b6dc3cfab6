import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as onnxPackage from '@iqa-bench/onnx';
import { loadCheckpoint } from '@iqa-bench/model';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../tools/testing/temp-dir.js';
import { createScorer } from './index.js';
import { PREPARE_THREAD_MIN_IMAGES } from './scorer.js';
import type { OnnxModule } from './onnx.js';
import { loadOnnx } from './onnx.js';
import { checkpoint, corrupt, fixtures, golden, jpg, png } from './__tests__/fixtures.js';

// Compile-time: @iqa-bench/onnx gives what the onnx runtime uses of it (the scorer does not import its types).
const conforms: OnnxModule = onnxPackage;

describe('the onnx runtime when @iqa-bench/onnx is not there', () => {
  it('loadOnnx says what is missing (runtime onnx then fails with it; auto falls back to tfjs)', async () => {
    expect(typeof conforms.openOnnxScorer).toBe('function');
    expect(await loadOnnx('@iqa-bench/no-such-package')).toMatchObject({
      module: null,
      why: expect.stringMatching(/^@iqa-bench\/no-such-package is not installed \(/),
    });
    expect(await loadOnnx('@iqa-bench/model')).toEqual({
      module: null,
      why: 'this @iqa-bench/model has no onnxruntime scorer (openOnnxScorer)',
    });
  });
});

describe('createScorer on the onnx runtime', () => {
  it('a checkpoint is exported once into cacheDir and scores as the PyTorch reference and tfjs (1e-4)', async () => {
    const cacheDir = tempDir('iqa-scorer-cache-');
    const logs: string[] = [];
    const m = await createScorer({
      checkpoint,
      runtime: 'onnx',
      cacheDir,
      crops: 4,
      mode: 'grid',
      onLog: (l) => logs.push(l),
    });
    const t = await createScorer({ checkpoint, runtime: 'tfjs', backend: 'wasm', crops: 4, mode: 'grid' });
    try {
      expect(m.runtime).toBe('onnx');
      expect(m.onnxFile?.startsWith(cacheDir)).toBe(true);
      expect(m.executionProviders).toEqual(['cpu']);
      expect(m.config).toEqual(t.config);
      for (const name of ['q90.jpg', 'rgb.png']) {
        const [o, r] = [await m.score(join(fixtures, name)), await t.score(join(fixtures, name))];
        expect(o.origins).toEqual(r.origins);
        o.cropScores.forEach((s, i) => expect(Math.abs(s - r.cropScores[i])).toBeLessThan(1e-4));
        expect(Math.abs(o.score - golden.images[name].grid.score)).toBeLessThan(1e-4);
        // The stage weights of attention fusion: the mean over the crops of the reference's.
        const att = golden.images[name].grid.attention;
        const mean = att[0].map((_, j) => att.reduce((a, row) => a + row[j], 0) / att.length);
        o.fusionWeights?.forEach((w, j) => expect(Math.abs(w - mean[j])).toBeLessThan(1e-5));
        expect(o.fusionWeights).toHaveLength(4);
      }
      const again = await createScorer({
        checkpoint,
        runtime: 'onnx',
        cacheDir,
        onLog: (l) => logs.push(l),
      });
      expect(again.onnxFile).toBe(m.onnxFile);
      await again.close();
      expect(logs).toEqual([
        `exported the ONNX model ${m.onnxFile}`,
        `using the cached ONNX model ${m.onnxFile}`,
      ]);
    } finally {
      await Promise.all([m.close(), t.close()]);
    }
  });

  it('a .onnx checkpoint opens on onnx by default; scoreFiles batches crops across images with the same scores', async () => {
    const dir = tempDir('iqa-scorer-onnx-');
    const file = join(dir, 'micro.onnx');
    const { model } = await loadCheckpoint(checkpoint);
    await onnxPackage.writeOnnx(file, model, { source: 'micro-attention.pkl' });
    model.dispose();
    const logs: string[] = [];
    const m = await createScorer({
      checkpoint: file,
      crops: 3,
      mode: 'random',
      seed: 3,
      batchSize: 4,
      onLog: (l) => logs.push(l),
    });
    try {
      expect(m.runtime).toBe('onnx');
      expect(m.description).toMatch(/^onnx, architecture from the file: smart-iqa, Swin \(embed 2/);
      const files = [jpg, corrupt, png, jpg];
      const progress: number[] = [];
      const outcomes = await m.scoreFiles(files, { onProgress: (p) => progress.push(p.index) });
      expect(progress.sort()).toEqual([0, 1, 2, 3]);
      expect(outcomes[1].error?.message).toMatch(new RegExp(`^${corrupt}: cannot decode the image`));
      for (const i of [0, 2, 3]) {
        const one = await m.score(files[i]);
        expect(outcomes[i].score?.origins).toEqual(one.origins);
        outcomes[i].score?.cropScores.forEach((s, k) =>
          expect(Math.abs(s - one.cropScores[k])).toBeLessThan(1e-6),
        );
      }
      // From PREPARE_THREAD_MIN_IMAGES files on, they are prepared on a thread of their own (onnxruntime blocks the
      // main thread while a batch runs): the same outcomes, errors naming their file included.
      expect(logs).toEqual([]);
      const many = Array.from(
        { length: PREPARE_THREAD_MIN_IMAGES + 2 },
        (_, i) => [jpg, png, corrupt][i % 3],
      );
      const threaded = await m.scoreFiles(many);
      expect(logs).toEqual(['preparing the images on a worker thread (onnxruntime runs on the main thread)']);
      for (const [i, o] of threaded.entries()) {
        const same = outcomes[[0, 2, 1][i % 3]];
        if (same.error) expect(o.error?.message).toBe(same.error.message);
        else {
          expect(o.score?.origins).toEqual(same.score?.origins);
          o.score?.cropScores.forEach((v, k) =>
            expect(Math.abs(v - same.score!.cropScores[k])).toBeLessThan(1e-6),
          );
        }
      }
      const auto = await createScorer({ checkpoint, runtime: 'auto', cacheDir: dir });
      expect(auto.runtime).toBe('onnx');
      await auto.close();
    } finally {
      await m.close();
    }
  });

  it('a truncated .onnx, an .onnx of another model and a missing execution provider are errors naming them', async () => {
    const dir = tempDir('iqa-scorer-bad-onnx-');
    const good = join(dir, 'good.onnx');
    const { model } = await loadCheckpoint(checkpoint);
    await onnxPackage.writeOnnx(good, model);
    model.dispose();
    const cut = join(dir, 'cut.onnx');
    writeFileSync(cut, readFileSync(good).subarray(0, 5000));
    await expect(createScorer({ checkpoint: cut })).rejects.toThrow(cut);
    const notOnnx = join(dir, 'image.onnx');
    copyFileSync(png, notOnnx);
    await expect(createScorer({ checkpoint: notOnnx })).rejects.toThrow(notOnnx);
    await expect(
      createScorer({ checkpoint: good, executionProviders: ['no-such-provider'] }),
    ).rejects.toThrow(/no-such-provider/);
  });
});
