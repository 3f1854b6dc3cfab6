/**
 * The worker's side of the queue. `startWorker` runs any handler over BullMQ with a lock that is renewed while the
 * handler runs and released cleanly on close; `startJobWorker` runs iqa-bench job envelopes confined to a root folder.
 *
 * Lock timings: a worker holds a job's lock for `lockDurationMs` and renews it every half of that while the handler
 * runs (so a training of hours keeps its job, as long as the handler does not block the event loop for longer than
 * `lockDurationMs`: run heavy synchronous work in a child process or worker thread; a worker that finds its lock lost
 * aborts the handler's signal, as the job may already run elsewhere). Every `stalledIntervalMs` each
 * worker looks for active jobs whose lock expired — their worker was killed or its machine lost — and puts them back in
 * the queue for another worker, up to `maxStalledCount` times; one more stall fails the job for good.
 */
import { hostname } from 'node:os';
import { realpath, stat } from 'node:fs/promises';
import type { Job } from 'bullmq';
import { UnrecoverableError, WaitingError } from 'bullmq';
import { DEFAULT_CONNECT_TIMEOUT_MS, openWorker, probeQueueUrl } from './connection.js';
import type { JobKindRegistry } from './jobs.js';
import { acceptJob, defaultJobKinds, JobRefusedError, STUDY_VERSION } from './jobs.js';
import { confinePath } from './paths.js';
import { onStopSignals } from './signals.js';
import { maskQueueUrl } from './url.js';
import type { QueueCallOptions } from './queue.js';

/** Lock and stall timings for real use: a killed worker's job goes to another worker within about a minute. */
export const DEFAULT_WORKER_TIMINGS = {
  lockDurationMs: 60_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 3,
} as const;

export interface QueueWorkerOptions extends QueueCallOptions {
  /** Jobs run at a time by this worker (default 1). */
  concurrency?: number;
  /** How long a job's lock lasts without renewal (default 60 s). */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose lock expired (default 30 s). */
  stalledIntervalMs?: number;
  /** How many times a job may stall (lose its worker) and still be restarted (default 3). */
  maxStalledCount?: number;
  /** One line per job (and per worker error). Default: nowhere. */
  log?: (line: string) => void;
}

/** One job as a handler of `startWorker` sees it. */
export interface QueueJob {
  readonly id: string;
  readonly data: unknown;
  /** How many times the job has been started, this time included. */
  readonly attempt: number;
  /** Aborted when the worker is stopping: end at a safe point and throw, and the job goes back to the queue. */
  readonly signal: AbortSignal;
}

export interface QueueWorker {
  /** The queue name. */
  readonly queueName: string;
  /** Settles when the worker has stopped. */
  readonly closed: Promise<void>;
  /**
   * First call: take no new job, abort the running handlers' signals and wait for them — a handler that then throws
   * has its job put back in the queue at once, one that finishes completes its job. A second call closes at once,
   * leaving running jobs to the stall detection of other workers.
   */
  close(): Promise<void>;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').slice(0, 500);
}

function kindLabel(data: unknown): string {
  const kind = (data as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' ? ` (${kind.slice(0, 64)})` : '';
}

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new Error(`${name}: expected an integer >= ${min}, got ${v}`);
  return v;
}

/**
 * Starts a worker that takes jobs of `queueName` from `url` and runs `handler` on each; the handler's result is the
 * job's return value, its error the job's failure (tried once). A `JobRefusedError` fails the job as refused. Throws a
 * QueueConnectionError within `connectTimeoutMs` when the server does not answer.
 */
