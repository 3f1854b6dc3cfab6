import { createHash } from 'node:crypto';
import path from 'node:path';
import seedrandom from 'seedrandom';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, normalizationTables, type RgbImage } from './image/decode.js';
import { resizeBilinear } from './image/resize.js';
import { PatchSampler, type PatchBatch, type SamplerImage } from './sampler.js';
import { tempDir } from '../../../tools/testing/temp-dir.js';

const dir = tempDir('iqa-data-sampler-');
const images: SamplerImage[] = [];
const decoded = new Map<string, RgbImage>();
const lut = normalizationTables('imagenet');

function pattern(w: number, h: number, k: number): Uint8Array {
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++)
        d[(y * w + x) * 3 + c] = (x * (3 + k) + y * (5 + c) + ((x * y) % (7 + k)) * 11) & 255;
  return d;
}

beforeAll(async () => {
  const sizes: [number, number][] = [
    [300, 260],
    [256, 240],
    [320, 230],
  ];
  for (let i = 0; i < sizes.length; i++) {
    const [w, h] = sizes[i];
    const file = path.join(dir, `im${i}.png`);
    await sharp(pattern(w, h, i), { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(file);
    images.push({ id: `im${i}.png`, path: file, score: 10 * (i + 1), normScore: i / 4 });
    decoded.set(`im${i}.png`, await decodeImage(file));
  }
});

const sha = (b: PatchBatch): string =>
  createHash('sha256').update(new Uint8Array(b.data.buffer)).digest('hex');

async function collect(s: PatchSampler, batch: number, epoch = 0): Promise<PatchBatch[]> {
  const out: PatchBatch[] = [];
  for await (const b of s.batches(batch, { epoch })) out.push(b);
  return out;
}

/** The expected patch: optional flip of the whole image, crop at (top, left), normalised. */
function expectedPatch(img: RgbImage, top: number, left: number, flip: boolean, size = 224): Float32Array {
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = flip ? img.width - 1 - (left + x) : left + x;
      for (let c = 0; c < 3; c++)
        out[(y * size + x) * 3 + c] = lut[c][img.data[((top + y) * img.width + sx) * 3 + c]];
    }
  }
  return out;
}

