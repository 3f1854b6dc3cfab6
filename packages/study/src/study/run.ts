/**
 * One run of a study, the same code locally and on a queue worker: train (resuming from the run folder's checkpoint),
 * then evaluate the selected weights of round 0 on the shared split's test part and on every evaluation set with
 * per-image predictions (`result.json`, a @iqa-bench/metrics result file), then record the hashes of what the run
 * produced (`study-run.json`), so that a file edited by hand afterwards is detected.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FolderLock } from '@iqa-bench/core/fs';
import { FolderLockedError, lockFolder, readFileBounded, writeJsonAtomic } from '@iqa-bench/core/fs';
import { mkdirSync } from 'node:fs';
import { parseStructuredText } from '@iqa-bench/core/text';
import type { IqaImage } from '@iqa-bench/data';
import type { DatasetResult, ResultFile } from '@iqa-bench/metrics';
import { datasetResult, RESULT_SCHEMA } from '@iqa-bench/metrics';
import type { RunSummary } from '@iqa-bench/train/run-folder';
import { z } from 'zod';
import { STUDY_VERSION } from '../queue/jobs.js';
import type { EvalSetSpec, RunSpec } from './resolve.js';
import { sha256 } from './resolve.js';

/** The files of a finished run, relative to its folder. */
export const SUMMARY_FILE = 'summary.json';
export const RESULT_FILE = 'result.json';
export const RUN_MANIFEST_FILE = 'study-run.json';
export const FAILURE_FILE = 'study-failed.json';
/** The files whose hashes the run manifest records (those present when the run finished). */
export const HASHED_FILES = [
  SUMMARY_FILE,
  RESULT_FILE,
  'metrics.jsonl',
  'config.json',
  'checkpoints/last.ckpt',
  'round-0/best.safetensors',
  'round-0/final.safetensors',
] as const;
/** The checkpoint evaluated for `result.json`. */
export const EVALUATED_WEIGHTS = 'round-0/best.safetensors';

const runManifestSchema = z.strictObject({
  format: z.literal('iqa-bench/study-run@1'),
  runId: z.string(),
  variant: z.string(),
  seed: z.number().int(),
  version: z.string(),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
});
export type RunManifest = z.output<typeof runManifestSchema>;

/** What a finished run reports (the job's return value on a queue). */
export interface RunOutcome {
  runId: string;
  /** `trained`: trained (or resumed) now; `reused`: it had finished already. */
  action: 'trained' | 'reused';
  seconds: number;
  /** The run's headline numbers: test SRCC / PLCC of the reported weights, and of the evaluation sets. */
  srcc: number | null;
  plcc: number | null;
  /** sha256 of each hashed file. */
  files: Record<string, string>;
}

async function fileHash(path: string): Promise<string> {
  return sha256(await readFile(path));
}

/** Reads and checks a run folder's manifest; undefined when there is none. Throws on a malformed one. */
export async function readRunManifest(runDir: string): Promise<RunManifest | undefined> {
  const file = join(runDir, RUN_MANIFEST_FILE);
  if (!existsSync(file)) return undefined;
  const text = (await readFileBounded(file, 1 << 20, 'run manifest')).toString('utf8');
  const res = runManifestSchema.safeParse(parseStructuredText(text, { file, format: 'json' }));
  if (!res.success) throw new Error(`${file}: not a study run manifest`);
  return res.data;
}

/** The files of a finished run whose bytes differ from what its manifest recorded (edited by hand, or damaged). */
export async function editedFiles(runDir: string, manifest: RunManifest): Promise<string[]> {
  const edited: string[] = [];
  for (const [rel, hash] of Object.entries(manifest.files)) {
    const path = join(runDir, rel);
    if (!existsSync(path) || (await fileHash(path)) !== hash) edited.push(rel);
  }
  return edited;
}

/**
 * Scores the run's selected weights on the shared split's test part and on every evaluation set, and writes
 * `result.json`. The scores are the trainer's own evaluation (mean of the configured test crops).
 */
