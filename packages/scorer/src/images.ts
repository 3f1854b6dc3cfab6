import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type * as DataApi from '@iqa-bench/data';
import type { ResizePresetName, ResizeSpec, RgbImage } from '@iqa-bench/data';
import type { NormalizedImage } from '@iqa-bench/model';
import type { ImageInput } from './types.js';

type DataModule = typeof DataApi;

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

function isImageObject(x: ImageInput): x is RgbImage | NormalizedImage {
  return typeof x === 'object' && !(x instanceof Uint8Array) && x !== null && 'width' in x;
}

/**
 * Decodes (a path or bytes), resizes and ImageNet-normalises an input; an RGB image is resized and normalised, a
 * NormalizedImage (Float32Array data) is taken as it is. The result is checked against the crop size.
 */
export async function prepareImage(input: ImageInput, p: Preparation): Promise<NormalizedImage> {
  const data = await import('@iqa-bench/data');
  let image: NormalizedImage;
  const name =
    typeof input === 'string' ? input : (p.name ?? (input instanceof Uint8Array ? '<buffer>' : '<image>'));
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
    image =
      input.data instanceof Float32Array
        ? (input as NormalizedImage)
        : normalized(data, input as RgbImage, p.preprocess);
  } else {
    const rgb = await data.decodeImage(input, {
      ...(p.maxPixels !== undefined ? { maxPixels: p.maxPixels } : {}),
      ...(typeof input === 'string' ? {} : { name }),
    });
    image = normalized(data, rgb, p.preprocess);
  }
  if (image.width < p.cropSize || image.height < p.cropSize) {
    const msg = `image ${image.width}x${image.height} is smaller than the ${p.cropSize}x${p.cropSize} crop`;
    throw new Error(`${name}: ${msg}`);
  }
  return image;
}

function normalized(
  data: DataModule,
  rgb: RgbImage,
  preprocess: ResizePresetName | ResizeSpec,
): NormalizedImage {
  const spec = typeof preprocess === 'string' ? data.RESIZE_PRESETS[preprocess] : preprocess;
  if (spec === undefined) throw new Error(`preprocess: unknown preset '${String(preprocess)}'`);
  const img = data.applyResize(rgb, spec);
  return { width: img.width, height: img.height, data: data.toFloat32(img, 'imagenet') };
}

/** One prepared item of a list, in list order: the image, or why it could not be prepared. */
export type Prepared =
  { index: number; image: NormalizedImage; error?: undefined } | { index: number; error: Error };

/**
 * Prepares `n` items in order, up to `ahead` images ahead of the one the consumer is at: decoding runs in libuv's pool
 * while the model runs, and at most `ahead + 1` decoded images are held at a time. One image is decoded at a time
 * (libvips reports an error through a buffer that a concurrent decode can clear: the reason would be lost).
 */
export async function* prepareAhead(
  n: number,
  prepare: (index: number) => Promise<NormalizedImage>,
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
        (image) => ({ index, image }),
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
