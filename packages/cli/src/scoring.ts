import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { ResizePresetName } from '@iqa-bench/data';
import type {
  BackendPreference,
  BackendSelection,
  CropMode,
  ImageScore,
  IqaModel,
  ModelConfig,
  ModelCostLimits,
} from '@iqa-bench/model';
import type { ReadLimits } from '@iqa-bench/model/weights';
import { Option } from 'commander';
import type { Command } from 'commander';
import { CliError, ExitCode } from './errors.js';
import type { Output } from './io.js';
import { nonNegativeInt, positiveInt } from './options.js';

/** How images are turned into scores: the flags `predict`, `cross-dataset` and `eval` share. */
export interface ScoreFlags {
  patches: number;
  crop: CropMode;
  /** Unset: the original's preset for the dataset (predict: `seed`). */
  preprocess?: ResizePresetName;
  seed: number;
  batchSize: number;
  backend: BackendPreference;
  maxPixels?: number;
  /** Worker threads; unset: automatic (see workerCount). */
  workers?: number;
}

export function scoreOptions(cmd: Command, preprocessDefault: string): Command {
  return cmd
    .option('--patches <n>', 'crops per image; the score is the mean of their scores', positiveInt, 20)
    .addOption(
      new Option('--crop <mode>', 'center (K identical crops: computed once), random (seeded) or grid')
        .choices(['center', 'random', 'grid'])
        .default('center'),
    )
    .addOption(
      new Option(
        '--preprocess <preset>',
        `seed: the original's resize to 512x384 (H, W); native: shorter side 384; none: the image as it is (default: ${preprocessDefault})`,
      ).choices(['seed', 'native', 'none']),
    )
    .option(
      '--seed <n>',
      'seed of the random crops (each image draws from seed and its id)',
      nonNegativeInt,
      0,
    )
    .option('--batch-size <n>', 'crops per forward pass', positiveInt, 8)
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .option(
      '--max-pixels <n>',
      'refuse images with more pixels than this (decompression-bomb guard)',
      positiveInt,
    )
    .option(
      '--workers <n>',
      `worker threads scoring in parallel, each with its own backend (default: 2 on a single-threaded backend from ${POOL_MIN_IMAGES} images, else 1); the scores do not depend on it`,
      positiveInt,
    );
}

/**
 * The log line naming the backend: one short line (`backend wasm, 1 thread (tensorflow not available)`); with
 * `verbose`, the package and why each backend tried before it was not used.
 */
export function backendLine(sel: BackendSelection, verbose = false): string {
  const threads = sel.threads > 0 ? `, ${sel.threads} thread${sel.threads === 1 ? '' : 's'}` : '';
  const skipped = sel.attempts.filter((a) => !a.ok).map((a) => a.backend);
  const why = skipped.length > 0 ? ` (${[...new Set(skipped)].join(', ')} not available)` : '';
  const line = `backend ${sel.name}${threads}${why}`;
  if (!verbose) return line;
  const details = sel.attempts.filter((a) => !a.ok).map((a) => `\n  ${a.backend}: ${a.error ?? 'failed'}`);
  return `${line}; ${sel.package}: ${sel.reason}${details.join('')}`;
}

/** Selects the backend and names it in one log line (stderr; why the others were not used with --verbose). */
export async function useBackend(out: Output, pref: BackendPreference): Promise<BackendSelection> {
  const [{ selectBackend }, tf] = await Promise.all([import('@iqa-bench/model'), import('@tensorflow/tfjs')]);
  // TensorFlow.js' own console hints ("install our node backend", …) are for developers: shown with --verbose only.
  if (!out.flags.verbose) tf.env().set('PROD', true);
  const sel = await selectBackend(pref);
  out.log(backendLine(sel, out.flags.verbose === true));
  return sel;
}

export interface OpenedModel {
  model: IqaModel;
  config: ModelConfig;
  /** What the log and the result file say about the weights. */
  description: string;
}

