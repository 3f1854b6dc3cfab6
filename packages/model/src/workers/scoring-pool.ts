/**
 * Scoring many images on several cores. The wasm backend is single-threaded in Node, so a ScoringPool runs N
 * worker_threads, each with its own backend and its own copy of the model, and hands out one image at a time to
 * whichever worker is free. Every image is scored on its own (`scoreImage` with its crops as the batch), so a score
 * does not depend on the worker, the number of workers or the order: the same bytes as a sequential scoreImage loop
 * on the same backend. Results come back in input order.
 */
import { availableParallelism } from 'node:os';
import type { BackendPreference, BackendSelection } from '../backend.js';
import type { ModelConfig } from '../config.js';
import type { IqaModel } from '../model.js';
import type { ImageScore, NormalizedImage, ScoreImageOptions } from '../score.js';
import { exportStateDict } from '../weights/load.js';
import type { PoolModelSource } from './protocol.js';
import { ReplicaPool } from './runtime.js';
import type scoringHandler from './scoring-handler.js';

export type { PoolModelSource } from './protocol.js';

export interface ScoringPoolOptions {
  model: PoolModelSource;
  /** Worker threads (default: min(2, available cores)). */
  workers?: number;
  /** Backend of every worker (default 'wasm'). */
  backend?: BackendPreference;
}

/** One image to score; its own options override the call's. */
export interface PoolImage {
  image: NormalizedImage;
  options?: ScoreImageOptions;
  /** Named in errors (e.g. the file name). */
  name?: string;
}

export interface PoolScore extends ImageScore {
  /** Index of the worker that scored it (informational: the score does not depend on it). */
  worker: number;
  /** Time the worker spent on it. */
  ms: number;
}

export interface ScoreImagesOptions {
  /** Options for every image (scoreImage's: crops, mode, seed, batchSize). */
  options?: ScoreImageOptions;
  /** Called as each image finishes (in completion order). */
  onResult?: (index: number, score: PoolScore) => void;
  /**
   * Move each image's pixel buffer to its worker instead of copying it (the caller's Float32Array is detached
   * afterwards). Default false.
   */
  transfer?: boolean;
}

type Input = PoolImage | NormalizedImage;

function isPoolImage(x: Input): x is PoolImage {
  return (x as PoolImage).image !== undefined;
}

export class ScoringPool {
  private busyCall = false;
  private closed = false;

  private constructor(
    private readonly pool: ReplicaPool<typeof scoringHandler>,
    /** The model's configuration (as the first worker built it). */
    readonly config: ModelConfig,
    /** What each worker's backend selection reported. */
    readonly backends: BackendSelection[],
  ) {}

  /** Number of worker threads. */
  get size(): number {
    return this.pool.size;
  }

  /** Starts the workers and builds the model in each; resolves when all are ready. */
  static async create(opts: ScoringPoolOptions): Promise<ScoringPool> {
    const n = opts.workers ?? Math.max(1, Math.min(2, availableParallelism()));
    if (!Number.isInteger(n) || n < 1 || n > 64) {
      throw new Error(`ScoringPool: workers must be an integer in [1, 64], got ${String(opts.workers)}`);
    }
    let pool: ReplicaPool<typeof scoringHandler>;
    try {
      pool = await ReplicaPool.start({
        handler: new URL('./scoring-handler.js', import.meta.url),
        source: opts.model,
        workers: n,
        backend: opts.backend ?? 'wasm',
        name: 'ScoringPool',
      });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new Error(`ScoringPool: a worker could not build the model: ${why}`, { cause: e });
    }
    return new ScoringPool(
      pool,
      pool.replicas[0].config,
      pool.replicas.map((r) => r.backend),
    );
  }

  /** A pool whose workers hold copies of `model` (its config and current weights). */
  static async fromModel(
    model: IqaModel,
    opts: Omit<ScoringPoolOptions, 'model'> = {},
  ): Promise<ScoringPool> {
    return ScoringPool.create({
      ...opts,
      model: { config: model.config, weights: exportStateDict(model.params) },
    });
  }

  /**
   * Scores every image (scoreImage semantics: K crops, mean score), on all workers, and returns the scores in input
   * order. Images are taken from `images` only as workers become free, so an async generator that decodes files
   * keeps at most one image per worker in memory. The first failure rejects, naming the image.
   */
  async scoreImages(
    images: Iterable<Input> | AsyncIterable<Input>,
    opts: ScoreImagesOptions = {},
  ): Promise<PoolScore[]> {
    if (this.closed) throw new Error('ScoringPool: the pool is closed');
    if (this.busyCall) throw new Error('ScoringPool: scoreImages is already running on this pool');
    this.busyCall = true;
    const iterator: AsyncIterator<Input> | Iterator<Input> =
      Symbol.asyncIterator in images
        ? (images as AsyncIterable<Input>)[Symbol.asyncIterator]()
        : (images as Iterable<Input>)[Symbol.iterator]();
    const results: PoolScore[] = [];
    let next = 0;
    let failure: Error | null = null;
    // Pulls are serialised so that images are numbered in iteration order.
    let pulling: Promise<unknown> = Promise.resolve();
    const pull = (): Promise<{ index: number; item: PoolImage } | null> => {
      const p = pulling.then(async () => {
        if (failure) return null;
        const r = await iterator.next();
        if (r.done) return null;
        const item = isPoolImage(r.value) ? r.value : { image: r.value };
        return { index: next++, item };
      });
      pulling = p.catch(() => undefined);
      return p;
    };
    const run = async (worker: number): Promise<void> => {
      for (;;) {
        const job = await pull();
        if (!job) return;
        const { index, item } = job;
        const label = `image #${index}${item.name ? ` (${item.name})` : ''}`;
        const options = { ...opts.options, ...item.options };
        const transfer = opts.transfer ? [item.image.data.buffer as ArrayBuffer] : [];
        let reply;
        try {
          reply = await this.pool.request(worker, 'score', { image: item.image, options }, transfer);
        } catch (e) {
          throw new Error(`${label}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
        const score: PoolScore = { ...reply.score, worker, ms: reply.ms };
        results[index] = score;
        opts.onResult?.(index, score);
      }
    };
    try {
      const runs = Array.from({ length: this.size }, (_, w) =>
        run(w).catch((e: unknown) => {
          failure ??= e instanceof Error ? e : new Error(String(e));
        }),
      );
      await Promise.all(runs);
      if (failure) throw failure;
      return results;
    } finally {
      this.busyCall = false;
      if (failure) await (iterator as AsyncIterator<Input>).return?.();
    }
  }

  /** Frees the workers' models and stops the threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
  }
}
