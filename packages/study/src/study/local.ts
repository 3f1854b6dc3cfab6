/**
 * The local executor: a study's unfinished runs on this machine, `parallel` at a time. One run at a time without
 * devices runs in this process; otherwise each run is a child process (its own TensorFlow.js), and with `devices`
 * each child gets one device index, as `CUDA_VISIBLE_DEVICES` (what tfjs-node-gpu's TensorFlow reads) and
 * `IQA_BENCH_DEVICE`, never two runs on one device at a time.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '@iqa-bench/core/fs';
import type { ResolvedStudy, RunSpec } from './resolve.js';
import { runDirOf } from './resolve.js';
import type { RunOutcome } from './run.js';
import { executeRun, FAILURE_FILE } from './run.js';
import type { StudyRunState } from './state.js';
import { studyState } from './state.js';

/** What the executors report as the study goes. */
export type StudyEvent =
  | { type: 'plan'; total: number; done: number; todo: number }
  | { type: 'start'; spec: RunSpec; device?: string }
  | {
      type: 'done';
      spec: RunSpec;
      outcome: RunOutcome;
      finished: number;
      todo: number;
      etaSeconds: number | null;
    }
  | { type: 'failed'; spec: RunSpec; error: string; finished: number; todo: number }
  | { type: 'queued'; spec: RunSpec; action: string };

export interface StudyRunResult {
  /** Runs trained (or resumed) by this call. */
  trained: string[];
  /** Runs that had finished already. */
  reused: string[];
  failed: { runId: string; variant: string; seed: number; error: string }[];
}

export interface LocalRunOptions {
  /** Runs at a time (default 1). */
  parallel?: number;
  /** Device indices to pin runs to, one run per device at a time (`--devices 0,1`). */
  devices?: readonly string[];
  /** Run every run in a child process even one at a time (default: only for parallel > 1 or devices). */
  childProcesses?: boolean;
  onEvent?: (event: StudyEvent) => void;
  /** Stops starting runs and stops the running ones at their next step (they resume on the next `study run`). */
  signal?: AbortSignal;
}

/**
 * Writes the study's shared split into its folder (checking that the folder is writable first, with an error naming
 * it). Every executor calls this before any run starts.
 */
export async function prepareStudyFolder(study: ResolvedStudy): Promise<void> {
  try {
    await mkdir(join(study.outDir, 'runs'), { recursive: true });
    await access(study.outDir, constants.W_OK);
    const probe = join(study.outDir, `.write-test-${process.pid}`);
    mkdirSync(probe);
    rmSync(probe, { recursive: true });
  } catch (err) {
    throw new Error(`study folder ${study.outDir} is not writable: ${(err as Error).message}`);
  }
  const { writeSplitManifest } = await import('@iqa-bench/data');
  await writeSplitManifest(study.split.file, study.split.manifest);
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').slice(0, 2000);
}

/** The runs still to do: every run but the finished ones (hand-edited runs are reported as failed, not rerun). */
export function todoOf(states: readonly StudyRunState[]): StudyRunState[] {
  return states.filter((s) => s.state !== 'done');
}

function childScript(): { args: string[] } {
  const self = import.meta.url;
  const ts = self.endsWith('.ts');
  const script = new URL(ts ? './run-child.ts' : './run-child.js', self);
  return {
    args: [...(ts ? ['--import', import.meta.resolve('tsx')] : []), script.pathname],
  };
}

/** Runs one run in a child process; resolves with its outcome. */
function runInChild(
  spec: RunSpec,
  runDir: string,
  device: string | undefined,
  signal?: AbortSignal,
): Promise<RunOutcome> {
  const { args } = childScript();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...(device !== undefined ? { CUDA_VISIBLE_DEVICES: device, IQA_BENCH_DEVICE: device } : {}),
      },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const stop = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', stop, { once: true });
    child.on('error', reject);
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', stop);
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0) {
        try {
          resolve(JSON.parse(last) as RunOutcome);
          return;
        } catch {
          // fall through
        }
      }
      reject(
        new Error(
          err.trim().split('\n').slice(-3).join(' ') || `run process ended with ${sig ?? `code ${code}`}`,
        ),
      );
    });
    child.stdin.end(JSON.stringify({ spec, runDir }));
  });
}

/**
 * Runs a study's unfinished runs here. Finished runs are reused; interrupted ones resume from their checkpoint; a
 * run that fails is recorded in its folder (`study-failed.json`) and reported, and the others go on.
 */
export async function runStudyLocal(
  study: ResolvedStudy,
  opts: LocalRunOptions = {},
): Promise<StudyRunResult> {
  const parallel = opts.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1)
    throw new Error(`parallel: expected an integer >= 1, got ${parallel}`);
  const devices = [...(opts.devices ?? [])];
  const children = opts.childProcesses === true || parallel > 1 || devices.length > 0;
  const slots = devices.length > 0 ? Math.min(parallel, devices.length) : parallel;
  await prepareStudyFolder(study);
  const states = await studyState(study);
  const todo = todoOf(states);
  const result: StudyRunResult = {
    trained: [],
    reused: states.filter((s) => s.state === 'done').map((s) => s.spec.runId),
    failed: [],
  };
  opts.onEvent?.({ type: 'plan', total: states.length, done: result.reused.length, todo: todo.length });
  const free = [...devices];
  const seconds: number[] = [];
  let finished = 0;
  let next = 0;
  const aborted = () => opts.signal?.aborted === true;
  const worker = async () => {
    while (next < todo.length && !aborted()) {
      const s = todo[next++];
      const spec = s.spec;
      const runDir = runDirOf(study.outDir, spec.runId);
      const device = free.shift();
      opts.onEvent?.({ type: 'start', spec, ...(device !== undefined ? { device } : {}) });
      try {
        if (s.state === 'edited')
          throw new Error(`run ${spec.runId} was edited by hand (${s.detail}); remove ${runDir} to rerun it`);
        mkdirSync(runDir, { recursive: true });
        rmSync(join(runDir, FAILURE_FILE), { force: true });
        const outcome = children
          ? await runInChild(spec, runDir, device, opts.signal)
          : await executeRun(spec, runDir, { signal: opts.signal });
        finished++;
        if (outcome.action === 'trained') {
          result.trained.push(spec.runId);
          seconds.push(outcome.seconds);
        } else result.reused.push(spec.runId);
        const mean = seconds.length > 0 ? seconds.reduce((a, b) => a + b, 0) / seconds.length : null;
        opts.onEvent?.({
          type: 'done',
          spec,
          outcome,
          finished,
          todo: todo.length,
          etaSeconds: mean === null ? null : (mean * (todo.length - finished)) / slots,
        });
      } catch (err) {
        finished++;
        const error = oneLine(err);
        if (!aborted() && s.state !== 'edited') {
          await writeJsonAtomic(join(runDir, FAILURE_FILE), { runId: spec.runId, error }).catch(
            () => undefined,
          );
        }
        result.failed.push({ runId: spec.runId, variant: spec.variant, seed: spec.seed, error });
        opts.onEvent?.({ type: 'failed', spec, error, finished, todo: todo.length });
      } finally {
        if (device !== undefined) free.push(device);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(slots, Math.max(1, todo.length)) }, worker));
  return result;
}