export async function evaluateRun(spec: RunSpec, runDir: string): Promise<ResultFile> {
  const data = await import('@iqa-bench/data');
  const model = await import('@iqa-bench/model');
  const { asTrainable } = await import('@iqa-bench/train');
  const { evaluateSet, imageSet, localRunner } = await import('@iqa-bench/train/steps');
  const cfg = spec.config;
  await model.selectBackend(cfg.backend);
  const loaded = await model.loadCheckpoint(join(runDir, EVALUATED_WEIGHTS));
  const trainable = asTrainable(loaded.model);
  const runner = localRunner(trainable);
  try {
    const score = async (images: readonly IqaImage[], what: string) =>
      (await evaluateSet(runner, imageSet(cfg, images, 'test'), cfg, what)).scores;
    // Scores against the dataset's own MOS, non-finite scores dropped with their pairs (a diverged run still reports).
    const entry = (
      name: string,
      info: { key: string; split: string; lowerIsBetter: boolean },
      images: readonly IqaImage[],
      scores: Float64Array,
    ): DatasetResult =>
      datasetResult(
        name,
        { image: images.map((im) => im.id), score: Array.from(scores), mos: images.map((im) => im.score) },
        { ...info, nonFinite: 'drop' },
      );
    const ds = await data.loadDataset(cfg.dataset.kind, cfg.dataset.root, cfg.dataset.load);
    const manifest = await data.readSplitManifest(cfg.dataset.splitManifest!, ds);
    const test = data.partImages(ds, manifest, 'test');
    const datasets: DatasetResult[] = [
      entry(
        'test',
        { key: ds.key, split: 'test', lowerIsBetter: ds.scale.direction === 'lower-better' },
        test,
        await score(test, 'test'),
      ),
    ];
    for (const e of spec.evalSets) {
      const eds = await data.loadDataset(e.kind, e.root, e.load ?? {});
      datasets.push(
        entry(
          e.name,
          { key: eds.key, split: 'all', lowerIsBetter: eds.scale.direction === 'lower-better' },
          eds.images,
          await score(eds.images, e.name),
        ),
      );
    }
    const result: ResultFile = {
      schema: RESULT_SCHEMA,
      kind: 'study-run',
      producer: `@iqa-bench/study ${STUDY_VERSION}`,
      checkpoint: EVALUATED_WEIGHTS,
      settings: {
        run: spec.runId,
        variant: spec.variant,
        seed: spec.seed,
        patches: cfg.patches.test,
        patchSize: cfg.patches.size,
        crop: cfg.augmentation.testCrop,
        preprocess: cfg.dataset.preprocess,
        split: manifest.hash,
        backend: cfg.backend,
      },
      datasets,
    };
    await writeJsonAtomic(join(runDir, RESULT_FILE), result);
    return result;
  } finally {
    trainable.dispose();
  }
}

export interface ExecuteOptions {
  /** Stops the training at its next step (the run resumes from its last checkpoint when started again). */
  signal?: AbortSignal;
  /** Called after every optimizer step. */
  onStep?: (info: { epoch: number; step: number; stepsPerEpoch?: number }) => void;
}

/** Whether a run folder holds a finished run whose files are as its manifest recorded. */
export async function finishedRun(runDir: string, runId: string): Promise<RunManifest | undefined> {
  let manifest: RunManifest | undefined;
  try {
    manifest = await readRunManifest(runDir);
  } catch {
    return undefined;
  }
  if (manifest === undefined || manifest.runId !== runId) return undefined;
  return (await editedFiles(runDir, manifest)).length === 0 ? manifest : undefined;
}

async function headline(runDir: string): Promise<{ srcc: number | null; plcc: number | null }> {
  try {
    const r = JSON.parse(await readFile(join(runDir, RESULT_FILE), 'utf8')) as ResultFile;
    return { srcc: r.datasets[0]?.metrics.srcc ?? null, plcc: r.datasets[0]?.metrics.plcc ?? null };
  } catch {
    return { srcc: null, plcc: null };
  }
}

/**
 * Runs one study run into `runDir`: nothing when it finished already (its manifest and files intact); else trains
 * (resuming from its checkpoint), evaluates, and writes the manifest. A run whose finished files were edited by hand
 * is not retrained over: it is an error naming the files (remove the run folder to rerun it).
 */
