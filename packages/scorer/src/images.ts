import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type * as DataApi from '@iqa-bench/data';
import type { ResizePresetName, ResizeSpec, RgbImage } from '@iqa-bench/data';
import type { PixelBox } from '@iqa-bench/data/image';
import type { NormalizedImage, ScoreImageOptions } from '@iqa-bench/model';
import type { ImageInput } from './types.js';

/** File extensions read from a folder (the formats `@iqa-bench/data` decodes). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff'];

/** The image files of a folder: sorted by name, not recursive. */
export async function listImages(dir: string): Promise<string[]> {
  const names = (await readdir(dir))
    .filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()))
    .sort();
  return names.map((n) => join(dir, n));
}

/** How an input becomes what the model sees. */
export interface Preparation {
  preprocess: ResizePresetName | ResizeSpec;
  maxPixels?: number;
  /** The model's crop side: a smaller image is an error naming it. */
  cropSize: number;
  name?: string;
}

/** An input made ready for the model, with the crop options to score it with. */
export interface PreparedImage {
  image: NormalizedImage;
  /**
   * The crop options for `image`: those asked for, or, when only the part of the resized image the crops cover was
   * computed, the crops' corners in that part (`origins`).
   */
  options: ScoreImageOptions;
  /** Where `image` lies in the whole resized image, [top, left]; [0, 0] when it is the whole image. */
  offset: [number, number];
}

function isImageObject(x: ImageInput): x is RgbImage | NormalizedImage {
  return typeof x === 'object' && !(x instanceof Uint8Array) && x !== null && 'width' in x;
}

/**
 * Decodes (a path or bytes), resizes and ImageNet-normalises an input; a NormalizedImage (Float32Array data) is taken
 * as it is. Only the part of the resized image that the crops of `crops` cover is resized and normalised (the same
 * values as the whole image cropped; one centre crop of a 512×384 resize is a quarter of the work). The image is
 * checked against the crop size.
 */
export async function prepareImage(
  input: ImageInput,
  p: Preparation,
  crops: ScoreImageOptions,
): Promise<PreparedImage> {
  const data = await import('@iqa-bench/data');
  const { resizeBilinear, sourceBox, targetSize } = await import('@iqa-bench/data/image');
  const { scoreCropOrigins } = await import('@iqa-bench/model/browser');
  const name =
    typeof input === 'string' ? input : (p.name ?? (input instanceof Uint8Array ? '<buffer>' : '<image>'));
  const spec = typeof p.preprocess === 'string' ? data.RESIZE_PRESETS[p.preprocess] : p.preprocess;
  if (spec === undefined) throw new Error(`preprocess: unknown preset '${String(p.preprocess)}'`);
  /** For an image of `w` × `h`: its resized size, the crops there, the part they cover and the input that part reads. */
  const plan = (w: number, h: number): Plan => {
    const [width, height] = targetSize(spec, w, h);
    checkCropSize(name, width, height, p.cropSize);
    const origins = scoreCropOrigins(height, width, p.cropSize, crops);
    const box = coveringBox(origins, p.cropSize);
    return { inW: w, inH: h, width, height, origins, box, source: sourceBox(w, h, width, height, box) };
  };
  if (isImageObject(input)) {
    const { width, height } = input;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
      throw new Error(`${name}: width and height must be positive integers, got ${width}x${height}`);
    if (!(input.data instanceof Uint8Array) && !(input.data instanceof Float32Array))
      throw new Error(`${name}: data must be a Uint8Array (RGB bytes) or a Float32Array (normalised RGB)`);
    if (input.data.length !== width * height * 3)
      throw new Error(
        `${name}: data has ${input.data.length} values, expected width·height·3 = ${width * height * 3} (RGB, row-major)`,
      );
    if (input.data instanceof Float32Array) {
      checkCropSize(name, width, height, p.cropSize);
      return { image: input as NormalizedImage, options: crops, offset: [0, 0] };
    }
    const pl = plan(width, height);
    return finish(data, resizeBilinear(input as RgbImage, pl.width, pl.height, pl.box), pl, crops);
  }
  // Only the input rectangle that the crops' part of the resize reads is decoded (planned from the header).
  let planned: Plan | undefined;
  const rgb = await data.decodeImage(input, {
    ...(p.maxPixels !== undefined ? { maxPixels: p.maxPixels } : {}),
    ...(typeof input === 'string' ? {} : { name }),
    region: (w, h) => (planned = plan(w, h)).source,
  });
  if (planned === undefined) throw new Error(`${name}: the image was decoded without its size`);
  const { source, inW, inH } = planned;
  const part = resizeBilinear(rgb, planned.width, planned.height, planned.box, {
    left: source.left,
    top: source.top,
    width: inW,
    height: inH,
  });
  return finish(data, part, planned, crops);
}

