import type { ResizePresetName, ResizeSpec } from '@iqa-bench/data';
import type { BackendSelection, CropMode, ModelConfig, ScoreImageOptions } from '@iqa-bench/model';
import { isOnnxFile } from './checkpoint.js';
import type { Engine, EngineItem } from './engine.js';
import { ScorerError } from './errors.js';
import { IMAGE_EXTENSIONS, listImages, placed, prepareAhead, prepareImage } from './images.js';
import { onnxAvailable, onnxEngine } from './onnx.js';
import { PrepareThread } from './prepare-thread.js';
import { tfjsEngine } from './tfjs.js';
import type {
  FileJob,
  FileOutcome,
  ImageInput,
  Runtime,
  ScoreFilesOptions,
  ScoreOptions,
  ScorerOptions,
  ScoreResult,
} from './types.js';

/** How a scorer turns images into scores, with every default filled in. */
export interface ScoringSettings {
  preprocess: ResizePresetName | ResizeSpec;
  crops: number;
  mode: CropMode;
  seed: number | string;
  batchSize: number;
  maxPixels?: number;
}

/** A model ready to score images; make one with {@link createScorer}. */
export interface Scorer {
  /** The model's architecture. */
  readonly config: ModelConfig;
  /** The runtime that scores. */
  readonly runtime: Runtime;
  /** What was loaded, in one line (format, where the architecture came from, the architecture). */
  readonly description: string;
  /** The scoring settings (the options with their defaults). */
  readonly settings: Readonly<ScoringSettings>;
  /** tfjs: the TensorFlow.js backend in use and why. */
  readonly backend?: BackendSelection;
  /** onnx: the session's execution providers, and the `.onnx` file it runs (a cached export for other checkpoints). */
  readonly executionProviders?: string[];
  readonly onnxFile?: string;
  /** Scores one image: a path, its bytes, a decoded RGB image or a normalised one. */
  score(input: ImageInput, options?: ScoreOptions): Promise<ScoreResult>;
  /**
   * Scores a list of files, decoding ahead of the model; a file that cannot be read or scored becomes an error
   * outcome and the others are still scored. Outcomes are in list order; `onProgress` reports each as it finishes.
   */
  scoreFiles(files: readonly (string | FileJob)[], options?: ScoreFilesOptions): Promise<FileOutcome[]>;
  /** Scores the image files of a folder (sorted by name, not recursive); a folder without images is an error. */
  scoreFolder(dir: string, options?: ScoreFilesOptions): Promise<FileOutcome[]>;
  /** Frees the model (tfjs tensors, the onnxruntime session). */
  close(): Promise<void>;
}

/**
 * Images from which a runtime that blocks the main thread (onnx) has them prepared on a thread of their own: below,
 * starting the thread costs more than it saves.
 */
export const PREPARE_THREAD_MIN_IMAGES = 16;

const PRESET_NAMES = ['seed', 'native', 'none'];
const MODES = ['center', 'random', 'grid'];

function badOption(option: string, message: string): ScorerError {
  return new ScorerError(`${option}: ${message}`, { code: 'bad-option', option });
}

function positiveInt(option: string, v: number | undefined, fallback: number, max = Infinity): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1 || v > max)
    throw badOption(option, `expected an integer in [1, ${max}], got ${String(v)}`);
  return v;
}

function checkPreprocess(option: string, p: ResizePresetName | ResizeSpec): void {
  if (typeof p === 'string' ? !PRESET_NAMES.includes(p) : !['fixed', 'short-side', 'none'].includes(p?.kind))
    throw badOption(option, `expected ${PRESET_NAMES.join(', ')} or a resize spec, got ${JSON.stringify(p)}`);
}

function settingsOf(o: ScorerOptions): ScoringSettings {
  const mode = o.mode ?? 'center';
  if (!MODES.includes(mode)) throw badOption('mode', `expected ${MODES.join(', ')}, got '${String(mode)}'`);
  const preprocess = o.preprocess ?? 'seed';
  checkPreprocess('preprocess', preprocess);
  if (o.maxPixels !== undefined) positiveInt('maxPixels', o.maxPixels, 0);
  return {
    preprocess,
    crops: positiveInt('crops', o.crops, 1),
    mode,
    seed: o.seed ?? 0,
    batchSize: positiveInt('batchSize', o.batchSize, 8),
    ...(o.maxPixels !== undefined ? { maxPixels: o.maxPixels } : {}),
  };
}

