import { applyResize, decodeImage, RESIZE_PRESETS, toFloat32 } from '@iqa-bench/data';
import { describe, expect, it } from 'vitest';
import { placed, prepareImage } from './images.js';
import { jpg } from './__tests__/fixtures.js';

/** The whole resize of the fixture, normalised: what every prepared part must be a crop of. */
async function whole() {
  const rgb = applyResize(await decodeImage(jpg), RESIZE_PRESETS.seed);
  return { width: rgb.width, height: rgb.height, data: toFloat32(rgb, 'imagenet') };
}

function cropOf(img: { width: number; data: Float32Array }, top: number, left: number, w: number, h: number) {
  const out = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const from = ((top + y) * img.width + left) * 3;
    out.set(img.data.subarray(from, from + w * 3), y * w * 3);
  }
  return out;
}

/** The bytes of two float arrays compared at once (a deep equal of 590k numbers takes seconds). */
const same = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length &&
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('prepareImage computes only the part of the resize that the crops cover', () => {
  const prep = { preprocess: 'seed' as const, cropSize: 224 };

  it('one centre crop: a 224x224 part at the crop, the same floats as the whole image cropped', async () => {
    const full = await whole();
    const p = await prepareImage(jpg, prep, { crops: 1, mode: 'center' });
    expect([p.image.width, p.image.height]).toEqual([224, 224]);
    expect(p.offset).toEqual([144, 80]);
    expect(p.options.origins).toEqual([[0, 0]]);
    expect(same(p.image.data, cropOf(full, 144, 80, 224, 224))).toBe(true);
    // Results come back with their corners in the whole resized image.
    expect(placed({ origins: [[0, 0]] as [number, number][] }, p.offset).origins).toEqual([[144, 80]]);
  });

  it('random crops: the box around them, and their corners moved into it', async () => {
    const full = await whole();
    const opts = { crops: 3, mode: 'random' as const, seed: 'x/7' };
    const { cropOrigins } = await import('@iqa-bench/model/browser');
    const origins = cropOrigins(512, 384, 224, 3, 'random', 'x/7');
    const top = Math.min(...origins.map((o) => o[0]));
    const left = Math.min(...origins.map((o) => o[1]));
    const p = await prepareImage(jpg, prep, opts);
    expect(p.offset).toEqual([top, left]);
    expect(p.options.origins).toEqual(origins.map(([y, x]) => [y - top, x - left]));
    expect(p.image.height).toBe(Math.max(...origins.map((o) => o[0])) + 224 - top);
    expect(p.image.width).toBe(Math.max(...origins.map((o) => o[1])) + 224 - left);
    expect(same(p.image.data, cropOf(full, top, left, p.image.width, p.image.height))).toBe(true);
  });

  it('crops that span the image: the whole image, the options as asked', async () => {
    const full = await whole();
    const opts = { crops: 4, mode: 'grid' as const };
    const p = await prepareImage(jpg, prep, opts);
    expect(p.offset).toEqual([0, 0]);
    expect(p.options).toBe(opts);
    expect([p.image.width, p.image.height]).toEqual([full.width, full.height]);
    expect(same(p.image.data, full.data)).toBe(true);
  });
});
