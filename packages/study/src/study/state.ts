/**
 * Where each run of a resolved study stands, read from its run folder: finished (manifest and files intact), edited
 * (finished, but a recorded file's bytes changed since), failed, running (its folder locked by a live process),
 * interrupted (a checkpoint to resume from) or not started.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ResolvedStudy, RunSpec } from './resolve.js';
import { runDirOf } from './resolve.js';
import { editedFiles, FAILURE_FILE, readRunManifest, RUN_LOCK_FILE } from './run.js';

export type RunFolderState = 'done' | 'edited' | 'failed' | 'running' | 'interrupted' | 'missing';

export interface StudyRunState {
  spec: RunSpec;
  runDir: string;
  state: RunFolderState;
  /** `edited`: the files that changed; `failed`: why. */
  detail?: string;
  /** When a running/interrupted run started and how far it got (epochs logged). */
  epochsDone?: number;
}

function lockHolder(runDir: string): { pid: number; host: string } | undefined {
  return holderOf(join(runDir, RUN_LOCK_FILE)) ?? holderOf(join(runDir, '.lock'));
}

/** The live holder of a lock file (see @iqa-bench/core's lockFolder), if any. */
function holderOf(file: string): { pid: number; host: string } | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { pid?: number; host?: string };
    if (typeof v.pid !== 'number' || typeof v.host !== 'string') return undefined;
    if (v.host !== hostname()) return { pid: v.pid, host: v.host };
    try {
      process.kill(v.pid, 0);
      return { pid: v.pid, host: v.host };
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM' ? { pid: v.pid, host: v.host } : undefined;
    }
  } catch {
    return undefined;
  }
}

function epochsLogged(runDir: string): number {
  try {
    return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"kind":"epoch"')).length;
  } catch {
    return 0;
  }
}

/** The state of one run folder. */
export async function runState(spec: RunSpec, outDir: string): Promise<StudyRunState> {
  const runDir = runDirOf(outDir, spec.runId);
  const base = { spec, runDir };
  if (!existsSync(runDir)) return { ...base, state: 'missing' };
  let manifest;
  try {
    manifest = await readRunManifest(runDir);
  } catch (err) {
    return { ...base, state: 'edited', detail: `${(err as Error).message}` };
  }
  if (manifest !== undefined && manifest.runId === spec.runId) {
    const edited = await editedFiles(runDir, manifest);
    return edited.length > 0
      ? { ...base, state: 'edited', detail: `changed since the run finished: ${edited.join(', ')}` }
      : { ...base, state: 'done' };
  }
  if (lockHolder(runDir) !== undefined)
    return { ...base, state: 'running', epochsDone: epochsLogged(runDir) };
  if (existsSync(join(runDir, FAILURE_FILE))) {
    let detail = 'failed';
    try {
      detail = String(
        (JSON.parse(readFileSync(join(runDir, FAILURE_FILE), 'utf8')) as { error?: unknown }).error,
      );
    } catch {
      // keep the default
    }
    return { ...base, state: 'failed', detail };
  }
  if (existsSync(join(runDir, 'checkpoints', 'last.ckpt')) || existsSync(join(runDir, 'summary.json'))) {
    return { ...base, state: 'interrupted', epochsDone: epochsLogged(runDir) };
  }
  return { ...base, state: 'missing' };
}

/** The state of every run of a study, in plan order. */
export async function studyState(study: ResolvedStudy): Promise<StudyRunState[]> {
  const out: StudyRunState[] = [];
  for (const spec of study.runs) out.push(await runState(spec, study.outDir));
  return out;
}