/** The runtime a checkpoint runs on: the one asked for, or (unset) onnx for a `.onnx` file, else tfjs. */
export async function resolveRuntime(
  checkpoint: string,
  runtime: ScorerOptions['runtime'],
): Promise<Runtime> {
  if (runtime === undefined) return isOnnxFile(checkpoint) ? 'onnx' : 'tfjs';
  if (runtime === 'tfjs' || runtime === 'onnx') return runtime;
  if (runtime === 'auto') return isOnnxFile(checkpoint) || (await onnxAvailable()) ? 'onnx' : 'tfjs';
  throw badOption('runtime', `expected tfjs, onnx or auto, got '${String(runtime)}'`);
}

/**
 * Loads a checkpoint as a scorer, in one call (like pyiqa's `create_metric` or tfjs-models' `load`):
 *
 * ```js
 * const m = await createScorer({ checkpoint: 'koniq.safetensors' });
 * const { score } = await m.score('photo.jpg');
 * await m.close();
 * ```
 *
 * Preprocessing follows the original's test protocol unless set: the image resized to 512×384 (`preprocess: 'seed'`),
 * ImageNet-normalised, `crops` crops of the model's input size, the score the mean of the crop scores.
 */
export async function createScorer(options: ScorerOptions): Promise<Scorer> {
  if (typeof options?.checkpoint !== 'string' || options.checkpoint === '')
    throw badOption('checkpoint', 'expected the path of a checkpoint file or folder');
  const settings = settingsOf(options);
  const workers = options.workers === undefined ? undefined : positiveInt('workers', options.workers, 1, 64);
  const runtime = await resolveRuntime(options.checkpoint, options.runtime);
  const engine: Engine =
    runtime === 'onnx'
      ? await onnxEngine(options.checkpoint, {
          ...(options.executionProviders ? { executionProviders: options.executionProviders } : {}),
          ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
          ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
          ...(options.limits ? { limits: options.limits } : {}),
          batchSize: settings.batchSize,
          ...(options.onLog ? { onLog: options.onLog } : {}),
        })
      : await tfjsEngine(options.checkpoint, {
          ...(options.backend !== undefined ? { backend: options.backend } : {}),
          ...(workers !== undefined ? { workers } : {}),
          ...(options.limits ? { limits: options.limits } : {}),
          ...(options.onLog ? { onLog: options.onLog } : {}),
        });
  return new EngineScorer(engine, settings, options.onLog);
}

class EngineScorer implements Scorer {
  private closed = false;
  readonly config: ModelConfig;
  readonly runtime: Runtime;
  readonly description: string;
  readonly backend?: BackendSelection;
  readonly executionProviders?: string[];
  readonly onnxFile?: string;

  constructor(
    private readonly engine: Engine,
    readonly settings: Readonly<ScoringSettings>,
    private readonly onLog?: (message: string) => void,
  ) {
    this.config = engine.config;
    this.runtime = engine.runtime;
    this.description = engine.description;
    if (engine.backend) this.backend = engine.backend;
    if (engine.executionProviders) this.executionProviders = engine.executionProviders;
    if (engine.onnxFile) this.onnxFile = engine.onnxFile;
  }

  private check(): void {
    if (this.closed) throw new ScorerError('the scorer is closed', { code: 'closed' });
  }

  private imageOptions(id: string, o: ScoreOptions = {}): ScoreImageOptions {
    const s = this.settings;
    const mode = o.mode ?? s.mode;
    if (!MODES.includes(mode)) throw badOption('mode', `expected ${MODES.join(', ')}, got '${String(mode)}'`);
    return {
      crops: positiveInt('crops', o.crops, s.crops),
      mode,
      seed: `${s.seed}/${id}`,
      batchSize: positiveInt('batchSize', o.batchSize, s.batchSize),
    };
  }

  private preparation(preprocess: ResizePresetName | ResizeSpec | undefined, name?: string) {
    const p = preprocess ?? this.settings.preprocess;
    if (preprocess !== undefined) checkPreprocess('preprocess', preprocess);
    return {
      preprocess: p,
      cropSize: this.config.backbone.imgSize,
      ...(this.settings.maxPixels !== undefined ? { maxPixels: this.settings.maxPixels } : {}),
      ...(name !== undefined ? { name } : {}),
    };
  }