/** Index of the first differing value, or -1. */
function mismatch(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/** One hash per patch, in order. */
const patchHashes = (bs: PatchBatch[]): string[] =>
  bs.flatMap((b) =>
    b.imageIds.map((_, i) =>
      createHash('sha256')
        .update(new Uint8Array(patchOf(b, i).slice().buffer))
        .digest('hex'),
    ),
  );

const patchOf = (b: PatchBatch, i: number): Float32Array =>
  b.data.subarray(i * 224 * 224 * 3, (i + 1) * 224 * 224 * 3);

describe('PatchSampler: the tensor contract', () => {
  it('test mode: NHWC float32, ImageNet-normalised center crops, patches of an image consecutive', async () => {
    const s = new PatchSampler({ images, mode: 'test', patchesPerImage: 2, seed: 1, preset: 'none' });
    const [b] = await collect(s, 6);
    expect(b.shape).toEqual([6, 224, 224, 3]);
    expect(b.data).toBeInstanceOf(Float32Array);
    expect(b.data.length).toBe(6 * 224 * 224 * 3);
    expect(b.labels).toEqual(new Float32Array([10, 10, 20, 20, 30, 30]));
    expect(b.imageIds).toEqual(['im0.png', 'im0.png', 'im1.png', 'im1.png', 'im2.png', 'im2.png']);
    // 300x260: top = round(36 / 2) = 18, left = round(76 / 2) = 38. 320x230: top = round(3) = 3, left = round(48).
    expect(mismatch(patchOf(b, 0), expectedPatch(decoded.get('im0.png') as RgbImage, 18, 38, false))).toBe(
      -1,
    );
    expect(mismatch(patchOf(b, 1), patchOf(b, 0))).toBe(-1);
    expect(mismatch(patchOf(b, 4), expectedPatch(decoded.get('im2.png') as RgbImage, 3, 48, false))).toBe(-1);
  });

  it('the seed preset squashes to 384 wide x 512 tall with Pillow bilinear, then crops (top 144, left 80)', async () => {
    const s = new PatchSampler({
      images: images.slice(0, 1),
      mode: 'test',
      patchesPerImage: 1,
      seed: 1,
      preset: 'seed',
      label: 'normScore',
    });
    const [b] = await collect(s, 1);
    const resized = resizeBilinear(decoded.get('im0.png') as RgbImage, 384, 512);
    expect(mismatch(patchOf(b, 0), expectedPatch(resized, 144, 80, false))).toBe(-1);
    expect(b.labels[0]).toBe(0);
  });

  it('training crops: flip of the whole image first, then randint offsets (inclusive), from a per-patch stream', async () => {
    const s = new PatchSampler({ images, mode: 'train', patchesPerImage: 4, seed: 'abc', preset: 'none' });
    const batches = await collect(s, 5);
    let flips = 0;
    for (const b of batches) {
      for (let i = 0; i < b.imageIds.length; i++) {
        const id = b.imageIds[i];
        const img = decoded.get(id) as RgbImage;
        // Find which patch index of this image it is by regenerating each candidate.
        const candidates = [0, 1, 2, 3].map((k) => {
          const rng = seedrandom(`iqa-bench/patch/abc/0/${id}/${k}`);
          const flip = rng() < 0.5;
          const top = Math.floor(rng() * (img.height - 224 + 1));
          const left = Math.floor(rng() * (img.width - 224 + 1));
          return { flip, data: expectedPatch(img, top, left, flip) };
        });
        const hitIndex = candidates.findIndex((c) => c.data.every((v, j) => v === patchOf(b, i)[j]));
        expect(hitIndex, `patch ${i} of ${id}`).toBeGreaterThanOrEqual(0);
        if (candidates[hitIndex].flip) flips++;
      }
    }
    expect(flips).toBeGreaterThan(0);
    expect(flips).toBeLessThan(12);
  });
});

describe('PatchSampler: determinism and caching', () => {
  it('same seed, same batches; batch size does not change the patches; epochs and seeds do', async () => {
    const mk = (seed: string): PatchSampler =>
      new PatchSampler({ images, mode: 'train', patchesPerImage: 3, seed, preset: 'none' });
    const a = await collect(mk('s'), 4);
    const b = await collect(mk('s'), 4);
    expect(a.map(sha)).toEqual(b.map(sha));
    const c = await collect(mk('s'), 9);
    expect(patchHashes(c)).toEqual(patchHashes(a));
    expect(c.flatMap((x) => x.imageIds)).toEqual(a.flatMap((x) => x.imageIds));
    const e1 = await collect(mk('s'), 9, 1);
    expect(e1.map(sha)).not.toEqual(c.map(sha));
    expect((await collect(mk('t'), 9)).map(sha)).not.toEqual(c.map(sha));
  });

  it('decodes each image once per epoch with room in the cache; a tiny cache re-decodes with the same result', async () => {
    const big = new PatchSampler({ images, mode: 'train', patchesPerImage: 5, seed: 2, preset: 'none' });
    const ref = await collect(big, 4);
    expect(big.cacheStats().misses).toBe(3);
    expect(big.cacheStats().images).toBe(3);
    expect(big.cacheStats().bytes).toBe(300 * 260 * 3 + 256 * 240 * 3 + 320 * 230 * 3);
    await collect(big, 4, 1);
    expect(big.cacheStats().misses).toBe(3);
    const tiny = new PatchSampler({
      images,
      mode: 'train',
      patchesPerImage: 5,
      seed: 2,
      preset: 'none',
      cacheBytes: 256 * 240 * 3,
    });
    const again = await collect(tiny, 4);
    expect(again.map(sha)).toEqual(ref.map(sha));
    expect(tiny.cacheStats().misses).toBeGreaterThan(3);
    expect(tiny.cacheStats().bytes).toBeLessThanOrEqual(256 * 240 * 3);
  });

  it('ColorJitter: identity ranges disable the operations (as in torchvision), the original ranges change the patches', async () => {
    const base = { images, mode: 'train' as const, patchesPerImage: 2, seed: 3, preset: 'none' as const };
    const plain = await collect(new PatchSampler(base), 6);
    const same = await collect(
      new PatchSampler({
        ...base,
        colorJitter: { brightness: [1, 1], contrast: [1, 1], saturation: [1, 1], hue: [0, 0] },
      }),
      6,
    );
    expect(same.map(sha)).toEqual(plain.map(sha));
    const jittered = await collect(new PatchSampler({ ...base, colorJitter: true }), 6);
    expect(jittered.map(sha)).not.toEqual(plain.map(sha));
    expect(jittered.flatMap((b) => b.imageIds)).toEqual(plain.flatMap((b) => b.imageIds));
  });

  it('errors name the image: too small for the patch size, missing file', async () => {
    const s = new PatchSampler({
      images,
      mode: 'test',
      patchesPerImage: 1,
      seed: 1,
      preset: 'none',
      patchSize: 235,
    });
    await expect(collect(s, 3)).rejects.toThrow(
      /im2\.png: image is 320x230 after the resize step .*; expected at least 235x235/,
    );
    const gone = new PatchSampler({
      images: [{ ...images[0], path: path.join(dir, 'gone.png') }],
      mode: 'test',
      patchesPerImage: 1,
      seed: 1,
    });
    await expect(collect(gone, 1)).rejects.toThrow(/gone\.png: image file not found/);
    expect(() => new PatchSampler({ images, mode: 'test', patchesPerImage: 0, seed: 1 })).toThrow(
      /patchesPerImage/,
    );
  });
});
