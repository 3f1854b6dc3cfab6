/**
 * ColorJitter as torchvision applies it to PIL images, reproduced exactly for given factors (checked against Pillow
 * 9.4): brightness, contrast and saturation are PIL `ImageEnhance` blends (float32 arithmetic, truncation to uint8,
 * clipping when extrapolating); contrast blends with the rounded mean of the image's luma (PIL's `convert('L')`:
 * ITU-R 601 weights in 16-bit fixed point); hue shifts the H channel of PIL's HSV conversion by
 * `uint8(hue_factor * 255)` with wrap-around and converts back.
 *
 * What is not bit-identical to the original: the random draws. torchvision draws the order (`randperm(4)`) and the
 * factors from torch's generator; here they come from a seedrandom stream (order by Fisher–Yates, then factors
 * b, c, s, h in that order), so a given seed gives the same jitter on every machine but not torch's jitter.
 */
import { shuffleInPlace } from '@iqa-bench/core/seed';
import type { RgbImage } from './decode.js';

const f32 = Math.fround;

/** PIL `Image.blend(degenerate, img, alpha)` for uint8 values (in place on `out`). */
function blendByte(a: number, b: number, alpha32: number, extrapolate: boolean): number {
  const t = f32(a + f32(alpha32 * (b - a)));
  if (!extrapolate) return Math.trunc(t) & 255;
  if (t <= 0) return 0;
  if (t >= 255) return 255;
  return Math.trunc(t);
}

/** PIL's RGB → L conversion of one pixel. */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

function blendImage(img: RgbImage, degenerate: (i: number) => number, factor: number): RgbImage {
  const alpha = f32(factor);
  const extrapolate = !(alpha >= 0 && alpha <= 1);
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = blendByte(degenerate(i), img.data[i], alpha, extrapolate);
  return { width: img.width, height: img.height, data: out };
}

/** torchvision `adjust_brightness` on a PIL image (`ImageEnhance.Brightness`). */
export function adjustBrightness(img: RgbImage, factor: number): RgbImage {
  return blendImage(img, () => 0, factor);
}

/** torchvision `adjust_contrast` on a PIL image (`ImageEnhance.Contrast`). */
export function adjustContrast(img: RgbImage, factor: number): RgbImage {
  const d = img.data;
  let sum = 0;
  for (let i = 0; i < d.length; i += 3) sum += luma(d[i], d[i + 1], d[i + 2]);
  const n = d.length / 3;
  const mean = Math.trunc(sum / n + 0.5);
  return blendImage(img, () => mean, factor);
}

/** torchvision `adjust_saturation` on a PIL image (`ImageEnhance.Color`). */
export function adjustSaturation(img: RgbImage, factor: number): RgbImage {
  const d = img.data;
  const grey = new Uint8Array(d.length / 3);
  for (let i = 0, p = 0; p < grey.length; i += 3, p++) grey[p] = luma(d[i], d[i + 1], d[i + 2]);
  return blendImage(img, (i) => grey[(i / 3) | 0], factor);
}

function clip8(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : v;
}

/** PIL's RGB → HSV conversion (uint8 H, S, V). */
export function rgbToHsv(img: RgbImage): Uint8Array {
  const d = img.data;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i += 3) {
    const r = d[i];
    const g = d[i + 1];
    const b = d[i + 2];
    const maxc = Math.max(r, g, b);
    const minc = Math.min(r, g, b);
    out[i + 2] = maxc;
    if (minc === maxc) continue;
    const cr = f32(maxc - minc);
    const s = f32(cr / maxc);
    const rc = f32((maxc - r) / cr);
    const gc = f32((maxc - g) / cr);
    const bc = f32((maxc - b) / cr);
    let h: number;
    if (r === maxc) h = f32(bc - gc);
    else if (g === maxc) h = f32(2.0 + rc - bc);
    else h = f32(4.0 + gc - rc);
    const m = (h / 6.0 + 1.0) % 1.0;
    h = f32(m);
    out[i] = clip8(Math.trunc(h * 255.0));
    out[i + 1] = clip8(Math.trunc(s * 255.0));
  }
  return out;
}

