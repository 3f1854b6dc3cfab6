/**
 * Scoring images with an exported model, whatever runs it (onnxruntime-node, onnxruntime-web): the crops of
 * @iqa-bench/model's scoreImage (its scoreCropOrigins, so the same seeds give the same crops), copied straight into NCHW
 * batches that span images, and the mean of the crop scores per image. No Node imports: the browser entry uses it too.
 */
import {
  scoreCropOrigins,
  type ImageScore,
  type ModelConfig,
  type NormalizedImage,
  type ScoreImageOptions,
} from '@iqa-bench/model/browser';

/** One image to score and its crop options (as for scoreImage). */
export interface ScoreItem {
  image: NormalizedImage;
  options?: ScoreImageOptions;
}

/** scoreImage's result, plus the mean over the crops of the attention fusion weights (attention fusion only). */
export type OnnxImageScore = ImageScore & { fusionWeights?: number[] };

export interface ScoreImagesOptions {
  /** Called once per image as soon as its last crop is scored (in input order). */
  onResult?: (index: number, s: OnnxImageScore) => void;
  /** Crops per forward pass, across images (default: the first item's options.batchSize, else 8). */
  batchSize?: number;
}

/** A model file opened for scoring. */
export interface OnnxScorer {
  /** The model file (or URL, or the name given for bytes). */
  readonly file: string;
  /** The model's config, from the file's metadata. */
  readonly config: ModelConfig;
  /** sha256 of the checkpoint the model was exported from, when the file records it. */
  readonly checkpointSha256?: string;
  /** The execution providers the session was created with, in order of preference. */
  readonly executionProviders: string[];
  /**
   * Scores one image with the same contract and the same crops as @iqa-bench/model's scoreImage: K crops (center,
   * seeded random or grid) in batches of `options.batchSize` (default 8), the mean of the crop scores.
   */
  scoreImage(image: NormalizedImage, options?: ScoreImageOptions): Promise<OnnxImageScore>;
  /**
   * Scores many images, batching crops across images (full batches of `batchSize` crops, the last one smaller);
   * results in input order, `onResult` called per image as it completes. Items are pulled one at a time, so an
   * (async) iterable that decodes lazily keeps only the images of the current batch in memory.
   */
  scoreImages(
    images: Iterable<ScoreItem> | AsyncIterable<ScoreItem>,
    opts?: ScoreImagesOptions,
  ): Promise<OnnxImageScore[]>;
  /** Releases the session; later calls fail. */
  close(): Promise<void>;
}

/** What a runtime returns for one batch of `count` crops. */
export interface BatchOutput {
  /** `count` scores. */
  score: ArrayLike<number>;
  /** `count × 4` weights, or null for a model without attention fusion. */
  fusionWeights: ArrayLike<number> | null;
}

/** Runs `count` NCHW crops (`nchw.length === count · 3 · size²`) through the model. */
export type RunBatch = (nchw: Float32Array, count: number) => Promise<BatchOutput>;

/**
 * Copies the crop at (y0, x0) of an HWC image into `out` at `offset` as CHW (the model input's layout).
 * The caller has checked that the crop lies inside the image.
 */
export function copyCropNchw(
  image: NormalizedImage,
  y0: number,
  x0: number,
  size: number,
  out: Float32Array,
  offset: number,
): void {
  const { width, data } = image;
  const plane = size * size;
  for (let y = 0; y < size; y++) {
    let src = ((y0 + y) * width + x0) * 3;
    let dst = offset + y * size;
    for (let x = 0; x < size; x++, src += 3, dst++) {
      out[dst] = data[src];
      out[dst + plane] = data[src + 1];
      out[dst + 2 * plane] = data[src + 2];
    }
  }
}

function checkImage(image: NormalizedImage): void {
  const { width, height, data } = image;
  if (!(data instanceof Float32Array))
    throw new Error('image data must be a Float32Array (HWC, RGB, ImageNet-normalised)');
  if (data.length !== width * height * 3)
    throw new Error(`image data has ${data.length} values, expected width·height·3 = ${width * height * 3}`);
}

function checkBatchSize(batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  return batchSize;
}

interface Pending {
  origins: [number, number][];
  cropScores: number[];
  fusion: number[][] | null;
  left: number;
}

/** The part of a scorer that does not depend on the runtime; `run` does one batch. */
export class CropScorer {
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private buffer = new Float32Array(0);

  constructor(
    private readonly file: string,
    private readonly size: number,
    private readonly fusion: boolean,
    private readonly run: RunBatch,
  ) {}

