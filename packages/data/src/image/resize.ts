/**
 * Pillow-exact BILINEAR resize (what PIL's `Image.resize(size, Image.BILINEAR)` and so torchvision's `Resize` on PIL
 * images compute, for 8-bit RGB): a separable, antialiased triangle filter whose support grows with the reduction
 * factor, coefficients normalised per output pixel and rounded to 22-bit fixed point, a horizontal pass first, the
 * intermediate rounded to uint8, then a vertical pass. Written from the algorithm's description and checked
 * byte-for-byte against Pillow 9.4 (see the golden tests).
 */
import type { PixelBox, RgbImage } from './decode.js';

const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);

interface Coeffs {
  ksize: number;
  /** Per output index: first input index and count. */
  bounds: Int32Array;
  /** Fixed-point coefficients, `ksize` per output index. */
  kk: Int32Array;
}

function triangle(x: number): number {
  const a = x < 0 ? -x : x;
  return a < 1 ? 1 - a : 0;
}

/** Coefficients for resampling `inSize` samples to `outSize` over the box [0, inSize). */
function precompute(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = 1 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = triangle((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < ksize; x++) {
      const v = x < xmax ? (ww !== 0 ? k[x] / ww : k[x]) : 0;
      kk[xx * ksize + x] =
        v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function checkBox(b: PixelBox, width: number, height: number, what: string): void {
  if (
    ![b.left, b.top, b.width, b.height].every(Number.isInteger) ||
    b.left < 0 ||
    b.top < 0 ||
    b.width < 1 ||
    b.height < 1 ||
    b.left + b.width > width ||
    b.top + b.height > height
  ) {
    throw new RangeError(
      `${what} box ${b.width}x${b.height} at (${b.left}, ${b.top}) must lie inside the ${width}x${height} ${what === 'resize' ? 'output' : 'image'}`,
    );
  }
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resize target must be positive integers, got ${width}x${height}`);
  }
}

/**
 * The input samples [first, end) that outputs [from, from + count) of an axis read (all of them: the filter's taps);
 * `coeffs` null for an axis that is not resized.
 */
function axisSource(coeffs: Coeffs | null, from: number, count: number): [number, number] {
  if (coeffs === null) return [from, from + count];
  const { bounds } = coeffs;
  let first = Infinity;
  let end = 0;
  for (let i = from; i < from + count; i++) {
    first = Math.min(first, bounds[i * 2]);
    end = Math.max(end, bounds[i * 2] + bounds[i * 2 + 1]);
  }
  return [first, end];
}

/**
 * The rectangle of an `inW` × `inH` image that the `box` of its resize to `width` × `height` reads: decode only that
 * and pass it to {@link resizeBilinear} with its position (`source`) for the same bytes as from the whole image.
 */
export function sourceBox(inW: number, inH: number, width: number, height: number, box: PixelBox): PixelBox {
  checkSize(width, height);
  checkBox(box, width, height, 'resize');
  const horiz = width !== inW ? precompute(inW, width) : null;
  const vert = height !== inH ? precompute(inH, height) : null;
  return boxSource(horiz, vert, box);
}

function boxSource(horiz: Coeffs | null, vert: Coeffs | null, box: PixelBox): PixelBox {
  const [left, right] = axisSource(horiz, box.left, box.width);
  const [top, bottom] = axisSource(vert, box.top, box.height);
  return { left, top, width: right - left, height: bottom - top };
}

/** Where a part of an image lies in the whole one: its corner and the whole image's size. */
export interface SourcePart {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Resizes an RGB uint8 image to `width` × `height` exactly as Pillow's BILINEAR filter does. With `box`, only that
 * rectangle of the resized image is computed and returned (`box.width` × `box.height`): every output pixel depends on
 * its own input rows and columns only, so the box holds the same bytes as the full resize cropped to it, for a
 * fraction of the work when the box is small (one 224 crop of a 512×384 resize is a quarter of it). With `source`,
 * `img` is only the part of a larger image (`source.width` × `source.height`) at (`source.left`, `source.top`), which
 * must hold every pixel the box reads ({@link sourceBox}).
 */
export function resizeBilinear(
  img: RgbImage,
  width: number,
  height: number,
  box?: PixelBox,
  source?: SourcePart,
): RgbImage {
  checkSize(width, height);
  const b = box ?? { left: 0, top: 0, width, height };
  checkBox(b, width, height, 'resize');
  const part = source ?? { left: 0, top: 0, width: img.width, height: img.height };
  const inW = part.width;
  const inH = part.height;
  const horiz = width !== inW ? precompute(inW, width) : null;
  const vert = height !== inH ? precompute(inH, height) : null;
  const need = boxSource(horiz, vert, b);
  if (
    need.left < part.left ||
    need.top < part.top ||
    need.left + need.width > part.left + img.width ||
    need.top + need.height > part.top + img.height
  ) {
    throw new RangeError(
      `the resize box reads the ${need.width}x${need.height} input at (${need.left}, ${need.top}), which the ` +
        `${img.width}x${img.height} part at (${part.left}, ${part.top}) does not hold`,
    );
  }
  const stride = img.width * 3;
  // The input rows the box needs: those the vertical pass reads, or the box's own rows.
  const first = need.top;
  const rows = need.height;
  // Horizontal pass (or a copy of the box's columns): `rows` rows of `b.width` pixels.
  const src = img.data;
  const mid = new Uint8Array(b.width * rows * 3);
  if (horiz) {
    const { ksize, bounds, kk } = horiz;
    for (let y = 0; y < rows; y++) {
      const rowIn = (y + first - part.top) * stride - part.left * 3;
      let o = y * b.width * 3;
      for (let xx = b.left; xx < b.left + b.width; xx++, o += 3) {
        const xmin = bounds[xx * 2];
        const xmax = bounds[xx * 2 + 1];
        const kb = xx * ksize;
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        let p = rowIn + xmin * 3;
        for (let x = 0; x < xmax; x++, p += 3) {
          const c = kk[kb + x];
          s0 += src[p] * c;
          s1 += src[p + 1] * c;
          s2 += src[p + 2] * c;
        }
        mid[o] = clip8(s0);
        mid[o + 1] = clip8(s1);
        mid[o + 2] = clip8(s2);
      }
    }
  } else {
    for (let y = 0; y < rows; y++) {
      const from = (y + first - part.top) * stride + (b.left - part.left) * 3;
      mid.set(src.subarray(from, from + b.width * 3), y * b.width * 3);
    }
  }
  if (!vert) return { width: b.width, height: b.height, data: mid };
  // Vertical pass over the box's rows.
  const out = new Uint8Array(b.width * b.height * 3);
  const { ksize, bounds, kk } = vert;
  const rowLen = b.width * 3;
  for (let yy = 0; yy < b.height; yy++) {
    const ymin = bounds[(yy + b.top) * 2] - first;
    const ymax = bounds[(yy + b.top) * 2 + 1];
    const kb = (yy + b.top) * ksize;
    const o = yy * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let s = HALF;
      let p = ymin * rowLen + i;
      for (let y = 0; y < ymax; y++, p += rowLen) s += mid[p] * kk[kb + y];
      out[o + i] = clip8(s);
    }
  }
  return { width: b.width, height: b.height, data: out };
}