export async function executeRun(
  spec: RunSpec,
  runDir: string,
  opts: ExecuteOptions = {},
): Promise<RunOutcome> {
  const lock = await lockRun(runDir, opts.signal);
  try {
    return await executeLocked(spec, runDir, opts);
  } finally {
    lock.release();
  }
}

/** The lock a run folder is executed under (besides the trainer's own, which ends with the training). */
export const RUN_LOCK_FILE = '.study.lock';

/**
 * Takes the run folder's execution lock, waiting while another live process holds it: a queue job handed to a second
 * worker while the first still runs it (its lock lost to a blocked event loop) waits for the first to stop, then
 * reuses or resumes its work, so a run is never executed twice at once. A lock of another host cannot be checked
 * and is waited for until `signal` aborts (remove the file by hand when that machine is known to be gone).
 */
async function lockRun(runDir: string, signal: AbortSignal | undefined): Promise<FolderLock> {
  mkdirSync(runDir, { recursive: true });
  for (;;) {
    try {
      return lockFolder(runDir, { name: RUN_LOCK_FILE, what: 'run folder' });
    } catch (err) {
      if (!(err instanceof FolderLockedError)) throw err;
      if (signal?.aborted)
        throw new Error(`run folder ${runDir} is in use by process ${err.pid} on ${err.host}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function executeLocked(spec: RunSpec, runDir: string, opts: ExecuteOptions): Promise<RunOutcome> {
  const t0 = Date.now();
  const existing = await readRunManifest(runDir).catch(() => undefined);
  if (existing !== undefined && existing.runId === spec.runId) {
    const edited = await editedFiles(runDir, existing);
    if (edited.length > 0) {
      throw new Error(
        `run ${spec.runId} (${spec.variant}, seed ${spec.seed}): ${edited.join(', ')} changed since the run finished (edited by hand?); remove ${runDir} to run it again`,
      );
    }
    return {
      runId: spec.runId,
      action: 'reused',
      seconds: 0,
      ...(await headline(runDir)),
      files: existing.files,
    };
  }
  if (!existsSync(spec.config.dataset.splitManifest!)) {
    throw new Error(
      `run ${spec.runId}: the study's shared split ${spec.config.dataset.splitManifest} is missing`,
    );
  }
  const t = await import('@iqa-bench/train');
  const { readRunSummary } = await import('@iqa-bench/train/run-folder');
  let summary: RunSummary | undefined;
  try {
    summary = await readRunSummary(join(runDir, SUMMARY_FILE));
  } catch {
    summary = undefined;
  }
  if (summary === undefined) {
    await t.runTraining(spec.config, runDir, {
      progress: t.createProgress({ mode: 'quiet' }),
      onStep: (info) => {
        if (opts.signal?.aborted)
          throw new Error(`run ${spec.runId} stopped: ${String(opts.signal.reason ?? 'aborted')}`);
        opts.onStep?.(info as unknown as { epoch: number; step: number });
      },
    });
  }
  await evaluateRun(spec, runDir);
  // A run whose worker lost its job (the queue gave it to another worker) ends here, unfinished: the other worker,
  // waiting for this run's lock, finishes it.
  if (opts.signal?.aborted)
    throw new Error(
      `run ${spec.runId} stopped before its manifest: ${String(opts.signal.reason ?? 'aborted')}`,
    );
  const files: Record<string, string> = {};
  for (const rel of HASHED_FILES) {
    const path = join(runDir, rel);
    if (existsSync(path)) files[rel] = await fileHash(path);
  }
  const manifest: RunManifest = {
    format: 'iqa-bench/study-run@1',
    runId: spec.runId,
    variant: spec.variant,
    seed: spec.seed,
    version: STUDY_VERSION,
    files,
  };
  await writeJsonAtomic(join(runDir, RUN_MANIFEST_FILE), manifest);
  return {
    runId: spec.runId,
    action: 'trained',
    seconds: (Date.now() - t0) / 1000,
    ...(await headline(runDir)),
    files,
  };
}

export type { EvalSetSpec };
