/** Images through @iqa-bench/data's decodeImage: BMP (the package's own decoder), PNG, JPEG and TIFF (sharp). */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type * as Data from '@iqa-bench/data';
import { mutateBytesN } from '../mutate/bytes.js';
import { bmp, mutateBmp, mutateJpeg, mutatePng, mutateTiff, type BmpSpec } from '../mutate/images.js';
import { repoPath } from '../paths.js';
import type { Rng } from '../rng.js';
import type { FormatSpec, FuzzCase, Seed } from '../types.js';

let data: typeof Data;

const IMAGES = 'packages/data/fixtures/images';

/** A smooth test pattern (gradients in three directions). */
const pattern = (x: number, y: number): [number, number, number] => [
  (x * 37) % 256,
  (y * 53) % 256,
  ((x + y) * 19) % 256,
];

function fixtureImages(ext: RegExp): Seed[] {
  return readdirSync(repoPath(IMAGES))
    .filter((f) => ext.test(f))
    .sort()
    .map((f) => ({
      name: f,
      files: new Map([
        [`image${f.slice(f.lastIndexOf('.'))}`, new Uint8Array(readFileSync(repoPath(IMAGES, f)))],
      ]),
      target: `image${f.slice(f.lastIndexOf('.'))}`,
    }));
}

function seed(name: string, file: string, bytes: Uint8Array): Seed {
  return { name, files: new Map([[file, bytes]]), target: file };
}

/** BMP layouts beyond the fixtures: V4/V5 headers, bit fields, 16-bit, OS/2, top-down. */
export const BMP_VARIANTS: readonly [string, Omit<BmpSpec, 'pixel'>][] = [
  ['rgb24-os2', { width: 7, height: 5, bpp: 24, headerSize: 12 }],
  ['rgb24-topdown', { width: 9, height: 4, bpp: 24, topDown: true }],
  ['rgb32', { width: 6, height: 6, bpp: 32 }],
  ['bitfields32', { width: 5, height: 3, bpp: 32, compression: 3, masks: [0xff0000, 0xff00, 0xff] }],
  [
    'bitfields32-v5',
    { width: 5, height: 3, bpp: 32, compression: 3, masks: [0xff0000, 0xff00, 0xff], headerSize: 124 },
  ],
  [
    'bitfields32-bgr',
    { width: 4, height: 4, bpp: 32, compression: 3, masks: [0xff, 0xff00, 0xff0000], headerSize: 108 },
  ],
  ['bitfields16-565', { width: 6, height: 4, bpp: 16, compression: 3, masks: [0xf800, 0x07e0, 0x001f] }],
  ['rgb16-555', { width: 6, height: 4, bpp: 16 }],
  ['pal8', { width: 8, height: 3, bpp: 8 }],
  ['pal4-odd', { width: 7, height: 3, bpp: 4 }],
  ['pal1-odd', { width: 13, height: 2, bpp: 1 }],
];

async function sharpSeeds(kind: 'png' | 'jpeg' | 'tiff'): Promise<Seed[]> {
  const { default: sharp } = await import('sharp');
  const w = 12;
  const h = 9;
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set(pattern(x, y), (y * w + x) * 3);
  const img = () => sharp(rgb, { raw: { width: w, height: h, channels: 3 } });
  const out: [string, Buffer][] = [];
  if (kind === 'png') {
    out.push(['png-8', await img().png().toBuffer()]);
    out.push(['png-16', await img().png().toColourspace('rgb16').toBuffer()]);
    out.push(['png-palette', await img().png({ palette: true, colours: 16 }).toBuffer()]);
    out.push(['png-interlaced', await img().png({ progressive: true }).toBuffer()]);
    out.push(['png-grey-alpha', await img().greyscale().ensureAlpha().png().toBuffer()]);
  } else if (kind === 'jpeg') {
    out.push(['jpeg-420', await img().jpeg({ quality: 80 }).toBuffer()]);
    out.push(['jpeg-444', await img().jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer()]);
    out.push(['jpeg-progressive', await img().jpeg({ progressive: true }).toBuffer()]);
    out.push(['jpeg-grey', await img().greyscale().jpeg().toBuffer()]);
    out.push(['jpeg-cmyk', await img().toColourspace('cmyk').jpeg().toBuffer()]);
  } else {
    out.push(['tiff-none', await img().tiff({ compression: 'none' }).toBuffer()]);
    out.push(['tiff-lzw', await img().tiff({ compression: 'lzw', predictor: 'horizontal' }).toBuffer()]);
    out.push(['tiff-deflate', await img().tiff({ compression: 'deflate' }).toBuffer()]);
    out.push(['tiff-jpeg', await img().tiff({ compression: 'jpeg' }).toBuffer()]);
    out.push(['tiff-tiled', await img().tiff({ tile: true, tileWidth: 16, tileHeight: 16 }).toBuffer()]);
  }
  const ext = kind === 'jpeg' ? 'jpg' : kind === 'tiff' ? 'tif' : 'png';
  return out.map(([name, b]) => seed(name, `image.${ext}`, new Uint8Array(b)));
}

function imageFormat(
  name: 'bmp' | 'png' | 'jpeg' | 'tiff',
  seeds: () => Promise<Seed[]>,
  structured: (b: Uint8Array, rng: Rng) => { bytes: Uint8Array; note: string },
): FormatSpec {
  return {
    name,
    description: `${name.toUpperCase()} images: decodeImage`,
    cleanErrors: ['DatasetError', 'FileError'],
    async prepare() {
      data = await import('@iqa-bench/data');
      const { default: sharp } = await import('sharp');
      // One libvips thread and no operation cache: the fuzzer runs thousands of decodes on a shared machine.
      sharp.concurrency(1);
      sharp.cache(false);
    },
    seeds,
    mutate(s, rng, corpus): FuzzCase {
      const [file, bytes] = [...s.files][0];
      const notes: string[] = [];
      let b = bytes;
      const rounds = rng.range(1, 3);
      for (let i = 0; i < rounds; i++) {
        if (rng.chance(0.65)) {
          const m = structured(b, rng);
          b = m.bytes;
          notes.push(m.note);
        } else {
          const m = mutateBytesN(
            b,
            rng,
            1,
            corpus.map((c) => [...c.files.values()][0]),
          );
          b = m.bytes;
          notes.push(m.note);
        }
      }
      return { ...s, files: new Map([[file, b]]), mutations: notes };
    },
    async run(caseDir, call) {
      const img = await data.decodeImage(`${caseDir}/${call.target}`);
      return `${img.width}x${img.height} rgb:${createHash('sha256').update(img.data).digest('hex').slice(0, 16)}`;
    },
  };
}

export const bmpFormat = imageFormat(
  'bmp',
  async () => [
    ...fixtureImages(/\.bmp$/),
    ...BMP_VARIANTS.map(([n, s]) => seed(n, 'image.bmp', bmp({ ...s, pixel: pattern }))),
  ],
  mutateBmp,
);
export const pngFormat = imageFormat(
  'png',
  async () => [...fixtureImages(/\.png$/), ...(await sharpSeeds('png'))],
  mutatePng,
);
export const jpegFormat = imageFormat(
  'jpeg',
  async () => [...fixtureImages(/\.jpg$/), ...(await sharpSeeds('jpeg'))],
  mutateJpeg,
);
export const tiffFormat = imageFormat(
  'tiff',
  async () => [...fixtureImages(/\.tif$/), ...(await sharpSeeds('tiff'))],
  mutateTiff,
);
