/**
 * Image decoding: JPEG, PNG, TIFF (and the other formats libvips reads) with sharp, BMP with the package's own
 * decoder. The result is RGB uint8, row-major, top row first (`data[(y * width + x) * 3 + c]`), as PIL's
 * `Image.open(path).convert('RGB')` gives it: no EXIF auto-rotation unless asked, embedded ICC profiles ignored,
 * alpha dropped (not composited), grey replicated to three channels.
 */
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { DatasetError } from '../errors.js';
import { BmpError, decodeBmp, isBmp, readBmpHeader } from './bmp.js';

/** An RGB uint8 image, HWC row-major. */
export interface RgbImage {
  width: number;
  height: number;
  /** `width * height * 3` bytes, `data[(y * width + x) * 3 + c]`, c = R, G, B. */
  data: Uint8Array;
}

/** A rectangle of an image, in pixels: `left`, `top` and its size. */
export interface PixelBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Default pixel budget of one image (width × height): 100 megapixels. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/**
 * Bytes one decoded image may take at its own sample depth (width × height × channels × bytes per sample): 320 MiB,
 * which a 100-megapixel 8-bit RGB image fits. A 16-bit or float image of as many pixels decodes to two or four times
 * that, and the decoder's working copies double it again, so the pixel budget alone does not bound memory.
 */
export const MAX_DECODED_BYTES = 320 * 1024 * 1024;

const SAMPLE_BYTES: Record<string, number> = {
  uchar: 1,
  char: 1,
  ushort: 2,
  short: 2,
  uint: 4,
  int: 4,
  float: 4,
};

export interface DecodeOptions {
  /** Refuse images with more pixels than this (decompression-bomb guard; default {@link DEFAULT_MAX_PIXELS}). */
  maxPixels?: number;
  /** Apply the EXIF orientation (default false, as PIL's `Image.open` does not). */
  autoOrient?: boolean;
}

function tooMany(file: string, w: number, h: number, max: number): DatasetError {
  return new DatasetError({
    code: 'too-many-pixels',
    file,
    message: `image is ${w}x${h} = ${w * h} pixels`,
    expected: `at most ${max} pixels (option maxPixels; a decompression bomb or a wrong file?)`,
  });
}

function corrupt(file: string, why: string): DatasetError {
  return new DatasetError({
    code: 'corrupt-image',
    file,
    message: `cannot decode the image (${why})`,
    expected: 'a readable JPEG, PNG, BMP or TIFF file',
  });
}

/** Reads the dimensions of an image without decoding its pixels. */
export async function readImageSize(file: string): Promise<{ width: number; height: number }> {
  const head = await readHead(file, 64);
  if (isBmp(head)) {
    try {
      const h = readBmpHeader(head);
      return { width: h.width, height: h.height };
    } catch (e) {
      throw corrupt(file, (e as Error).message);
    }
  }
  try {
    const m = await sharp(file, { limitInputPixels: false }).metadata();
    if (!m.width || !m.height) throw new Error('no dimensions');
    return { width: m.width, height: m.height };
  } catch (e) {
    throw corrupt(file, (e as Error).message);
  }
}

