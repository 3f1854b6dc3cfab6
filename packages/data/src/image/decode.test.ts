import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pngWithHeader } from '../__tests__/png.js';
import { DatasetError } from '../errors.js';
import { decodeImage, readImageSize, toFloat32 } from './decode.js';
import { tempDir } from '../../../../tools/testing/temp-dir.js';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const golden = JSON.parse(readFileSync(path.join(fixtures, 'golden/decode.json'), 'utf8')).decode as Record<
  string,
  { size: [number, number]; sha256: string }
>;
const sha = (d: Uint8Array): string => createHash('sha256').update(d).digest('hex');

describe('decodeImage matches Pillow convert("RGB") (golden: Pillow 9.4)', () => {
  for (const [name, g] of Object.entries(golden)) {
    const file = name.includes('/') ? path.join(fixtures, name) : path.join(fixtures, 'images', name);
    it(name, async () => {
      const img = await decodeImage(file);
      expect([img.width, img.height]).toEqual(g.size);
      expect(img.data.length).toBe(img.width * img.height * 3);
      expect(sha(img.data)).toBe(g.sha256);
    });
  }
});

describe('decodeImage options and failures', () => {
  const tmp = tempDir('iqa-data-decode-');

  it('decodes bytes in memory exactly as the file (JPEG, PNG, BMP); errors name the bytes by options.name', async () => {
    for (const name of ['q90.jpg', 'rgb.png', 'rgb24.bmp']) {
      const file = path.join(fixtures, 'images', name);
      const fromFile = await decodeImage(file);
      const fromBytes = await decodeImage(new Uint8Array(readFileSync(file)));
      expect([fromBytes.width, fromBytes.height], name).toEqual([fromFile.width, fromFile.height]);
      expect(sha(fromBytes.data), name).toBe(golden[name].sha256);
      const cut = readFileSync(file).subarray(0, Math.floor(readFileSync(file).length * 0.6));
      const err = await decodeImage(cut, { name: `upload-${name}` }).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(DatasetError);
      expect((err as DatasetError).code).toBe('corrupt-image');
      expect((err as Error).message).toContain(`upload-${name}`);
    }
    await expect(decodeImage(pngWithHeader(30000, 30000))).rejects.toThrow(
      /<buffer>.*30000x30000 = 900000000 pixels/,
    );
  });

  it('region: the same bytes as the whole image cropped (every golden fixture, JPEG 4:2:0 included), checked', async () => {
    const crop = (
      img: { width: number; data: Uint8Array },
      r: { left: number; top: number; width: number; height: number },
    ) => {
      const out = new Uint8Array(r.width * r.height * 3);
      for (let y = 0; y < r.height; y++) {
        const from = ((r.top + y) * img.width + r.left) * 3;
        out.set(img.data.subarray(from, from + r.width * 3), y * r.width * 3);
      }
      return out;
    };
    for (const name of Object.keys(golden)) {
      const file = name.includes('/') ? path.join(fixtures, name) : path.join(fixtures, 'images', name);
      const whole = await decodeImage(file);
      const { width: w, height: h } = whole;
      const regions = [
        { left: 0, top: 0, width: w, height: h },
        { left: w >> 2, top: h >> 2, width: Math.max(1, w >> 1), height: Math.max(1, h >> 1) },
        { left: w - 1, top: h - 1, width: 1, height: 1 },
        { left: 1 % w, top: 0, width: w - (1 % w), height: Math.max(1, h - 3) },
      ];
      for (const r of regions) {
        const part = await decodeImage(file, { region: r });
        expect([part.width, part.height], `${name} ${JSON.stringify(r)}`).toEqual([r.width, r.height]);
        expect(sha(part.data), `${name} ${JSON.stringify(r)}`).toBe(sha(crop(whole, r)));
      }
    }
    const jpg = path.join(fixtures, 'images', 'q90.jpg');
    const { width, height } = await decodeImage(jpg);
    await expect(decodeImage(jpg, { region: { left: 1, top: 0, width, height } })).rejects.toThrow(
      `region ${width}x${height} at (1, 0) is not inside the ${width}x${height} image`,
    );
    await expect(
      decodeImage(path.join(fixtures, 'images', 'rgb24.bmp'), {
        region: { left: 0, top: 0, width: 0, height: 1 },
      }),
    ).rejects.toThrow(/rgb24\.bmp.*region 0x1 at \(0, 0\)/);
    // A function of the image's size (the rotated size with autoOrient), called once the header is read.
    const seen: number[][] = [];
    const lastRow = await decodeImage(jpg, {
      region: (w, h) => (seen.push([w, h]), { left: 0, top: h - 1, width: w, height: 1 }),
    });
    expect(seen).toEqual([[width, height]]);
    expect(sha(lastRow.data)).toBe(
      sha(crop(await decodeImage(jpg), { left: 0, top: height - 1, width, height: 1 })),
    );
    // With autoOrient the region is in the rotated image.
    const exif = path.join(fixtures, 'images/exif-rot6.jpg');
    const turned = await decodeImage(exif, { autoOrient: true });
    const r = { left: 2, top: 20, width: 15, height: 9 };
    expect(sha((await decodeImage(exif, { autoOrient: true, region: r })).data)).toBe(sha(crop(turned, r)));
    await decodeImage(exif, { autoOrient: true, region: (w, h) => (seen.push([w, h]), r) });
    expect(seen.at(-1)).toEqual([17, 29]);
  });

  it('does not apply EXIF orientation unless asked', async () => {
    const file = path.join(fixtures, 'images/exif-rot6.jpg');
    const plain = await decodeImage(file);
    expect([plain.width, plain.height]).toEqual([29, 17]);
    const rotated = await decodeImage(file, { autoOrient: true });
    expect([rotated.width, rotated.height]).toEqual([17, 29]);
    // Orientation 6 = rotate 90° clockwise: the rotated top-left pixel is the plain bottom-left one.
    expect(Array.from(rotated.data.subarray(0, 3))).toEqual(
      Array.from(plain.data.subarray(16 * 29 * 3, 16 * 29 * 3 + 3)),
    );
  });

  it('refuses an image over the pixel budget before decoding it (decompression bomb)', async () => {
    // A PNG whose header claims 30000 x 30000 (900 megapixels): the check must refuse it from the header alone.
    const bomb = path.join(tmp, 'bomb.png');
    writeFileSync(bomb, pngWithHeader(30000, 30000));
    const err = await decodeImage(bomb).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).code).toBe('too-many-pixels');
    expect((err as Error).message).toContain(bomb);
    expect((err as Error).message).toMatch(
      /30000x30000 = 900000000 pixels; expected at most 100000000 pixels/,
    );
    await expect(decodeImage(path.join(fixtures, 'images/rgb.png'), { maxPixels: 100 })).rejects.toThrow(
      /29x17 = 493 pixels; expected at most 100/,
    );
    expect(await readImageSize(bomb)).toEqual({ width: 30000, height: 30000 });
  });

  it('refuses a BMP whose header claims too many pixels', async () => {
    const bmp = Buffer.from(readFileSync(path.join(fixtures, 'images/rgb24.bmp')));
    bmp.writeInt32LE(200000, 18);
    bmp.writeInt32LE(200000, 22);
    const file = path.join(tmp, 'huge.bmp');
    writeFileSync(file, bmp);
    await expect(decodeImage(file)).rejects.toMatchObject({ code: 'too-many-pixels' });
  });

  it('reports truncated JPEG, PNG and BMP files as corrupt, naming the file', async () => {
    for (const name of ['q90.jpg', 'rgb.png', 'rgb24.bmp']) {
      const bytes = readFileSync(path.join(fixtures, 'images', name));
      const file = path.join(tmp, `cut-${name}`);
      writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const err = await decodeImage(file).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(DatasetError);
      expect((err as DatasetError).code).toBe('corrupt-image');
      expect((err as Error).message).toContain(file);
    }
  });

  it('reports garbage and missing files', async () => {
    const file = path.join(tmp, 'garbage.jpg');
    writeFileSync(file, Buffer.from('this is not an image at all'));
    await expect(decodeImage(file)).rejects.toMatchObject({ code: 'corrupt-image' });
    await expect(decodeImage(path.join(tmp, 'nope.png'))).rejects.toMatchObject({ code: 'missing-image' });
  });

  it('refuses RLE-compressed BMP with a clear reason', async () => {
    const bmp = Buffer.from(readFileSync(path.join(fixtures, 'images/pal8.bmp')));
    bmp.writeUInt32LE(1, 30); // BI_RLE8
    const file = path.join(tmp, 'rle.bmp');
    writeFileSync(file, bmp);
    await expect(decodeImage(file)).rejects.toThrow(/compressed BMP \(compression 1/);
  });

  it('toFloat32 keeps the HWC layout and scales', async () => {
    const img = await decodeImage(path.join(fixtures, 'images/rgb.png'));
    const unit = toFloat32(img, 'unit');
    const raw = toFloat32(img, 'none');
    const i = (5 * img.width + 7) * 3 + 2;
    expect(raw[i]).toBe(img.data[i]);
    expect(unit[i]).toBe(Math.fround(img.data[i] / 255));
    const inet = toFloat32(img, 'imagenet');
    expect(inet[i]).toBeCloseTo((img.data[i] / 255 - 0.406) / 0.225, 6);
  });
});
