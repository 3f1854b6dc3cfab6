/**
 * Preprocessing presets. The `seed` preset reproduces the original: `Resize((512, 384))`, which torchvision reads as
 * (height, width), so every image becomes 384 wide and 512 tall (landscape images are squashed into portrait), with
 * Pillow-exact BILINEAR; then 224 crops. `native` keeps the aspect ratio (shorter side to 384, Pillow BILINEAR) and
 * `none` uses the image as decoded (the original's LIVE, CSIQ, TID2013 and LIVE Challenge pipelines).
 */
import type { PixelBox, RgbImage } from './decode.js';
import { resizeBilinear } from './resize.js';

export type ResizePresetName = 'seed' | 'native' | 'none';

/** How a preset resizes before cropping. */
export type ResizeSpec =
  { kind: 'fixed'; width: number; height: number } | { kind: 'short-side'; size: number } | { kind: 'none' };

export const RESIZE_PRESETS: Record<ResizePresetName, ResizeSpec> = {
  seed: { kind: 'fixed', width: 384, height: 512 },
  native: { kind: 'short-side', size: 384 },
  none: { kind: 'none' },
};

/** The preset the original used for a dataset key (KonIQ and the cross-dataset JSON sets resize; the rest do not). */
export function defaultPreset(key: string): ResizePresetName {
  return key === 'live' || key === 'csiq' || key === 'tid2013' || key === 'livec' ? 'none' : 'seed';
}

/** Target size of a resize spec for an image of `w` × `h`. */
export function targetSize(spec: ResizeSpec, w: number, h: number): [number, number] {
  if (spec.kind === 'fixed') return [spec.width, spec.height];
  if (spec.kind === 'none') return [w, h];
  const s = spec.size / Math.min(w, h);
  return w <= h ? [spec.size, Math.max(1, Math.round(h * s))] : [Math.max(1, Math.round(w * s)), spec.size];
}

/**
 * Applies the resize step of a preset. With `box` (a rectangle of the resized image, whose size `targetSize` gives),
 * only that rectangle is computed and returned: the same bytes as the whole resize cropped to it.
 */
export function applyResize(img: RgbImage, spec: ResizeSpec, box?: PixelBox): RgbImage {
  const [w, h] = targetSize(spec, img.width, img.height);
  if (box === undefined && w === img.width && h === img.height) return img;
  return resizeBilinear(img, w, h, box);
}

/** Python's round() (half to even), as torchvision's CenterCrop uses it. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** CenterCrop offsets: `top = round((H − size) / 2)`, `left = round((W − size) / 2)`. */
export function centerCrop(w: number, h: number, size: number): { top: number; left: number } {
  return { top: roundHalfEven((h - size) / 2), left: roundHalfEven((w - size) / 2) };
}

/** RandomCrop offsets: `top = randint(0, H − size)` and `left = randint(0, W − size)`, both inclusive, top drawn first. */
export function randomCrop(
  w: number,
  h: number,
  size: number,
  rng: () => number,
): { top: number; left: number } {
  const top = Math.floor(rng() * (h - size + 1));
  const left = Math.floor(rng() * (w - size + 1));
  return { top, left };
}

/** Cuts a `size` × `size` crop (after an optional horizontal flip of the whole image) as an RGB image. */
export function cropImage(img: RgbImage, top: number, left: number, size: number, flip: boolean): RgbImage {
  const out = new Uint8Array(size * size * 3);
  const W = img.width;
  for (let y = 0; y < size; y++) {
    const row = (top + y) * W;
    for (let x = 0; x < size; x++) {
      const sx = flip ? W - 1 - (left + x) : left + x;
      const s = (row + sx) * 3;
      const o = (y * size + x) * 3;
      out[o] = img.data[s];
      out[o + 1] = img.data[s + 1];
      out[o + 2] = img.data[s + 2];
    }
  }
  return { width: size, height: size, data: out };
}