async function readHead(file: string, n: number): Promise<Uint8Array> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch {
    throw new DatasetError({
      code: 'missing-image',
      file,
      message: 'image file not found',
      expected: 'an existing image file',
    });
  }
  try {
    const buf = new Uint8Array(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Decodes an image — a file, or its bytes already in memory — to RGB uint8 (see {@link RgbImage}); throws a
 * DatasetError naming the file (bytes: `options.name`) on failure.
 */
export async function decodeImage(
  source: string | Uint8Array,
  options: DecodeOptions & {
    /** What errors call an image given as bytes (default `<buffer>`); a file is named by its path. */
    name?: string;
    /**
     * Decode only this rectangle of the image (after `autoOrient`), or the one a function of the image's size returns
     * (called once the header is read): the same bytes as the whole image cropped to it, with less work (a JPEG is
     * decoded down to the rectangle's last row, and only its columns are copied out).
     */
    region?: PixelBox | ((width: number, height: number) => PixelBox);
  } = {},
): Promise<RgbImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const file = typeof source === 'string' ? source : (options.name ?? '<buffer>');
  const head = typeof source === 'string' ? await readHead(source, 64) : source.subarray(0, 64);
  if (isBmp(head)) {
    let hdr;
    try {
      hdr = readBmpHeader(head);
    } catch (e) {
      throw corrupt(file, (e as Error).message);
    }
    if (hdr.width * hdr.height > maxPixels) throw tooMany(file, hdr.width, hdr.height, maxPixels);
    const size = typeof source === 'string' ? (await fs.stat(source)).size : source.length;
    // A BMP holds at most 4 bytes per pixel plus headers and palette: refuse anything much larger.
    if (size > hdr.width * hdr.height * 4 + 4096 + 1024 * hdr.height) {
      throw corrupt(file, `file of ${size} bytes is larger than a ${hdr.width}x${hdr.height} BMP can be`);
    }
    let img: RgbImage;
    try {
      img = decodeBmp(typeof source === 'string' ? await fs.readFile(source) : source);
    } catch (e) {
      if (e instanceof BmpError) throw corrupt(file, e.message);
      throw e;
    }
    const region =
      typeof options.region === 'function' ? options.region(img.width, img.height) : options.region;
    return region ? cropRegion(file, img, region) : img;
  }
  // sharp reads a path, or bytes from a Buffer.
  const input =
    typeof source === 'string' ? source : Buffer.from(source.buffer, source.byteOffset, source.length);
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw corrupt(file, (e as Error).message);
  }
  if (!meta.width || !meta.height) throw corrupt(file, 'no dimensions in the header');
  if (meta.width * meta.height > maxPixels) throw tooMany(file, meta.width, meta.height, maxPixels);
  const decodedBytes =
    meta.width * meta.height * (meta.channels ?? 4) * (SAMPLE_BYTES[meta.depth ?? ''] ?? 8);
  if (decodedBytes > MAX_DECODED_BYTES) {
    throw new DatasetError({
      code: 'too-many-pixels',
      file,
      message: `image is ${meta.width}x${meta.height} with ${meta.channels ?? '?'} channels of ${meta.depth ?? 'unknown'} samples: ${decodedBytes} bytes once decoded`,
      expected: `at most ${MAX_DECODED_BYTES} bytes (a decompression bomb or a wrong file?)`,
    });
  }
  const turned = options.autoOrient === true && (meta.orientation ?? 1) >= 5;
  const [width, height] = turned ? [meta.height, meta.width] : [meta.width, meta.height];
  const region = typeof options.region === 'function' ? options.region(width, height) : options.region;
  if (region) checkRegion(file, region, width, height);
  try {
    const decoder = sharp(input, {
      limitInputPixels: maxPixels,
      failOn: 'error',
      ignoreIcc: true,
      autoOrient: options.autoOrient === true,
    });
    if (region) decoder.extract(region);
    const { data, info } = await decoder
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`unexpected decoder output ${info.width}x${info.height}x${info.channels}`);
    }
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  } catch (e) {
    if (/pixel limit/i.test((e as Error).message)) throw tooMany(file, meta.width, meta.height, maxPixels);
    throw corrupt(file, (e as Error).message);
  }
}

function checkRegion(file: string, r: PixelBox, width: number, height: number): void {
  const ok =
    [r.left, r.top, r.width, r.height].every(Number.isInteger) &&
    r.left >= 0 &&
    r.top >= 0 &&
    r.width >= 1 &&
    r.height >= 1 &&
    r.left + r.width <= width &&
    r.top + r.height <= height;
  if (!ok)
    throw new DatasetError({
      code: 'bad-option',
      field: 'region',
      file,
      message: `region ${r.width}x${r.height} at (${r.left}, ${r.top}) is not inside the ${width}x${height} image`,
      expected: 'a rectangle of positive integer size inside the image',
    });
}

function cropRegion(file: string, img: RgbImage, r: PixelBox): RgbImage {
  checkRegion(file, r, img.width, img.height);
  const out = new Uint8Array(r.width * r.height * 3);
  for (let y = 0; y < r.height; y++) {
    const from = ((r.top + y) * img.width + r.left) * 3;
    out.set(img.data.subarray(from, from + r.width * 3), y * r.width * 3);
  }
  return { width: r.width, height: r.height, data: out };
}

/** How {@link toFloat32} scales values: raw 0–255, unit [0, 1], or ImageNet-normalised ((x/255 − mean)/std). */
export type Normalization = 'none' | 'unit' | 'imagenet';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/**
 * Per-channel lookup tables uint8 → float32, computed with float32 arithmetic in the order torchvision's
 * ToTensor + Normalize use (`x / 255`, then `(v − mean) / std`), so values match PyTorch bit for bit.
 */
export function normalizationTables(mode: Normalization): [Float32Array, Float32Array, Float32Array] {
  const f = Math.fround;
  return [0, 1, 2].map((c) => {
    const t = new Float32Array(256);
    const mean = f(IMAGENET_MEAN[c]);
    const std = f(IMAGENET_STD[c]);
    for (let v = 0; v < 256; v++) {
      if (mode === 'none') t[v] = v;
      else if (mode === 'unit') t[v] = f(v / 255);
      else t[v] = f(f(f(v / 255) - mean) / std);
    }
    return t;
  }) as [Float32Array, Float32Array, Float32Array];
}

/** Converts an RGB uint8 image to float32 HWC (same layout), scaled as asked (default `unit`). */
export function toFloat32(img: RgbImage, mode: Normalization = 'unit'): Float32Array {
  const lut = normalizationTables(mode);
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < img.data.length; i += 3) {
    out[i] = lut[0][img.data[i]];
    out[i + 1] = lut[1][img.data[i + 1]];
    out[i + 2] = lut[2][img.data[i + 2]];
  }
  return out;
}
