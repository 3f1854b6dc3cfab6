/**
 * The run folder as a whole: which of its entries the trainer owns, what a folder holds before a run opens it (nothing,
 * a run of this config to resume, a run of another config), and starting over in a folder that holds another run.
 */
import { createHash } from 'node:crypto';
import { lockFolder } from '@iqa-bench/core/fs';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { diffConfigs, formatConfigDifferences, type ConfigDifference, type TrainConfig } from '../config.js';
import { CONFIG_FILE, readRunConfigFileSync } from '../run-folder/config-file.js';
import { METRICS_LOG_FILE } from '../run-folder/metrics-log.js';
import { SUMMARY_FILE } from '../run-folder/summary.js';
import { parseTrainerState } from '../run-folder/trainer-state.js';
import { readResumePoint, type ResumePaths } from './checkpoint.js';

/** Config fields the numbers do not depend on (a run may resume with another worker count). */
const UNHASHED = ['memory.workers'] as const;

/** Hash of everything the numbers depend on: a run folder belongs to one config hash. */
export function hashConfig(cfg: TrainConfig): string {
  const { workers: _w, ...memory } = cfg.memory;
  return createHash('sha256')
    .update(JSON.stringify({ ...cfg, memory }))
    .digest('hex');
}

/**
 * The entries of a run folder that the trainer writes, and so removes when it starts over: config.json,
 * metrics.jsonl, summary.json, checkpoints/ and round-<n>/. Anything else in the folder is left alone.
 */
export function isRunEntry(name: string): boolean {
  return (
    [CONFIG_FILE, METRICS_LOG_FILE, SUMMARY_FILE, 'checkpoints'].includes(name) || /^round-\d+$/.test(name)
  );
}

/** Where starting over moves the old run's entries before deleting them (see discardRun). */
export const DISCARD_DIR = '.discarded';

/** The resume points of a run folder. */
export function resumePaths(runDir: string): ResumePaths {
  return {
    last: join(runDir, 'checkpoints', 'last.ckpt'),
    previous: join(runDir, 'checkpoints', 'previous.ckpt'),
  };
}

/**
 * Removes the run in `runDir` (its entries per isRunEntry), for a run that starts over. First the folder
 * `.discarded` is made (the decision, recorded), then each entry is moved into it (one atomic rename each), then it
 * is deleted. A crash on the way leaves `.discarded` behind, and the next run that opens the folder finishes the job
 * before it looks at the folder, so the folder never holds a mix of the old run's files and the new one's. Call it
 * with the folder's lock held.
 */
export function discardRun(runDir: string): void {
  mkdirSync(join(runDir, DISCARD_DIR), { recursive: true });
  finishDiscard(runDir);
}

/** Finishes a discardRun that a crash interrupted (nothing when `.discarded` does not exist). */
export function finishDiscard(runDir: string): void {
  const trash = join(runDir, DISCARD_DIR);
  if (!existsSync(trash)) return;
  for (const name of readdirSync(runDir)) {
    if (!isRunEntry(name)) continue;
    const to = join(trash, name);
    if (existsSync(to)) rmSync(join(runDir, name), { recursive: true, force: true });
    else renameSync(join(runDir, name), to);
  }
  rmSync(trash, { recursive: true, force: true });
}

/**
 * `runDir` holds a run of another config. `differences` names the differing fields; it is empty when the run's
 * config is not known (no config.json) or is the same field by field (a run made by a version of this package that
 * hashed configs differently).
 */
export class RunConflictError extends Error {
  /** What differs, as the message says it: the fields (a few), or the hashes and why no fields are named. */
  readonly reason: string;

  constructor(
    readonly runDir: string,
    readonly differences: readonly ConfigDifference[],
    readonly hashes: { run: string; config: string },
    known: boolean,
  ) {
    const reason =
      differences.length > 0
        ? formatConfigDifferences(differences)
        : `config hash ${hashes.run.slice(0, 12)}, this config ${hashes.config.slice(0, 12)}; ${known ? 'the same fields: made by another version of @iqa-bench/train' : 'it has no config.json'}`;
    super(
      `${runDir}: the run directory holds a run of a different config (${reason}); use a new run directory or start over`,
    );
    this.name = 'RunConflictError';
    this.reason = reason;
  }
}

/** The conflict between the run in `runDir` (hash `runHash`, config `runConfig` when known) and `cfg`. */
export function conflictWith(
  runDir: string,
  runHash: string,
  runConfig: unknown,
  cfg: TrainConfig,
): RunConflictError {
  const differences = runConfig === undefined ? [] : diffConfigs(runConfig, cfg, UNHASHED);
  return new RunConflictError(
    runDir,
    differences,
    { run: runHash, config: hashConfig(cfg) },
    runConfig !== undefined,
  );
}

/** What a run does with its folder: make it, start in it (empty, or no run yet), resume the run in it, or start over. */
export type FolderPlan = 'create' | 'fresh' | 'resume' | 'start-over';

/** The nearest folder that exists at or above `dir`. */
function existingAncestor(dir: string): string {
  let d = resolve(dir);
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

function checkWritable(dir: string, what: string): void {
  if (!statSync(dir).isDirectory()) throw new Error(`${what}: not a folder`);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new Error(`${what}: not writable`);
  }
}

/**
 * What a run of `cfg` in `runDir` would do, checked without changing anything: the folder (or the nearest one above it
 * that exists) must be a writable folder that no running process holds (its lock is taken and given back); a run of
 * another config there is a RunConflictError naming the differing fields unless `startOver`.
 */
export function planRunFolder(runDir: string, cfg: TrainConfig, startOver: boolean): FolderPlan {
  if (!existsSync(runDir)) {
    const up = existingAncestor(runDir);
    checkWritable(up, `${runDir}: cannot be made in ${up}`);
    return 'create';
  }
  checkWritable(runDir, `${runDir}`);
  // a run in progress there holds its lock (taken and given back at once: the folder is left as it was)
  lockFolder(runDir, { what: 'run folder' }).release();
  if (existsSync(join(runDir, DISCARD_DIR))) return 'start-over';
  const hash = hashConfig(cfg);
  const configFile = join(runDir, CONFIG_FILE);
  const paths = resumePaths(runDir);
  const hasCheckpoint = existsSync(paths.last) || existsSync(paths.previous);
  let runHash: string | null = null;
  let runConfig: unknown;
  if (existsSync(configFile)) {
    const file = readRunConfigFileSync(configFile);
    runHash = file.configHash;
    runConfig = file.config;
  } else if (hasCheckpoint) {
    const point = readResumePoint(paths, (c, f) => void parseTrainerState(c.state, f));
    if (point !== null) runHash = parseTrainerState(point.contents.state, point.file).configHash;
  }
  if (runHash !== null && runHash !== hash) {
    if (startOver) return 'start-over';
    throw conflictWith(runDir, runHash, runConfig, cfg);
  }
  if (startOver && (hasCheckpoint || runHash !== null)) return 'start-over';
  return hasCheckpoint ? 'resume' : 'fresh';
}
