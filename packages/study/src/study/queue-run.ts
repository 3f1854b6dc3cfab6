/**
 * The queue executor: the `study-run` job kind (what a worker runs) and the coordinator that enqueues a study's
 * unfinished runs under their run ids and waits for them.
 *
 * A `study-run` job names the run folder and the shared split as root-relative `paths`, and its payload is the run
 * spec with the dataset folders relative to the worker root: the payload is validated like a study (the training
 * config by its own schema), every folder is confined to the root, and the run id must be the job id and the run
 * folder's name. The worker then runs exactly what the local executor runs (`executeRun`): same bytes either way.
 */
import { existsSync } from 'node:fs';
import { basename, isAbsolute, relative, sep } from 'node:path';
import { writeJsonAtomic } from '@iqa-bench/core/fs';
import { trainConfigSchema } from '@iqa-bench/train/config';
import { z } from 'zod';
import type { JobContext, JobKindRegistry } from '../queue/jobs.js';
import { createJob, defaultJobKinds, JobRefusedError } from '../queue/jobs.js';
import type { QueueCallOptions, RunStatus } from '../queue/queue.js';
import { DEFAULT_QUEUE_NAME, enqueueRuns, waitForRuns } from '../queue/queue.js';
import type { StudyEvent, StudyRunResult } from './local.js';
import { prepareStudyFolder, todoOf } from './local.js';
import type { ResolvedStudy, RunSpec } from './resolve.js';
import { runDirOf } from './resolve.js';
import type { RunOutcome } from './run.js';
import { executeRun, FAILURE_FILE } from './run.js';
import { join } from 'node:path';
import { studyState } from './state.js';

export const STUDY_RUN_KIND = 'study-run';

const relPath = z.string().min(1).max(1024);
const datasetKind = trainConfigSchema.shape.dataset.shape.kind;

/** The payload of a `study-run` job. */
export const studyRunPayload = z.strictObject({
  runId: z.string().regex(/^r-[0-9a-f]{20}$/, 'expected a run id r-<20 hex digits>'),
  variant: z.string().min(1).max(128),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  overrides: z.record(z.string().max(256), z.unknown()),
  /** The resolved training config; `dataset.root` relative to the worker root, `dataset.splitManifest` null. */
  config: trainConfigSchema,
  evalSets: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(64),
        kind: datasetKind,
        root: relPath,
        load: z.record(z.string(), z.string()).optional(),
      }),
    )
    .max(16),
});
export type StudyRunPayload = z.output<typeof studyRunPayload>;

/** Runs a `study-run` job: the spec, made absolute inside the worker root, then `executeRun`. */
export async function handleStudyRun(p: StudyRunPayload, ctx: JobContext): Promise<RunOutcome> {
  if (p.runId !== ctx.id) throw new JobRefusedError(`payload.runId ${p.runId} is not the job id ${ctx.id}`);
  if (basename(ctx.paths.run) !== p.runId) {
    throw new JobRefusedError(`paths.run: expected a folder named after the run id ${p.runId}`);
  }
  if (p.config.model.initWeights !== null) {
    p.config.model.initWeights = await ctx.confine(
      p.config.model.initWeights,
      'payload.config.model.initWeights',
    );
  }
  const spec: RunSpec = {
    runId: p.runId,
    variant: p.variant,
    seed: p.seed,
    overrides: p.overrides,
    config: {
      ...p.config,
      dataset: {
        ...p.config.dataset,
        root: await ctx.confine(p.config.dataset.root, 'payload.config.dataset.root'),
        splitManifest: ctx.paths.split,
      },
    },
    evalSets: [],
  };
  for (const [i, e] of p.evalSets.entries()) {
    spec.evalSets.push({ ...e, root: await ctx.confine(e.root, `payload.evalSets[${i}].root`) });
  }
  try {
    return await executeRun(spec, ctx.paths.run, { signal: ctx.signal });
  } catch (err) {
    if (!ctx.signal.aborted && existsSync(ctx.paths.run)) {
      await writeJsonAtomic(join(ctx.paths.run, FAILURE_FILE), {
        runId: p.runId,
        error: (err as Error).message,
      }).catch(() => undefined);
    }
    throw err;
  }
}

/** Adds the `study-run` kind to a registry (default: the one `iqa-bench worker` uses); a second call does nothing. */
export function registerStudyRunKind(registry: JobKindRegistry = defaultJobKinds): void {
  if (registry.get(STUDY_RUN_KIND) !== undefined) return;
  registry.register(STUDY_RUN_KIND, studyRunPayload, handleStudyRun, { paths: ['run', 'split'] });
}

function inside(root: string, path: string, what: string): string {
  const rel = relative(root, path);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new Error(
      `${what} ${path} is outside the queue root ${root}; workers see only paths inside their --root`,
    );
  }
  return rel.split(sep).join('/');
}

