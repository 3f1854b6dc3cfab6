import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizationTables, type RgbImage } from './decode.js';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation, rgbToHsv } from './jitter.js';
import { resizeBilinear, sourceBox } from './resize.js';

interface Golden {
  resize: { in: [number, number]; out: [number, number]; sha256: string; data?: string }[];
  jitterInput: [number, number];
  jitter: { op: string; factor: number; data: string }[];
  hsv: string;
  imagenetNormalize: string;
}
const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/golden/pillow.json', import.meta.url), 'utf8'),
) as Golden;

/** The test pattern of tools/fixtures/data/make_golden_pillow.py. */
function pattern(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const v = ((x * 131 + y * 71 + c * 29) ^ (x * y * 7 + c * 13)) & 255;
        const ramp = Math.floor(
          (Math.floor((x * 255) / Math.max(1, w - 1)) + Math.floor((y * 255) / Math.max(1, h - 1))) / 2,
        );
        data[(y * w + x) * 3 + c] = (Math.floor(x / 5) + Math.floor(y / 3) + c) % 3 === 0 ? ramp : v;
      }
    }
  }
  return { width: w, height: h, data };
}

const sha = (d: Uint8Array): string => createHash('sha256').update(d).digest('hex');
const bytes = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, 'base64'));

function firstDiff(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `byte ${i}: ${a[i]} vs ${b[i]}`;
  return a.length === b.length ? 'none' : `length ${a.length} vs ${b.length}`;
}

describe('Pillow-exact BILINEAR resize (golden: Pillow 9.4)', () => {
  for (const c of golden.resize) {
    it(`${c.in.join('x')} -> ${c.out.join('x')}`, () => {
      const out = resizeBilinear(pattern(c.in[0], c.in[1]), c.out[0], c.out[1]);
      expect([out.width, out.height]).toEqual(c.out);
      if (c.data) expect(firstDiff(out.data, bytes(c.data))).toBe('none');
      expect(sha(out.data)).toBe(c.sha256);
    });
  }
});

describe('resizeBilinear with a box', () => {
  /** The full resize, cropped to the box. */
  function cropOf(img: RgbImage, left: number, top: number, w: number, h: number): Uint8Array {
    const out = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      const from = ((top + y) * img.width + left) * 3;
      out.set(img.data.subarray(from, from + w * 3), y * w * 3);
    }
    return out;
  }
  // Reductions, enlargements, one axis only and none, each with a seeded set of boxes (corners, edges, 1-pixel ones).
  const sizes: [number, number, number, number][] = [
    [1024, 768, 384, 512],
    [640, 480, 512, 384],
    [97, 61, 200, 150],
    [300, 200, 300, 120],
    [300, 200, 133, 200],
    [64, 48, 64, 48],
  ];
  for (const [iw, ih, ow, oh] of sizes) {
    it(`${iw}x${ih} -> ${ow}x${oh}: every box holds the bytes of the full resize cropped to it`, () => {
      const src = pattern(iw, ih);
      const full = resizeBilinear(src, ow, oh);
      let state = iw * 7919 + ow;
      const rand = (n: number): number => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return state % n;
      };
      const boxes = [
        { left: 0, top: 0, width: ow, height: oh },
        { left: ow - 1, top: oh - 1, width: 1, height: 1 },
        { left: 0, top: oh - 7, width: ow, height: 7 },
      ];
      for (let k = 0; k < 12; k++) {
        const width = 1 + rand(ow);
        const height = 1 + rand(oh);
        boxes.push({ left: rand(ow - width + 1), top: rand(oh - height + 1), width, height });
      }
      for (const b of boxes) {
        const want = cropOf(full, b.left, b.top, b.width, b.height);
        const part = resizeBilinear(src, ow, oh, b);
        expect([part.width, part.height]).toEqual([b.width, b.height]);
        expect(firstDiff(part.data, want), JSON.stringify(b)).toBe('none');
        // From only the input rectangle the box reads (what a region decode gives), placed by `source`.
        const s = sourceBox(iw, ih, ow, oh, b);
        const input = {
          width: s.width,
          height: s.height,
          data: cropOf(src, s.left, s.top, s.width, s.height),
        };
        const fromPart = resizeBilinear(input, ow, oh, b, {
          left: s.left,
          top: s.top,
          width: iw,
          height: ih,
        });
        expect(firstDiff(fromPart.data, want), `from ${JSON.stringify(s)}`).toBe('none');
        // One row or column short of it is refused.
        if (s.height > 1) {
          const short = {
            ...input,
            height: s.height - 1,
            data: input.data.subarray(0, (s.height - 1) * s.width * 3),
          };
          expect(() =>
            resizeBilinear(short, ow, oh, b, { left: s.left, top: s.top, width: iw, height: ih }),
          ).toThrow(/does not hold/);
        }
      }
    });
  }
  it('refuses a box outside the output, naming both sizes', () => {
    const src = pattern(20, 10);
    expect(() => resizeBilinear(src, 8, 4, { left: 4, top: 0, width: 5, height: 4 })).toThrow(
      /box 5x4 at \(4, 0\) must lie inside the 8x4 output/,
    );
    expect(() => resizeBilinear(src, 8, 4, { left: 0, top: 0, width: 0, height: 4 })).toThrow(/box/);
    expect(() => resizeBilinear(src, 8, 4, { left: 0.5, top: 0, width: 2, height: 2 })).toThrow(/box/);
  });
});

describe('ColorJitter operations (golden: Pillow 9.4 ImageEnhance / torchvision adjust_hue)', () => {
  const [w, h] = golden.jitterInput;
  const src = pattern(w, h);
  it('RGB -> HSV matches PIL convert("HSV")', () => {
    expect(firstDiff(rgbToHsv(src), bytes(golden.hsv))).toBe('none');
  });
  const ops = {
    brightness: adjustBrightness,
    contrast: adjustContrast,
    saturation: adjustSaturation,
    hue: adjustHue,
  } as const;
  for (const g of golden.jitter) {
    it(`${g.op} ${g.factor}`, () => {
      const out = ops[g.op as keyof typeof ops](src, g.factor);
      expect(firstDiff(out.data, bytes(g.data))).toBe('none');
    });
  }
});

describe('ImageNet normalisation tables (golden: torch ToTensor + Normalize)', () => {
  it('are bit-identical to torch float32', () => {
    const want = new Float32Array(bytes(golden.imagenetNormalize).slice().buffer);
    const tables = normalizationTables('imagenet');
    for (let c = 0; c < 3; c++) {
      for (let v = 0; v < 256; v++) expect(tables[c][v]).toBe(want[c * 256 + v]);
    }
  });
});