interface Plan {
  inW: number;
  inH: number;
  width: number;
  height: number;
  origins: [number, number][];
  box: PixelBox;
  source: PixelBox;
}

/** The normalised part and its crop options (the corners moved into it when it is not the whole image). */
function finish(data: typeof DataApi, part: RgbImage, pl: Plan, crops: ScoreImageOptions): PreparedImage {
  const image = { width: part.width, height: part.height, data: data.toFloat32(part, 'imagenet') };
  const { box } = pl;
  if (box.width === pl.width && box.height === pl.height) return { image, options: crops, offset: [0, 0] };
  return {
    image,
    options: {
      ...crops,
      origins: pl.origins.map(([y, x]) => [y - box.top, x - box.left] as [number, number]),
    },
    offset: [box.top, box.left],
  };
}

function checkCropSize(name: string, width: number, height: number, cropSize: number): void {
  if (width < cropSize || height < cropSize)
    throw new Error(`${name}: image ${width}x${height} is smaller than the ${cropSize}x${cropSize} crop`);
}

/** The smallest rectangle that holds every `size`-pixel crop at `origins` ([y, x] corners). */
function coveringBox(origins: readonly [number, number][], size: number): PixelBox {
  const top = Math.min(...origins.map((o) => o[0]));
  const left = Math.min(...origins.map((o) => o[1]));
  const bottom = Math.max(...origins.map((o) => o[0])) + size;
  const right = Math.max(...origins.map((o) => o[1])) + size;
  return { left, top, width: right - left, height: bottom - top };
}

/** A result of scoring a PreparedImage, with its crop corners in the whole resized image. */
export function placed<T extends { origins: [number, number][] }>(result: T, offset: [number, number]): T {
  const [top, left] = offset;
  if (top === 0 && left === 0) return result;
  return { ...result, origins: result.origins.map(([y, x]) => [y + top, x + left] as [number, number]) };
}

/** One prepared item of a list, in list order: the image, or why it could not be prepared. */
export type Prepared =
  ({ index: number; error?: undefined } & PreparedImage) | { index: number; error: Error };

/**
 * Prepares `n` items in order, up to `ahead` images ahead of the one the consumer is at: decoding runs in libuv's pool
 * while the model runs, and at most `ahead + 1` decoded images are held at a time. One image is decoded at a time
 * (libvips reports an error through a buffer that a concurrent decode can clear: the reason would be lost).
 */
export async function* prepareAhead(
  n: number,
  prepare: (index: number) => Promise<PreparedImage>,
  ahead: number,
): AsyncGenerator<Prepared> {
  const pending: Promise<Prepared>[] = [];
  let next = 0;
  let previous: Promise<unknown> = Promise.resolve();
  const start = (): void => {
    const index = next++;
    const p = previous.then(() => prepare(index));
    previous = p.catch(() => undefined);
    pending.push(
      p.then(
        (prepared) => ({ index, ...prepared }),
        (e: unknown) => ({ index, error: e instanceof Error ? e : new Error(String(e)) }),
      ),
    );
  };
  while (next < n && pending.length <= ahead) start();
  while (pending.length > 0) {
    const item = await (pending.shift() as Promise<Prepared>);
    while (next < n && pending.length <= ahead) start();
    yield item;
  }
}
