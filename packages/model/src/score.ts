/**
 * Scoring a whole image: K crops (center, seeded random, or a regular grid), run in batches through the model in eval
 * mode, scores averaged (the original's test protocol: the mean of the crop scores).
 */
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '@iqa-bench/core/seed';
import type { IqaModel } from './model.js';

/** An image as the model sees it: HWC float32, RGB, ImageNet-normalised (e.g. @iqa-bench/data's toFloat32). */
export interface NormalizedImage {
  width: number;
  height: number;
  /** `width * height * 3` values, `data[(y * width + x) * 3 + c]`. */
  data: Float32Array;
}

/**
 * - `center`: the center crop (torchvision CenterCrop). K identical crops have the mean of one, so it is computed once.
 * - `random`: K crops at seeded uniform offsets (torchvision RandomCrop: top in [0, H - size]).
 * - `grid`: K crops on a regular grid of ceil(√K) rows × ceil(K / rows) columns spanning the image, row-major.
 */
export type CropMode = 'center' | 'random' | 'grid';

export interface ScoreImageOptions {
  /** Number of crops K (default 1). */
  crops?: number;
  /**
   * The crops' top-left corners [y, x], given instead of choosing them: `crops`, `mode` and `seed` are then not read.
   * (A caller that prepared only the part of an image its crops cover passes their corners in that part.)
   */
  origins?: readonly (readonly [number, number])[];
  /** Default 'center'. */
  mode?: CropMode;
  /** Seed of the random crops (required for 'random'). */
  seed?: number | string;
  /** Crops per forward pass (default 8). */
  batchSize?: number;
  /**
   * Also return every crop's four stage fusion weights (`ImageScore.attention`; models with attention fusion only,
   * ignored for the others). Default false.
   */
  attention?: boolean;
}

export interface ImageScore {
  /** Mean of the crop scores. */
  score: number;
  cropScores: number[];
  /** Top-left corner [y, x] of every crop. */
  origins: [number, number][];
  /**
   * With `attention: true` on a model with attention fusion: each crop's softmax weights of the four backbone stages
   * (the `attention` of its forward pass; each row sums to 1).
   */
  attention?: number[][];
}

/** Top-left corners of the crops (see CropMode). */
export function cropOrigins(
  height: number,
  width: number,
  size: number,
  count: number,
  mode: CropMode,
  seed?: number | string,
): [number, number][] {
  if (height < size || width < size)
    throw new Error(`image ${width}x${height} is smaller than the ${size}x${size} crop`);
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`crops must be a positive integer, got ${count}`);
  const maxY = height - size;
  const maxX = width - size;
  switch (mode) {
    case 'center':
      // torchvision CenterCrop: int(round((H - size) / 2.0)) with Python's round-half-to-even.
      return [[roundHalfEven(maxY / 2), roundHalfEven(maxX / 2)]];
    case 'random': {
      if (seed === undefined) throw new Error("crop mode 'random' needs a seed");
      const rng = seededRandom(seed);
      return Array.from({ length: count }, () => [
        Math.floor(rng() * (maxY + 1)),
        Math.floor(rng() * (maxX + 1)),
      ]);
    }
    case 'grid': {
      const rows = Math.ceil(Math.sqrt(count));
      const cols = Math.ceil(count / rows);
      const at = (i: number, n: number, max: number): number =>
        n === 1 ? Math.round(max / 2) : Math.round((i * max) / (n - 1));
      const out: [number, number][] = [];
      for (let r = 0; r < rows && out.length < count; r++)
        for (let c = 0; c < cols && out.length < count; c++) out.push([at(r, rows, maxY), at(c, cols, maxX)]);
      return out;
    }
    default: {
      const never: never = mode;
      throw new Error(`unknown crop mode '${String(never)}' (expected center, random or grid)`);
    }
  }
}

/**
 * Checks crop corners given by the caller (ScoreImageOptions.origins): at least one, each [y, x] integers with the
 * crop inside the image. Returns a copy.
 */
function givenOrigins(
  origins: readonly (readonly [number, number])[],
  height: number,
  width: number,
  size: number,
): [number, number][] {
  if (!Array.isArray(origins) || origins.length === 0)
    throw new Error('origins must be a non-empty array of [y, x] crop corners');
  return origins.map((o, i) => {
    const [y0, x0] = Array.isArray(o) ? o : [NaN, NaN];
    if (
      !Number.isInteger(y0) ||
      !Number.isInteger(x0) ||
      y0 < 0 ||
      x0 < 0 ||
      y0 + size > height ||
      x0 + size > width
    )
      throw new Error(
        `origins[${i}]: a ${size}x${size} crop at ${JSON.stringify(o)} ([y, x]) must lie inside the ${width}x${height} image`,
      );
    return [y0, x0];
  });
}

/** The crops' top-left corners for ScoreImageOptions: `origins` when given (checked), else cropOrigins. */
export function scoreCropOrigins(
  height: number,
  width: number,
  size: number,
  opts: ScoreImageOptions,
): [number, number][] {
  return opts.origins
    ? givenOrigins(opts.origins, height, width, size)
    : cropOrigins(height, width, size, opts.crops ?? 1, opts.mode ?? 'center', opts.seed);
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Copies the crops at `origins` into one NHWC buffer [n, size, size, 3]. */
export function extractCrops(
  image: NormalizedImage,
  origins: readonly [number, number][],
  size: number,
): Float32Array {
  const { width, height, data } = image;
  if (data.length !== width * height * 3) {
    throw new Error(`image data has ${data.length} values, expected width·height·3 = ${width * height * 3}`);
  }
  const out = new Float32Array(origins.length * size * size * 3);
  const row = size * 3;
  origins.forEach(([y0, x0], i) => {
    if (y0 < 0 || x0 < 0 || y0 + size > height || x0 + size > width) {
      throw new Error(`crop at (${y0}, ${x0}) of size ${size} leaves the ${width}x${height} image`);
    }
    for (let y = 0; y < size; y++) {
      const src = ((y0 + y) * width + x0) * 3;
      out.set(data.subarray(src, src + row), (i * size + y) * row);
    }
  });
  return out;
}

/** Scores one image with K crops in eval mode; returns the mean and the per-crop scores. */
export async function scoreImage(
  model: IqaModel,
  image: NormalizedImage,
  opts: ScoreImageOptions = {},
): Promise<ImageScore> {
  const size = model.config.backbone.imgSize;
  const origins = scoreCropOrigins(image.height, image.width, size, opts);
  const batchSize = opts.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  const withAttention = opts.attention === true && model.config.fusion === 'attention';
  const cropScores: number[] = [];
  const attention: number[][] = [];
  for (let i = 0; i < origins.length; i += batchSize) {
    const part = origins.slice(i, i + batchSize);
    const x = tf.tensor4d(extractCrops(image, part, size), [part.length, size, size, 3]);
    const out = model.forward(x);
    x.dispose();
    try {
      cropScores.push(...(await out.score.data()));
      if (withAttention && out.attention) {
        const a = await out.attention.data();
        const stages = out.attention.shape[1];
        for (let k = 0; k < part.length; k++)
          attention.push(Array.from(a.subarray(k * stages, (k + 1) * stages)));
      }
    } finally {
      out.score.dispose();
      out.attention?.dispose();
    }
  }
  const score = cropScores.reduce((a, b) => a + b, 0) / cropScores.length;
  return withAttention ? { score, cropScores, origins, attention } : { score, cropScores, origins };
}