export async function startWorker(
  url: string,
  queueName: string,
  handler: (job: QueueJob) => Promise<unknown>,
  options: QueueWorkerOptions = {},
): Promise<QueueWorker> {
  const log = options.log ?? (() => undefined);
  const concurrency = positive('concurrency', options.concurrency, 1);
  const lockDuration = positive(
    'lockDurationMs',
    options.lockDurationMs,
    DEFAULT_WORKER_TIMINGS.lockDurationMs,
    100,
  );
  const stalledInterval = positive(
    'stalledIntervalMs',
    options.stalledIntervalMs,
    DEFAULT_WORKER_TIMINGS.stalledIntervalMs,
    100,
  );
  const maxStalledCount = positive(
    'maxStalledCount',
    options.maxStalledCount,
    DEFAULT_WORKER_TIMINGS.maxStalledCount,
    0,
  );
  const parsed = await probeQueueUrl(url, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  const who = `${hostname()}:${process.pid}`;
  let stopping = false;
  // Jobs whose lock could not be renewed (the event loop was blocked too long, the server unreachable): the queue may
  // already have given them to another worker, so their handler is aborted rather than left to run twice.
  const lostLocks = new Set<string>();

  // Three parameters: BullMQ passes the abort signal only to a processor that declares it.
  const processor = async (job: Job<unknown, unknown, string>, token?: string, signal?: AbortSignal) => {
    const id = job.id ?? '?';
    const label = `job ${id}${kindLabel(job.data)}`;
    const started = Date.now();
    const aborted = signal ?? new AbortController().signal;
    try {
      const result = await handler({ id, data: job.data, attempt: job.attemptsStarted, signal: aborted });
      log(`${label} completed in ${seconds(Date.now() - started)} (attempt ${job.attemptsStarted})`);
      return result ?? null;
    } catch (err) {
      if (err instanceof JobRefusedError) {
        log(`${label} refused: ${oneLine(err)}`);
        throw new UnrecoverableError(`refused by worker ${who}: ${oneLine(err)}`);
      }
      if (lostLocks.delete(id)) {
        log(
          `${label} stopped after ${seconds(Date.now() - started)}: its lock was lost, the job is taken up again`,
        );
        throw new WaitingError();
      }
      if (stopping && aborted.aborted) {
        try {
          await job.moveToWait(token);
          log(`${label} released after ${seconds(Date.now() - started)}: the worker is stopping`);
        } catch (moveErr) {
          log(`${label} left to stall detection: ${oneLine(moveErr)}`);
        }
        throw new WaitingError();
      }
      log(`${label} failed after ${seconds(Date.now() - started)}: ${oneLine(err)}`);
      throw err;
    }
  };

  const worker = openWorker(parsed, queueName, processor, {
    concurrency,
    lockDuration,
    stalledInterval,
    maxStalledCount,
    autorun: false,
  });
  let lastError = '';
  worker.on('error', (err) => {
    const lost = /^could not renew lock for job (.+)$/.exec(err.message);
    if (lost !== null) {
      lostLocks.add(lost[1]);
      worker.cancelJob(lost[1], 'the job lock was lost');
    }
    const line = oneLine(err);
    if (line !== lastError) log(`worker error: ${line}`);
    lastError = line;
  });
  void worker.run().catch((err: unknown) => log(`worker stopped on an error: ${oneLine(err)}`));
  try {
    await worker.waitUntilReady();
  } catch (err) {
    await worker.close(true).catch(() => undefined);
    throw err;
  }

  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  return {
    queueName,
    closed,
    close(): Promise<void> {
      if (closing === undefined) {
        stopping = true;
        worker.cancelAllJobs('the worker is stopping');
        closing = worker.close().finally(resolveClosed);
        return closing;
      }
      return worker.close(true).finally(resolveClosed);
    },
  };
}

export interface JobWorkerOptions extends QueueWorkerOptions {
  /** The folder every path of a job is confined to (default: the current folder). */
  root?: string;
  /** This worker's iqa-bench version; jobs stamped with another are refused (default: this package's version). */
  version?: string;
  /** The job kinds this worker runs (default: those added with `registerJobKind`). */
  registry?: JobKindRegistry;
}

/**
 * Starts a worker for iqa-bench jobs: each job is checked (envelope, version, kind, payload schema, paths confined to
 * `root`) and refused without reading or writing anything when a check fails; accepted jobs run their kind's handler.
 */
export async function startJobWorker(
  url: string,
  queueName: string,
  options: JobWorkerOptions = {},
): Promise<QueueWorker & { readonly root: string; readonly version: string }> {
  const given = options.root ?? process.cwd();
  let root: string;
  try {
    root = await realpath(given);
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw new Error(
      `worker root ${given}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : oneLine(err)}`,
    );
  }
  const version = options.version ?? STUDY_VERSION;
  const registry = options.registry ?? defaultJobKinds;
  const worker = await startWorker(
    url,
    queueName,
    async (job) => {
      const accepted = await acceptJob(job.data, { root, version, registry });
      return accepted.kind.handler(accepted.payload, {
        id: job.id,
        root,
        paths: accepted.paths,
        attempt: job.attempt,
        signal: job.signal,
        confine: async (rel, what) => {
          try {
            return await confinePath(root, rel, what);
          } catch (err) {
            throw new JobRefusedError(oneLine(err));
          }
        },
      });
    },
    options,
  );
  return { ...worker, root, version };
}

/**
 * Runs a job worker until SIGINT or SIGTERM: the first signal stops taking jobs and releases (or lets finish) the
 * running ones, a second closes at once. Logs a line when ready and one per job.
 */
export async function serveJobWorker(
  url: string,
  queueName: string,
  options: JobWorkerOptions = {},
): Promise<void> {
  const log = options.log ?? (() => undefined);
  const worker = await startJobWorker(url, queueName, options);
  const kinds = (options.registry ?? defaultJobKinds).kinds();
  log(
    `worker ${hostname()}:${process.pid} ready: queue "${queueName}" on ${maskQueueUrl(url)}, root ${worker.root}, ` +
      `iqa-bench ${worker.version}, ${kinds.length > 0 ? `kinds ${kinds.join(', ')}` : 'no job kinds registered'}`,
  );
  const dispose = onStopSignals((signal, count) => {
    log(
      count === 1 ? `${signal}: stopping after the running jobs are released` : `${signal}: closing at once`,
    );
    void worker.close();
  });
  try {
    await worker.closed;
  } finally {
    dispose();
  }
  log('worker stopped');
}