/** The job of a run: paths and folders relative to `root` (the workers' --root, on the shared folder). */
export function studyRunJob(study: ResolvedStudy, spec: RunSpec, root: string, version?: string) {
  const payload: StudyRunPayload = {
    runId: spec.runId,
    variant: spec.variant,
    seed: spec.seed,
    overrides: spec.overrides,
    config: {
      ...spec.config,
      dataset: {
        ...spec.config.dataset,
        root: inside(root, spec.config.dataset.root, `run ${spec.runId}: the dataset`),
        splitManifest: null,
      },
      model: {
        ...spec.config.model,
        initWeights:
          spec.config.model.initWeights === null
            ? null
            : inside(root, spec.config.model.initWeights, `run ${spec.runId}: model.initWeights`),
      },
    },
    evalSets: spec.evalSets.map((e) => ({ ...e, root: inside(root, e.root, `evaluation set ${e.name}`) })),
  };
  return {
    id: spec.runId,
    data: createJob({
      kind: STUDY_RUN_KIND,
      payload,
      paths: {
        run: inside(root, runDirOf(study.outDir, spec.runId), 'the study folder'),
        split: inside(root, study.split.file, 'the study folder'),
      },
      ...(version !== undefined ? { version } : {}),
    }),
  };
}

export interface QueueRunOptions extends QueueCallOptions {
  /** The queue name (default `iqa-bench`). */
  queueName?: string;
  /** The folder the workers serve (their --root), as this machine sees it; every path must be inside it. */
  root: string;
  /** The version stamped on the jobs (default: this package's). */
  version?: string;
  onEvent?: (event: StudyEvent) => void;
  /** How often to look at the queue (default 1 s). */
  pollMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Enqueues a study's unfinished runs (job id = run id: enqueueing again adds nothing; a failed job is retried) and
 * waits until each has completed or failed. A queue that does not answer is a QueueConnectionError within the
 * connect timeout.
 */
export async function runStudyQueue(
  study: ResolvedStudy,
  url: string,
  opts: QueueRunOptions,
): Promise<StudyRunResult> {
  const queueName = opts.queueName ?? DEFAULT_QUEUE_NAME;
  const jobsOf = (specs: readonly RunSpec[]) =>
    specs.map((s) => studyRunJob(study, s, opts.root, opts.version));
  await prepareStudyFolder(study);
  const states = await studyState(study);
  const todo = todoOf(states);
  const result: StudyRunResult = {
    trained: [],
    reused: states.filter((s) => s.state === 'done').map((s) => s.spec.runId),
    failed: [],
  };
  const edited = todo.filter((s) => s.state === 'edited');
  for (const s of edited) {
    result.failed.push({
      runId: s.spec.runId,
      variant: s.spec.variant,
      seed: s.spec.seed,
      error: `edited by hand (${s.detail}); remove ${s.runDir} to rerun it`,
    });
  }
  const queued = todo.filter((s) => s.state !== 'edited').map((s) => s.spec);
  opts.onEvent?.({ type: 'plan', total: states.length, done: result.reused.length, todo: queued.length });
  if (queued.length === 0) return result;
  const jobs = jobsOf(queued);
  // The folder says these runs are not finished: a job the queue holds as completed (its folder removed since, to run
  // it again) is replaced.
  const outcomes = await enqueueRuns(url, queueName, jobs, {
    ...opts,
    replaceCompleted: queued.map((s) => s.runId),
  });
  const byId = new Map(queued.map((s) => [s.runId, s]));
  for (const o of outcomes)
    opts.onEvent?.({ type: 'queued', spec: byId.get(o.id)!, action: `${o.action} (${o.state})` });
  const reported = new Set<string>();
  const seconds: number[] = [];
  const report = (j: RunStatus) => {
    const spec = byId.get(j.id)!;
    if (reported.has(j.id) || (j.state !== 'completed' && j.state !== 'failed')) return;
    reported.add(j.id);
    if (j.state === 'completed') {
      const outcome = j.result as RunOutcome;
      if (j.processedOn !== undefined && j.finishedOn !== undefined)
        seconds.push((j.finishedOn - j.processedOn) / 1000);
      const active = Math.max(1, queued.length - reported.size);
      const mean = seconds.length > 0 ? seconds.reduce((a, b) => a + b, 0) / seconds.length : null;
      opts.onEvent?.({
        type: 'done',
        spec,
        outcome,
        finished: reported.size,
        todo: queued.length,
        etaSeconds: mean === null ? null : mean * active,
      });
    } else {
      opts.onEvent?.({
        type: 'failed',
        spec,
        error: j.failedReason ?? 'failed',
        finished: reported.size,
        todo: queued.length,
      });
    }
  };
  const final = await waitForRuns(url, queueName, [...byId.keys()], {
    ...opts,
    pollMs: opts.pollMs ?? 1000,
    onUpdate: (all) => all.forEach(report),
  });
  for (const j of final) {
    const spec = byId.get(j.id)!;
    if (j.state === 'completed') {
      // The queue's word is checked against the folder: a completed job whose run folder is not finished (removed or
      // edited since) is reported, not counted.
      const now = (await studyState({ ...study, runs: [spec] }))[0];
      if (now.state === 'done') result.trained.push(j.id);
      else {
        result.failed.push({
          runId: j.id,
          variant: spec.variant,
          seed: spec.seed,
          error: `the queue holds the run as completed, but its folder is ${now.state}${now.detail ? ` (${now.detail})` : ''}`,
        });
      }
    } else {
      result.failed.push({
        runId: j.id,
        variant: spec.variant,
        seed: spec.seed,
        error: j.failedReason ?? 'failed',
      });
    }
  }
  return result;
}