/**
 * Loads a checkpoint as a model: safetensors, a PyTorch torch.save file (zip or legacy; read by a safe allow-list
 * unpickler that never executes the file), or a TensorFlow.js model folder / model.json. Strict: every tensor must
 * match. Errors name the file.
 */
export async function openCheckpoint(
  out: Output,
  file: string,
  flag = '--checkpoint',
  limits: Partial<ReadLimits & ModelCostLimits> = {},
): Promise<OpenedModel> {
  const m = await import('@iqa-bench/model');
  const path = out.path(file);
  let isDir = false;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new CliError(`${flag} ${file}: ${why}`, ExitCode.badInput, { flag, file });
  }
  try {
    const loaded =
      isDir || basename(path) === 'model.json'
        ? await m.loadTfjsModel(path, { limits })
        : await m.loadCheckpoint(path, { limits });
    const description = `${file}: ${loaded.format}${loaded.wrapper ? ` (under '${loaded.wrapper}')` : ''}, architecture ${loaded.configSource === 'metadata' ? 'from the file' : 'inferred from the tensors'}: ${describeConfig(loaded.config)}`;
    out.log(`loaded ${description}`);
    return { model: loaded.model, config: loaded.config, description };
  } catch (err) {
    throw checkpointError(err, path, file);
  }
}

/** A package's error about a checkpoint, naming the file as the user typed it. */
export function checkpointError(err: unknown, absolute: string, typed: string): CliError {
  const msg = err instanceof Error ? err.message : String(err);
  const named = msg.includes(absolute)
    ? msg.split(absolute).join(typed)
    : msg.includes(typed)
      ? msg
      : `${typed}: ${msg}`;
  return new CliError(named, ExitCode.badInput, { cause: err, file: typed });
}

/** File names training scripts give checkpoints: a label needs the folder they are in. */
const GENERIC_STEMS =
  /^(best|last|latest|final|model|checkpoint|weights|ckpt|summary|result|results)([-_].*)?$/i;
/** Folder names that say no more (a round or epoch of some run, a checkpoints folder): a label takes the next one up. */
const GENERIC_DIRS =
  /^((round|epoch|fold|seed|step|run)[-_]?\d+|checkpoints?|weights|ckpts?|models?|outputs?)$/i;

/**
 * A checkpoint's short name: its file stem (`runs/koniq-tiny.safetensors` → `koniq-tiny`), with the folders that tell
 * it apart when the stem says nothing (`runs/koniq/round-0/best.safetensors` → `koniq/round-0/best`); a TF.js
 * model.json is named by its folder.
 */
export function shortName(path: string): string {
  const parts = path.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  let last = parts.pop() ?? path;
  if (last === 'model.json') last = parts.pop() ?? last;
  const name = [last.replace(/\.(safetensors|pkl|pth|pt|bin|json)$/i, '')];
  if (!GENERIC_STEMS.test(name[0])) return name[0];
  while (parts.length > 0 && name.length < 4) {
    const dir = parts.pop() as string;
    name.unshift(dir);
    if (!GENERIC_DIRS.test(dir)) break;
  }
  return name.join('/');
}

/** One line: backbone, size, fusion. */
export function describeConfig(c: ModelConfig): string {
  const b = c.backbone;
  const backbone =
    b.kind === 'swin'
      ? `Swin (embed ${b.embedDim}, depths ${b.depths.join('-')}, heads ${b.numHeads.join('-')})`
      : `ResNet (layers ${b.layers.join('-')}, width ${b.baseWidth})`;
  return `${c.arch}, ${backbone}, ${b.imgSize}x${b.imgSize} input, fusion ${c.fusion}`;
}

/** Decodes, preprocesses and scores one image file. `id` keys its random crops (order-independent). */
export async function scoreFile(
  model: IqaModel,
  path: string,
  id: string,
  preset: ResizePresetName,
  flags: ScoreFlags,
): Promise<ImageScore> {
  const [data, m] = await Promise.all([import('@iqa-bench/data'), import('@iqa-bench/model')]);
  const rgb = await data.decodeImage(
    path,
    flags.maxPixels !== undefined ? { maxPixels: flags.maxPixels } : {},
  );
  const img = data.applyResize(rgb, data.RESIZE_PRESETS[preset]);
  return m.scoreImage(
    model,
    { width: img.width, height: img.height, data: data.toFloat32(img, 'imagenet') },
    { crops: flags.patches, mode: flags.crop, seed: `${flags.seed}/${id}`, batchSize: flags.batchSize },
  );
}