  async score(input: ImageInput, options: ScoreOptions = {}): Promise<ScoreResult> {
    this.check();
    const id = options.id ?? (typeof input === 'string' ? input : '');
    const imageOptions = this.imageOptions(id, options);
    const p = await prepareImage(input, this.preparation(options.preprocess, options.name), imageOptions);
    return placed(await this.engine.scoreImage(p.image, p.options), p.offset);
  }

  async scoreFiles(
    files: readonly (string | FileJob)[],
    options: ScoreFilesOptions = {},
  ): Promise<FileOutcome[]> {
    this.check();
    if (options.preprocess !== undefined) checkPreprocess('preprocess', options.preprocess);
    const jobs = files.map((f) => (typeof f === 'string' ? { path: f } : f));
    const outcomes: FileOutcome[] = new Array(jobs.length);
    let done = 0;
    const finish = (index: number, o: Omit<FileOutcome, 'file'>): void => {
      const file = jobs[index].path;
      outcomes[index] = { file, ...o } as FileOutcome;
      options.onProgress?.({
        done: ++done,
        total: jobs.length,
        index,
        file,
        ...(o.error ? { error: o.error } : {}),
      });
    };
    const failed = (index: number, e: unknown): Error => {
      const path = jobs[index].path;
      const err = e instanceof Error ? e : new Error(String(e));
      return err.message.includes(path) ? err : new Error(`${path}: ${err.message}`, { cause: err });
    };
    const runner = await this.engine.many(jobs.length);
    const thread =
      runner !== null && this.engine.blocksMainThread && jobs.length >= PREPARE_THREAD_MIN_IMAGES
        ? new PrepareThread()
        : null;
    // With a preparation thread, two batches' worth are asked for at once: the main thread cannot ask for more while a
    // batch runs, and the thread should not run dry before the next batch is full.
    const ahead = runner === null ? 1 : thread ? Math.max(4, 2 * this.settings.batchSize) : 4;
    if (thread) this.onLog?.('preparing the images on a worker thread (onnxruntime runs on the main thread)');
    const prepare = (i: number) => {
      const p = this.preparation(jobs[i].preprocess ?? options.preprocess);
      const crops = this.imageOptions(this.id(jobs[i]));
      return thread ? thread.prepare(jobs[i].path, p, crops) : prepareImage(jobs[i].path, p, crops);
    };
    const prepared = prepareAhead(jobs.length, prepare, ahead);
    if (runner === null) {
      for await (const p of prepared) {
        if (p.error) {
          finish(p.index, { error: p.error });
          continue;
        }
        try {
          const score = placed(await this.engine.scoreImage(p.image, p.options), p.offset);
          finish(p.index, { score });
        } catch (e) {
          finish(p.index, { error: failed(p.index, e) });
        }
      }
      return outcomes;
    }
    // Images that could be prepared go to the runner; `sent` maps its indices back to the list and their offsets.
    const sent: { index: number; offset: [number, number] }[] = [];
    const items = async function* (this: EngineScorer): AsyncGenerator<EngineItem> {
      for await (const p of prepared) {
        if (p.error) {
          finish(p.index, { error: p.error });
          continue;
        }
        sent.push({ index: p.index, offset: p.offset });
        yield { image: p.image, options: p.options, name: jobs[p.index].path };
      }
    }.call(this);
    try {
      await runner.scoreImages(items, (k, score) =>
        finish(sent[k].index, { score: placed(score, sent[k].offset) }),
      );
    } finally {
      await runner.close();
      await thread?.close();
    }
    return outcomes;
  }

  private id(job: FileJob): string {
    return job.id ?? job.path;
  }

  async scoreFolder(dir: string, options: ScoreFilesOptions = {}): Promise<FileOutcome[]> {
    this.check();
    let files: string[];
    try {
      files = await listImages(dir);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (e as Error).message;
      throw new ScorerError(`${dir}: ${why}`, { code: 'no-images', file: dir, cause: e });
    }
    if (files.length === 0)
      throw new ScorerError(`${dir}: no images (${IMAGE_EXTENSIONS.join(', ')}) in this folder`, {
        code: 'no-images',
        file: dir,
      });
    return this.scoreFiles(files, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.engine.close();
  }
}
