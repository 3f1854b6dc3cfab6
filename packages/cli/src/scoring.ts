import { stat } from 'node:fs/promises';
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
import type { Runtime, RuntimePreference, Scorer } from '@iqa-bench/scorer';
import { POOL_MIN_IMAGES } from '@iqa-bench/scorer';
import { Option } from 'commander';
import type { Command } from 'commander';
import { CliError, ExitCode } from './errors.js';
import type { Output } from './io.js';
import { collect, nonNegativeInt, positiveInt } from './options.js';

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
  /** Worker threads (tfjs); unset: automatic (@iqa-bench/scorer's workerCount). */
  workers?: number;
  /** Unset: tfjs, or onnx for a .onnx checkpoint. */
  runtime?: RuntimePreference;
  /** onnxruntime's execution providers, in order (--execution-provider, repeatable). */
  executionProvider?: string[];
}

/** `--runtime`: what it means, for every command that has it. */
export const RUNTIME_HELP =
  'what runs the model: tfjs (TensorFlow.js, the reference numbers), onnx (onnxruntime, every core; within 1e-4 of tfjs; needs @iqa-bench/onnx and onnxruntime-node) or auto (onnx when installed, else tfjs) (default: tfjs, onnx for a .onnx checkpoint)';

/** Adds --runtime (and, for scoring, --execution-provider) to a command. */
export function runtimeOption(cmd: Command): Command {
  return cmd.addOption(new Option('--runtime <name>', RUNTIME_HELP).choices(['tfjs', 'onnx', 'auto']));
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
    )
    .addOption(new Option('--runtime <name>', RUNTIME_HELP).choices(['tfjs', 'onnx', 'auto']))
    .option(
      '--execution-provider <name>',
      'onnx: an onnxruntime execution provider (cpu, cuda, tensorrt, …); repeatable, in order of preference (default cpu)',
      collect,
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

/** `--checkpoint <file>` must exist: the error names the flag. Returns the absolute path. */
async function checkpointPath(out: Output, file: string, flag: string): Promise<string> {
  const path = out.path(file);
  try {
    await stat(path);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new CliError(`${flag} ${file}: ${why}`, ExitCode.badInput, { flag, file });
  }
  return path;
}

/**
 * Loads a checkpoint as a TensorFlow.js model (for commands that need the model itself, e.g. complexity): see
 * @iqa-bench/scorer's openModel. Errors name the file as typed.
 */
export async function openCheckpoint(
  out: Output,
  file: string,
  flag = '--checkpoint',
  limits: Partial<ReadLimits & ModelCostLimits> = {},
): Promise<OpenedModel> {
  const path = await checkpointPath(out, file, flag);
  const { openModel } = await import('@iqa-bench/scorer');
  try {
    const opened = await openModel(path, { limits });
    const description = `${file}: ${opened.description}`;
    out.log(`loaded ${description}`);
    return { model: opened.model, config: opened.config, description };
  } catch (err) {
    throw checkpointError(err, path, file);
  }
}

/** A scorer for `--checkpoint` with the scoring flags, and what the log and the result file say about it. */
export interface OpenedScorer {
  scorer: Scorer;
  /** `<file as typed>: <what was loaded>`. */
  description: string;
  /** The result file's `runtime` and `backend` (the TF.js backend, or onnxruntime's execution providers). */
  runtime: Runtime;
  backend: string;
}

/**
 * Loads `--checkpoint` as an @iqa-bench/scorer scorer on the runtime of `--runtime` and logs the backend (or execution
 * providers) and what was loaded. Errors are in the command's terms: the checkpoint as typed, the flags.
 */
export async function openScorer(
  out: Output,
  flags: ScoreFlags,
  file: string,
  limits: Partial<ReadLimits & ModelCostLimits> = {},
  options: { logBackend?: boolean } = {},
): Promise<OpenedScorer> {
  const path = await checkpointPath(out, file, '--checkpoint');
  const [{ createScorer, ScorerError }, tf] = await Promise.all([
    import('@iqa-bench/scorer'),
    import('@tensorflow/tfjs'),
  ]);
  // TensorFlow.js' own console hints ("install our node backend", …) are for developers: shown with --verbose only.
  if (!out.flags.verbose) tf.env().set('PROD', true);
  let scorer: Scorer;
  try {
    scorer = await createScorer({
      checkpoint: path,
      ...(flags.runtime !== undefined ? { runtime: flags.runtime } : {}),
      crops: flags.patches,
      mode: flags.crop,
      seed: flags.seed,
      batchSize: flags.batchSize,
      backend: flags.backend,
      ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
      ...(flags.maxPixels !== undefined ? { maxPixels: flags.maxPixels } : {}),
      ...(flags.executionProvider?.length ? { executionProviders: flags.executionProvider } : {}),
      limits,
      onLog: (line) => out.log(line),
    });
  } catch (err) {
    if (err instanceof ScorerError && err.code === 'runtime-unavailable')
      throw new CliError(err.message.replace(/^runtime onnx: /, '--runtime onnx: '), ExitCode.badInput, {
        cause: err,
        flag: '--runtime',
      });
    const m = await import('@iqa-bench/model');
    if (err instanceof m.BackendUnavailableError) throw err;
    throw checkpointError(err, path, file);
  }
  const backend =
    scorer.runtime === 'tfjs'
      ? (scorer.backend as BackendSelection).name
      : (scorer.executionProviders ?? []).join(',');
  if (options.logBackend !== false)
    out.log(
      scorer.runtime === 'tfjs'
        ? backendLine(scorer.backend as BackendSelection, out.flags.verbose === true)
        : `runtime onnx, execution providers ${backend}${out.flags.verbose && scorer.onnxFile ? ` (${scorer.onnxFile})` : ''}`,
    );
  const description = `${file}: ${scorer.description}`;
  out.log(`loaded ${description}`);
  if (scorer.runtime === 'onnx' && flags.workers !== undefined)
    out.warn('--workers: ignored on the onnx runtime (onnxruntime runs every core in one session)');
  return { scorer, description, runtime: scorer.runtime, backend };
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
  const name = [last.replace(/\.(safetensors|pkl|pth|pt|bin|json|onnx)$/i, '')];
  if (!GENERIC_STEMS.test(name[0])) return name[0];
  while (parts.length > 0 && name.length < 4) {
    const dir = parts.pop() as string;
    name.unshift(dir);
    if (!GENERIC_DIRS.test(dir)) break;
  }
  return name.join('/');
}

/** One line: backbone, size, fusion. */
export { describeConfig } from '@iqa-bench/scorer';

/** One image to score: its file, the id that keys its random crops, its preprocessing. */
export interface ScoreJob {
  path: string;
  id: string;
  preset: ResizePresetName;
}

/** The outcome per job, in job order: a score, or the error that kept it from being scored. */
export type ScoreOutcome = { score: ImageScore; error?: undefined } | { score?: undefined; error: unknown };

/**
 * Scores every job with the scorer (decoding ahead; on tfjs worker threads from --workers or automatically, on onnx
 * crops batched across images), with the progress display. An image that cannot be decoded or is smaller than the crop
 * becomes an error outcome and the others are still scored.
 */
export async function scoreMany(
  out: Output,
  scorer: Scorer,
  jobs: readonly ScoreJob[],
  label: string,
): Promise<ScoreOutcome[]> {
  const progress = out.progress(label, jobs.length);
  try {
    const outcomes = await scorer.scoreFiles(
      jobs.map((j) => ({ path: j.path, id: j.id, preprocess: j.preset })),
      { onProgress: () => progress.tick() },
    );
    return outcomes.map((o) => (o.score ? { score: o.score } : { error: o.error }));
  } finally {
    progress.stop();
  }
}