  /** Marks the scorer closed once the calls in flight are done; resolves then. */
  async close(release: () => Promise<void>): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    this.buffer = new Float32Array(0);
    await release();
  }

  async scoreImage(image: NormalizedImage, options: ScoreImageOptions = {}): Promise<OnnxImageScore> {
    const [r] = await this.scoreImages([{ image, options }], { batchSize: options.batchSize ?? 8 }, false);
    return r;
  }

  /** Calls run one at a time (the crop buffer is shared), in the order they were made. */
  scoreImages(
    items: Iterable<ScoreItem> | AsyncIterable<ScoreItem>,
    opts: ScoreImagesOptions = {},
    nameImages = true,
  ): Promise<OnnxImageScore[]> {
    if (this.closed) return Promise.reject(new Error(`${this.file}: the scorer is closed`));
    const next = this.queue.catch(() => undefined).then(() => this.score(items, opts, nameImages));
    this.queue = next;
    return next;
  }

  private async score(
    items: Iterable<ScoreItem> | AsyncIterable<ScoreItem>,
    opts: ScoreImagesOptions,
    nameImages: boolean,
  ): Promise<OnnxImageScore[]> {
    const { size } = this;
    const cropLength = 3 * size * size;
    const results: OnnxImageScore[] = [];
    const pending = new Map<number, Pending>();
    let batchSize = opts.batchSize === undefined ? undefined : checkBatchSize(opts.batchSize);
    let slots: [number, number][] = [];

    const finish = (index: number, p: Pending): void => {
      pending.delete(index);
      const n = p.cropScores.length;
      const r: OnnxImageScore = {
        score: p.cropScores.reduce((a, b) => a + b, 0) / n,
        cropScores: p.cropScores,
        origins: p.origins,
      };
      if (p.fusion) {
        const sum = [0, 0, 0, 0];
        for (const w of p.fusion) for (let k = 0; k < 4; k++) sum[k] += w[k];
        r.fusionWeights = sum.map((s) => s / n);
      }
      results[index] = r;
      opts.onResult?.(index, r);
    };

    const flush = async (): Promise<void> => {
      if (slots.length === 0) return;
      const count = slots.length;
      const out = await this.run(this.buffer.subarray(0, count * cropLength), count);
      if (out.score.length !== count)
        throw new Error(`${this.file}: the model returned ${out.score.length} scores for ${count} crops`);
      for (let k = 0; k < count; k++) {
        const [index, crop] = slots[k];
        const p = pending.get(index)!;
        p.cropScores[crop] = out.score[k];
        if (p.fusion && out.fusionWeights)
          p.fusion[crop] = Array.from({ length: 4 }, (_, c) => out.fusionWeights![k * 4 + c]);
        if (--p.left === 0) finish(index, p);
      }
      slots = [];
    };

    let index = 0;
    for await (const item of items) {
      if (this.closed) throw new Error(`${this.file}: the scorer is closed`);
      const i = index++;
      const o = item.options ?? {};
      batchSize ??= checkBatchSize(o.batchSize ?? 8);
      if (this.buffer.length < batchSize * cropLength) this.buffer = new Float32Array(batchSize * cropLength);
      let origins: [number, number][];
      try {
        checkImage(item.image);
        origins = scoreCropOrigins(item.image.height, item.image.width, size, o);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new Error(nameImages ? `image ${i}: ${msg}` : msg, { cause: err });
      }
      const p: Pending = {
        origins,
        cropScores: new Array<number>(origins.length),
        fusion: this.fusion ? new Array<number[]>(origins.length) : null,
        left: origins.length,
      };
      pending.set(i, p);
      for (let j = 0; j < origins.length; j++) {
        copyCropNchw(item.image, origins[j][0], origins[j][1], size, this.buffer, slots.length * cropLength);
        slots.push([i, j]);
        if (slots.length === batchSize) await flush();
      }
    }
    await flush();
    return results;
  }
}

/** What a runtime gives to make a scorer: one batch of crops in, the two outputs out. */
export interface SessionLike {
  /** Runs `count` crops (NCHW, `size` × `size`) and returns the `score` output and `fusion_weights` when there is one. */
  run(nchw: Float32Array, count: number, size: number): Promise<BatchOutput>;
  release(): Promise<void>;
}

/** The scorer of a checked model file over a runtime's session (the same for onnxruntime-node and -web). */
export function scorerOf(
  file: string,
  info: { config: ModelConfig; checkpointSha256?: string; imgSize: number; fusionWeights: boolean },
  providers: string[],
  session: SessionLike,
): OnnxScorer {
  const size = info.imgSize;
  const core = new CropScorer(file, size, info.fusionWeights, (nchw, count) =>
    session.run(nchw, count, size),
  );
  return Object.freeze({
    file,
    config: info.config,
    ...(info.checkpointSha256 === undefined ? {} : { checkpointSha256: info.checkpointSha256 }),
    executionProviders: providers,
    scoreImage: (image, opts) => core.scoreImage(image, opts),
    scoreImages: (images, opts) => core.scoreImages(images, opts),
    close: () => core.close(() => session.release()),
  } satisfies OnnxScorer);
}
