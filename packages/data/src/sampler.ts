/**
 * The patch sampler: N crops per image, seeded, assembled into contiguous NHWC float32 batches.
 *
 * Each patch's randomness (flip, crop offsets, jitter) comes from its own seedrandom stream keyed by
 * (seed, epoch, image id, patch index), so a seed gives the same crops on every machine whatever the batch size,
 * order or cache state. The training order of an epoch is a seeded shuffle of all (image, patch) pairs, like the
 * original's shuffled DataLoader over `patch_num` copies of each image. Images are decoded and resized once and kept
 * in a bytes-bounded LRU cache; crops are cut from the cached image.
 */
import { seededRandom, shuffleInPlace } from '@iqa-bench/core/seed';
import { DatasetError } from './errors.js';
import { ByteLru } from './cache.js';
import {
  decodeImage,
  normalizationTables,
  type DecodeOptions,
  type Normalization,
  type RgbImage,
} from './image/decode.js';
import { colorJitter, SEED_JITTER, type JitterRanges } from './image/jitter.js';
import {
  applyResize,
  centerCrop,
  cropImage,
  RESIZE_PRESETS,
  randomCrop,
  type ResizePresetName,
  type ResizeSpec,
} from './image/presets.js';
import type { IqaImage } from './types.js';

/**
 * THE TENSOR CONTRACT with @iqa-bench/model and @iqa-bench/train.
 *
 * `data` is one contiguous Float32Array in NHWC layout `[B, H, W, 3]` (row-major: index
 * `((b * H + y) * W + x) * 3 + c`), channels RGB, ImageNet-normalised: `(x / 255 − mean) / std` with
 * mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), computed in float32 as torchvision does. `shape` is
 * `[B, H, W, 3]` (H = W = 224 by default). `labels[b]` is the label of patch b, `imageIds[b]` its image id.
 */
export interface PatchBatch {
  data: Float32Array;
  shape: [number, number, number, number];
  labels: Float32Array;
  imageIds: string[];
}

/** The image fields the sampler needs. */
export type SamplerImage = Pick<IqaImage, 'id' | 'path' | 'score' | 'normScore'>;

export interface PatchSamplerOptions extends DecodeOptions {
  images: readonly SamplerImage[];
  /** `train`: random crops, flips, (optional) jitter, shuffled order. `test`: images in order, center (or random) crops. */
  mode: 'train' | 'test';
  /** Crops per image (the original: 25 in training, 25 in test). */
  patchesPerImage: number;
  seed: string | number;
  /** Resize preset (default `seed`) or an explicit resize spec. */
  preset?: ResizePresetName | ResizeSpec;
  /** Crop size (default 224). */
  patchSize?: number;
  /** Horizontal flips with p = 0.5 in training (default true). */
  hflip?: boolean;
  /** ColorJitter in training (default false, as in every final run of the original); true uses the original's ranges. */
  colorJitter?: boolean | JitterRanges;
  /** Test crops: `center` (default; all N patches identical, as in the original) or `random` (seeded, epoch-independent). */
  testCrop?: 'center' | 'random';
  /** Label per patch: the native `score` (default; the original trains on raw MOS) or `normScore` in [0, 1]. */
  label?: 'score' | 'normScore';
  /** Pixel scaling (default `imagenet`, the tensor contract). */
  normalization?: Normalization;
  /** Byte budget of the decoded-image cache (default 1 GiB). */
  cacheBytes?: number;
  /** Images decoded concurrently while assembling a batch (default 4). */
  concurrency?: number;
}

interface PatchRef {
  image: number;
  patch: number;
}

export interface BatchOptions {
  /** Epoch index (changes the order and, in training, the crops). Default 0. */
  epoch?: number;
  /** Keep a last batch smaller than batchSize (default true). */
  keepLast?: boolean;
}

