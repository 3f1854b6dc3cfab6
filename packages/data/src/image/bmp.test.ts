import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DatasetError } from '../errors.js';
import { BmpError, decodeBmp } from './bmp.js';
import { decodeImage, readImageSize } from './decode.js';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const golden = JSON.parse(readFileSync(path.join(fixtures, 'golden/bmp-bitfields.json'), 'utf8'))
  .files as Record<string, { size: [number, number]; rgb: string } | { refused: string }>;

function firstDiff(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < Math.min(a.length, b.length); i++)
    if (a[i] !== b[i]) return `byte ${i}: ${a[i]} vs ${b[i]}`;
  return a.length === b.length ? 'none' : `length ${a.length} vs ${b.length}`;
}

describe('BI_BITFIELDS and 16-bit BMP decode exactly as Pillow 9.4 (golden: make_fixture_bmp_bitfields.py)', () => {
  for (const [name, g] of Object.entries(golden)) {
    const file = path.join(fixtures, 'bmp', name);
    if ('rgb' in g) {
      it(`${name} decodes to Pillow's pixels`, async () => {
        const img = await decodeImage(file);
        expect([img.width, img.height]).toEqual(g.size);
        expect(firstDiff(img.data, new Uint8Array(Buffer.from(g.rgb, 'base64')))).toBe('none');
        expect(await readImageSize(file)).toEqual({ width: g.size[0], height: g.size[1] });
      });
    } else {
      it(`${name} is refused, as Pillow refuses it ("${g.refused}")`, async () => {
        expect(() => decodeBmp(readFileSync(file))).toThrow(BmpError);
        const err = await decodeImage(file).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DatasetError);
        expect((err as DatasetError).code).toBe('corrupt-image');
        expect((err as Error).message).toContain(file);
        expect((err as Error).message).toMatch(
          /unsupported BMP bit-field masks R 0x[0-9a-f]+ G 0x[0-9a-f]+ B 0x/,
        );
      });
    }
  }

  it('no mask value makes the decoder loop: every single mask of 0, all ones, one bit and odd runs', () => {
    const base = Buffer.from(readFileSync(path.join(fixtures, 'bmp', 'bf32-bgrx.bmp')));
    const base16 = Buffer.from(readFileSync(path.join(fixtures, 'bmp', 'bf16-565.bmp')));
    const values = [0, 0xffffffff, 0x80000000, 1, 0x80000001, 0xf0f0f0f0, 0xff, 0xff00, 0xff0000, 0xff000000];
    let decoded = 0;
    for (const file of [base, base16]) {
      for (const r of values) {
        for (const g of values) {
          for (const b of values) {
            file.writeUInt32LE(r, 54);
            file.writeUInt32LE(g, 58);
            file.writeUInt32LE(b, 62);
            try {
              decodeBmp(file);
              decoded++;
            } catch (e) {
              expect(e).toBeInstanceOf(BmpError);
            }
          }
        }
      }
    }
    // 32-bit: BGRX, XBGR and all-zero (Pillow's BGRA) with the 40-byte header; none of the 16-bit ones.
    expect(decoded).toBe(3);
  });

  it('refuses masks that end past the file', () => {
    const bmp = readFileSync(path.join(fixtures, 'bmp', 'bf16-565.bmp'));
    expect(() => decodeBmp(bmp.subarray(0, 60))).toThrow(/truncated BMP bit masks/);
  });
});