/** PIL's HSV → RGB conversion. */
export function hsvToRgb(hsv: Uint8Array, width: number, height: number): RgbImage {
  const out = new Uint8Array(hsv.length);
  for (let p = 0; p < hsv.length; p += 3) {
    const h = hsv[p];
    const s = hsv[p + 1];
    const v = hsv[p + 2];
    if (s === 0) {
      out[p] = v;
      out[p + 1] = v;
      out[p + 2] = v;
      continue;
    }
    const i = Math.floor((h * 6.0) / 255.0);
    const f = f32((h * 6.0) / 255.0 - i);
    const fs = f32(s / 255.0);
    const up = clip8(Math.round(v * (1.0 - fs)));
    const uq = clip8(Math.round(v * (1.0 - f32(fs * f))));
    const ut = clip8(Math.round(v * (1.0 - fs * (1.0 - f))));
    let r: number;
    let g: number;
    let b: number;
    switch (i % 6) {
      case 0:
        [r, g, b] = [v, ut, up];
        break;
      case 1:
        [r, g, b] = [uq, v, up];
        break;
      case 2:
        [r, g, b] = [up, v, ut];
        break;
      case 3:
        [r, g, b] = [up, uq, v];
        break;
      case 4:
        [r, g, b] = [ut, up, v];
        break;
      default:
        [r, g, b] = [v, up, uq];
    }
    out[p] = r;
    out[p + 1] = g;
    out[p + 2] = b;
  }
  return { width, height, data: out };
}

/** torchvision `adjust_hue` on a PIL image (hue_factor in [−0.5, 0.5]). */
export function adjustHue(img: RgbImage, hueFactor: number): RgbImage {
  if (!(hueFactor >= -0.5 && hueFactor <= 0.5))
    throw new RangeError(`hue factor ${hueFactor} is not in [-0.5, 0.5]`);
  const hsv = rgbToHsv(img);
  // numpy: np.uint8(hue_factor * 255) truncates toward zero and wraps modulo 256.
  const shift = ((Math.trunc(hueFactor * 255) % 256) + 256) % 256;
  for (let i = 0; i < hsv.length; i += 3) hsv[i] = (hsv[i] + shift) & 255;
  return hsvToRgb(hsv, img.width, img.height);
}

/** ColorJitter ranges of the original (ColorJitter(0.1, 0.1, 0.1, 0.05)). */
export interface JitterRanges {
  brightness: [number, number];
  contrast: [number, number];
  saturation: [number, number];
  hue: [number, number];
}

export const SEED_JITTER: JitterRanges = {
  brightness: [0.9, 1.1],
  contrast: [0.9, 1.1],
  saturation: [0.9, 1.1],
  hue: [-0.05, 0.05],
};

/**
 * Draws a jitter (order, then factors b, c, s, h) from `rng` and applies it. As in torchvision, a range that is
 * exactly the identity ([1, 1], or [0, 0] for hue) disables that operation and its draw.
 */
export function colorJitter(img: RgbImage, rng: () => number, ranges: JitterRanges = SEED_JITTER): RgbImage {
  const order = shuffleInPlace([0, 1, 2, 3], rng);
  const u = (r: [number, number], identity: number): number | null =>
    r[0] === identity && r[1] === identity ? null : r[0] + (r[1] - r[0]) * rng();
  const b = u(ranges.brightness, 1);
  const c = u(ranges.contrast, 1);
  const s = u(ranges.saturation, 1);
  const h = u(ranges.hue, 0);
  let out = img;
  for (const op of order) {
    if (op === 0 && b !== null) out = adjustBrightness(out, b);
    else if (op === 1 && c !== null) out = adjustContrast(out, c);
    else if (op === 2 && s !== null) out = adjustSaturation(out, s);
    else if (op === 3 && h !== null) out = adjustHue(out, h);
  }
  return out;
}