export class PatchSampler {
  private readonly opts: Required<Omit<PatchSamplerOptions, 'maxPixels' | 'autoOrient' | 'colorJitter'>> & {
    jitter: JitterRanges | null;
  };
  private readonly resize: ResizeSpec;
  private readonly cache: ByteLru<RgbImage>;
  private readonly lut: [Float32Array, Float32Array, Float32Array];
  private readonly decode: DecodeOptions;

  constructor(options: PatchSamplerOptions) {
    const size = options.patchSize ?? 224;
    if (!Number.isInteger(options.patchesPerImage) || options.patchesPerImage < 1) {
      throw new RangeError(`patchesPerImage must be a positive integer, got ${options.patchesPerImage}`);
    }
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`patchSize must be a positive integer, got ${size}`);
    this.resize =
      typeof options.preset === 'object' ? options.preset : RESIZE_PRESETS[options.preset ?? 'seed'];
    if (!this.resize)
      throw new RangeError(`unknown preset ${JSON.stringify(options.preset)}; expected seed, native or none`);
    const jitter =
      options.colorJitter === true ? SEED_JITTER : options.colorJitter ? options.colorJitter : null;
    this.opts = {
      images: options.images,
      mode: options.mode,
      patchesPerImage: options.patchesPerImage,
      seed: options.seed,
      preset: options.preset ?? 'seed',
      patchSize: size,
      hflip: options.hflip ?? true,
      testCrop: options.testCrop ?? 'center',
      label: options.label ?? 'score',
      normalization: options.normalization ?? 'imagenet',
      cacheBytes: options.cacheBytes ?? 1024 * 1024 * 1024,
      concurrency: options.concurrency ?? 4,
      jitter,
    };
    this.decode = { maxPixels: options.maxPixels, autoOrient: options.autoOrient };
    this.cache = new ByteLru<RgbImage>(this.opts.cacheBytes, (im) => im.data.byteLength);
    this.lut = normalizationTables(this.opts.normalization);
  }

  /** Number of patches in one epoch (images × patchesPerImage). */
  get patchCount(): number {
    return this.opts.images.length * this.opts.patchesPerImage;
  }

  /** Cache statistics (hits, misses, bytes held, images held). */
  cacheStats(): { hits: number; misses: number; bytes: number; images: number } {
    return {
      hits: this.cache.hits,
      misses: this.cache.misses,
      bytes: this.cache.bytes,
      images: this.cache.size,
    };
  }

  /** The preprocessed (decoded + resized) image, cached. */
  async baseImage(index: number): Promise<RgbImage> {
    const im = this.opts.images[index];
    return this.cache.get(im.path, async () => {
      const decoded = await decodeImage(im.path, this.decode);
      const out = applyResize(decoded, this.resize);
      const s = this.opts.patchSize;
      if (out.width < s || out.height < s) {
        throw new DatasetError({
          code: 'too-small',
          file: im.path,
          message: `image is ${out.width}x${out.height} after the resize step (decoded ${decoded.width}x${decoded.height})`,
          expected: `at least ${s}x${s} for ${s}-pixel patches`,
        });
      }
      return out;
    });
  }

  /** The order of patches in an epoch. */
  order(epoch = 0): PatchRef[] {
    const n = this.opts.images.length;
    const p = this.opts.patchesPerImage;
    const refs: PatchRef[] = [];
    for (let i = 0; i < n; i++) for (let k = 0; k < p; k++) refs.push({ image: i, patch: k });
    if (this.opts.mode === 'test') return refs;
    return shuffleInPlace(refs, seededRandom('iqa-bench', 'order', this.opts.seed, epoch));
  }

  /** Writes patch `ref` into `out` at float offset `offset`. */
  private writePatch(base: RgbImage, ref: PatchRef, epoch: number, out: Float32Array, offset: number): void {
    const s = this.opts.patchSize;
    const id = this.opts.images[ref.image].id;
    let flip = false;
    let top: number;
    let left: number;
    let rng: (() => number) | null = null;
    if (this.opts.mode === 'train') {
      rng = seededRandom('iqa-bench', 'patch', this.opts.seed, epoch, id, ref.patch);
      flip = this.opts.hflip && rng() < 0.5;
      ({ top, left } = randomCrop(base.width, base.height, s, rng));
    } else if (this.opts.testCrop === 'random') {
      rng = seededRandom('iqa-bench', 'test-patch', this.opts.seed, id, ref.patch);
      ({ top, left } = randomCrop(base.width, base.height, s, rng));
    } else {
      ({ top, left } = centerCrop(base.width, base.height, s));
    }
    const [l0, l1, l2] = this.lut;
    if (this.opts.mode === 'train' && this.opts.jitter && rng) {
      const crop = colorJitter(cropImage(base, top, left, s, flip), rng, this.opts.jitter);
      const d = crop.data;
      for (let i = 0; i < d.length; i += 3) {
        out[offset + i] = l0[d[i]];
        out[offset + i + 1] = l1[d[i + 1]];
        out[offset + i + 2] = l2[d[i + 2]];
      }
      return;
    }
    const W = base.width;
    const d = base.data;
    let o = offset;
    for (let y = 0; y < s; y++) {
      const row = (top + y) * W;
      if (!flip) {
        let p = (row + left) * 3;
        for (let x = 0; x < s; x++, p += 3, o += 3) {
          out[o] = l0[d[p]];
          out[o + 1] = l1[d[p + 1]];
          out[o + 2] = l2[d[p + 2]];
        }
      } else {
        let p = (row + W - 1 - left) * 3;
        for (let x = 0; x < s; x++, p -= 3, o += 3) {
          out[o] = l0[d[p]];
          out[o + 1] = l1[d[p + 1]];
          out[o + 2] = l2[d[p + 2]];
        }
      }
    }
  }

  private async loadAll(indices: number[]): Promise<Map<number, RgbImage>> {
    const unique = [...new Set(indices)];
    const out = new Map<number, RgbImage>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < unique.length) {
        const i = unique[next++];
        out.set(i, await this.baseImage(i));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, unique.length) }, worker));
    return out;
  }

  /** Assembles one batch from patch references. */
  async assemble(refs: readonly PatchRef[], epoch = 0): Promise<PatchBatch> {
    const s = this.opts.patchSize;
    const per = s * s * 3;
    const data = new Float32Array(refs.length * per);
    const labels = new Float32Array(refs.length);
    const imageIds: string[] = [];
    const bases = await this.loadAll(refs.map((r) => r.image));
    refs.forEach((ref, b) => {
      const im = this.opts.images[ref.image];
      this.writePatch(bases.get(ref.image) as RgbImage, ref, epoch, data, b * per);
      labels[b] = this.opts.label === 'score' ? im.score : im.normScore;
      imageIds.push(im.id);
    });
    return { data, shape: [refs.length, s, s, 3], labels, imageIds };
  }

  /**
   * The batches of one epoch. Training: shuffled (image, patch) pairs. Test: images in the given order, each
   * image's `patchesPerImage` patches consecutive (so predictions reshape to `[images, patchesPerImage]`).
   */
  async *batches(batchSize: number, options: BatchOptions = {}): AsyncGenerator<PatchBatch> {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    const epoch = options.epoch ?? 0;
    const refs = this.order(epoch);
    const keepLast = options.keepLast ?? true;
    for (let start = 0; start < refs.length; start += batchSize) {
      const chunk = refs.slice(start, start + batchSize);
      if (chunk.length < batchSize && !keepLast) break;
      // Start decoding the next batch's images while this one is assembled.
      const upcoming = refs.slice(start + batchSize, start + 2 * batchSize);
      const prefetch = this.loadAll(upcoming.map((r) => r.image)).catch(() => undefined);
      yield await this.assemble(chunk, epoch);
      await prefetch;
    }
  }
}