/** One image to score: its file, the id that keys its random crops, its preprocessing. */
export interface ScoreJob {
  path: string;
  id: string;
  preset: ResizePresetName;
}

/** The outcome per job, in job order: a score, or the error that kept it from being scored. */
export type ScoreOutcome = { score: ImageScore; error?: undefined } | { score?: undefined; error: unknown };

/** Images from which on `auto` uses two worker threads (below, starting them costs more than it saves). */
export const POOL_MIN_IMAGES = 16;

/** How many worker threads score `n` images: `--workers`, or on `auto` two for many images on a single-threaded backend. */
export function workerCount(flags: ScoreFlags, backend: BackendSelection, n: number): number {
  if (flags.workers !== undefined) return flags.workers;
  if (backend.threads > 1 || n < POOL_MIN_IMAGES) return 1;
  return Math.max(1, Math.min(2, availableParallelism()));
}

/**
 * Scores every job. One worker: in this thread. More: a ScoringPool of worker threads with copies of the model
 * (scores are the same bytes either way). Images are decoded here, one per free worker at a time; an image that
 * cannot be decoded or is smaller than the crop becomes an error outcome and the others are still scored.
 */
export async function scoreMany(
  out: Output,
  opened: OpenedModel,
  jobs: readonly ScoreJob[],
  flags: ScoreFlags,
  backend: BackendSelection,
  label: string,
): Promise<ScoreOutcome[]> {
  const outcomes: ScoreOutcome[] = new Array(jobs.length);
  const workers = workerCount(flags, backend, jobs.length);
  const progress = out.progress(label, jobs.length);
  try {
    if (workers === 1) {
      for (let i = 0; i < jobs.length; i++) {
        const j = jobs[i];
        try {
          outcomes[i] = { score: await scoreFile(opened.model, j.path, j.id, j.preset, flags) };
        } catch (error) {
          outcomes[i] = { error };
        }
        progress.tick();
      }
      return outcomes;
    }
    const [data, m] = await Promise.all([import('@iqa-bench/data'), import('@iqa-bench/model')]);
    const size = opened.config.backbone.imgSize;
    const pool = await m.ScoringPool.fromModel(opened.model, { workers, backend: backend.name });
    out.log(`scoring on ${pool.size} worker threads`);
    const sent: number[] = [];
    async function* images() {
      for (let i = 0; i < jobs.length; i++) {
        const j = jobs[i];
        try {
          const rgb = await data.decodeImage(
            j.path,
            flags.maxPixels !== undefined ? { maxPixels: flags.maxPixels } : {},
          );
          const img = data.applyResize(rgb, data.RESIZE_PRESETS[j.preset]);
          if (img.width < size || img.height < size) {
            throw new Error(`image ${img.width}x${img.height} is smaller than the ${size}x${size} crop`);
          }
          sent.push(i);
          yield {
            image: { width: img.width, height: img.height, data: data.toFloat32(img, 'imagenet') },
            name: j.path,
            options: {
              crops: flags.patches,
              mode: flags.crop,
              seed: `${flags.seed}/${j.id}`,
              batchSize: flags.batchSize,
            },
          };
        } catch (error) {
          outcomes[i] = { error };
          progress.tick();
        }
      }
    }
    try {
      const scores = await pool.scoreImages(images(), { transfer: true, onResult: () => progress.tick() });
      scores.forEach((s, k) => {
        outcomes[sent[k]] = { score: { score: s.score, cropScores: s.cropScores, origins: s.origins } };
      });
    } finally {
      await pool.close();
    }
    return outcomes;
  } finally {
    progress.stop();
  }
}
