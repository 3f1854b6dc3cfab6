/**
 * The coordinator's side of the queue: enqueue runs under their run ids (enqueueing twice adds nothing), read the
 * queue's state, wait until a set of runs has finished.
 */
import type { AnyQueue } from './connection.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, openQueue, probeQueueUrl } from './connection.js';

/** The queue name `study run --queue` and `worker` use unless told otherwise. */
export const DEFAULT_QUEUE_NAME = 'iqa-bench';

/** What BullMQ says of a job, plus `missing` for an id the queue does not hold. */
export type RunState =
  'waiting' | 'prioritized' | 'waiting-children' | 'delayed' | 'active' | 'completed' | 'failed' | 'missing';

/** BullMQ job ids: no ':' and not all digits (its own rules); a run id is a hash or a name. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function checkId(id: string): void {
  if (!ID_PATTERN.test(id) || /^\d+$/.test(id)) {
    throw new Error(
      `run id "${id.slice(0, 140)}": expected 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit and not all digits`,
    );
  }
}

function checkQueueName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(name)) {
    throw new Error(`queue name "${name.slice(0, 80)}": expected 1-64 letters, digits, '_' or '-'`);
  }
}

export interface QueueCallOptions {
  /** How long the server may take to answer first (default 5 s). */
  connectTimeoutMs?: number;
}

/** Runs `body` with a queue that is closed afterwards, after checking that the server answers. */
async function withQueue<T>(
  url: string,
  name: string,
  options: QueueCallOptions,
  body: (q: AnyQueue) => Promise<T>,
): Promise<T> {
  checkQueueName(name);
  const parsed = await probeQueueUrl(url, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  const queue = openQueue(parsed, name);
  try {
    await queue.waitUntilReady();
    return await body(queue);
  } finally {
    await queue.close();
  }
}

export interface EnqueueOptions extends QueueCallOptions {
  /** Put a failed job with the same id back in the queue (default true): a rerun of a failed run. */
  retryFailed?: boolean;
  /**
   * Ids whose completed job is removed and added anew: runs the queue holds as completed whose results the caller
   * knows to be gone (a run folder removed to run it again).
   */
  replaceCompleted?: readonly string[];
}

/** What `enqueueRuns` did with one id. */
export interface EnqueueOutcome {
  id: string;
  /** `added`: new; `retried`: a failed job put back; `exists`: already queued, running or done (untouched). */
  action: 'added' | 'retried' | 'exists';
  /** The job's state after the call. */
  state: RunState;
}

async function stateOf(queue: AnyQueue, id: string): Promise<RunState> {
  const state = await queue.getJobState(id);
  return state === 'unknown' ? 'missing' : (state as RunState);
}

/**
 * Adds one job per run with the run id as job id. A job id the queue already holds is left alone (never a
 * duplicate), except a failed one, which is retried unless `retryFailed` is false. Jobs are tried once: a run that
 * fails is reported, not repeated; a run whose worker dies is taken up by another worker (stall detection).
 */
export async function enqueueRuns(
  url: string,
  queueName: string,
  jobs: readonly { id: string; data: unknown }[],
  options: EnqueueOptions = {},
): Promise<EnqueueOutcome[]> {
  const seen = new Set<string>();
  for (const { id } of jobs) {
    checkId(id);
    if (seen.has(id)) throw new Error(`run id "${id}" is given twice`);
    seen.add(id);
  }
  return withQueue(url, queueName, options, async (queue) => {
    const out: EnqueueOutcome[] = [];
    for (const { id, data } of jobs) {
      const before = await stateOf(queue, id);
      if (before === 'failed' && options.retryFailed !== false) {
        const job = await queue.getJob(id);
        await job?.retry('failed');
        out.push({ id, action: 'retried', state: await stateOf(queue, id) });
        continue;
      }
      if (before === 'completed' && options.replaceCompleted?.includes(id) === true) {
        await (await queue.getJob(id))?.remove();
        await queue.add(id, data, { jobId: id, attempts: 1, removeOnComplete: false, removeOnFail: false });
        out.push({ id, action: 'added', state: await stateOf(queue, id) });
        continue;
      }
      if (before !== 'missing') {
        out.push({ id, action: 'exists', state: before });
        continue;
      }
      // Adding an id that exists is a no-op in BullMQ, so two coordinators racing here still make one job.
      await queue.add(id, data, { jobId: id, attempts: 1, removeOnComplete: false, removeOnFail: false });
      out.push({ id, action: 'added', state: await stateOf(queue, id) });
    }
    return out;
  });
}

/** One job as `queueStatus` reports it. */
export interface RunStatus {
  id: string;
  state: RunState;
  /** How many times a worker started it. */
  attemptsStarted: number;
  /** Why it failed, for a failed job. */
  failedReason?: string;
  /** The handler's result, for a completed job. */
  result?: unknown;
  /** When a worker last took it / when it finished (ms since the epoch). */
  processedOn?: number;
  finishedOn?: number;
}

export interface QueueStatus {
  /** Job counts by state. */
  counts: Record<'waiting' | 'active' | 'completed' | 'failed' | 'delayed', number>;
  /** Every job of the queue (or of `ids`), in the order of `ids` or by id. */
  jobs: RunStatus[];
}

const LISTED_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;

async function statusOfIds(queue: AnyQueue, ids: readonly string[]): Promise<RunStatus[]> {
  const out: RunStatus[] = [];
  for (const id of ids) {
    const job = await queue.getJob(id);
    if (job === undefined || job === null) {
      out.push({ id, state: 'missing', attemptsStarted: 0 });
      continue;
    }
    const state = await stateOf(queue, id);
    out.push({
      id,
      state,
      attemptsStarted: job.attemptsStarted ?? 0,
      ...(state === 'failed' ? { failedReason: job.failedReason } : {}),
      ...(state === 'completed' ? { result: job.returnvalue } : {}),
      ...(job.processedOn !== undefined ? { processedOn: job.processedOn } : {}),
      ...(job.finishedOn !== undefined ? { finishedOn: job.finishedOn } : {}),
    });
  }
  return out;
}

/** The queue's job counts and the state of each job (of every job, or of `ids` only). */
export async function queueStatus(
  url: string,
  queueName: string,
  options: QueueCallOptions & { ids?: readonly string[] } = {},
): Promise<QueueStatus> {
  return withQueue(url, queueName, options, async (queue) => {
    const counts = await queue.getJobCounts(
      'waiting',
      'prioritized',
      'active',
      'completed',
      'failed',
      'delayed',
    );
    let ids = options.ids;
    if (ids === undefined) {
      const all = new Set<string>();
      for (const state of LISTED_STATES) {
        for (const job of await queue.getJobs(state)) if (job?.id !== undefined) all.add(job.id);
      }
      ids = [...all].sort();
    }
    return {
      counts: {
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
        delayed: counts.delayed ?? 0,
      },
      jobs: await statusOfIds(queue, ids),
    };
  });
}

export interface WaitOptions extends QueueCallOptions {
  /** Give up after this long (default: wait for ever). */
  timeoutMs?: number;
  /** How often to look (default 500 ms). */
  pollMs?: number;
  /** Stop waiting when aborted. */
  signal?: AbortSignal;
  /** Called after each look with every job's status. */
  onUpdate?: (jobs: readonly RunStatus[]) => void;
}

/**
 * Waits until every id is completed or failed, and returns their statuses (results and failure reasons included).
 * An id that the queue does not hold is an error: nothing would ever finish it.
 */
export async function waitForRuns(
  url: string,
  queueName: string,
  ids: readonly string[],
  options: WaitOptions = {},
): Promise<RunStatus[]> {
  for (const id of ids) checkId(id);
  const pollMs = options.pollMs ?? 500;
  const until = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  return withQueue(url, queueName, options, async (queue) => {
    for (;;) {
      const jobs = await statusOfIds(queue, ids);
      options.onUpdate?.(jobs);
      const missing = jobs.filter((j) => j.state === 'missing');
      if (missing.length > 0) {
        throw new Error(`runs not in the queue "${queueName}": ${missing.map((j) => j.id).join(', ')}`);
      }
      if (jobs.every((j) => j.state === 'completed' || j.state === 'failed')) return jobs;
      if (options.signal?.aborted) throw new Error('waiting for the queue was aborted');
      if (Date.now() >= until) {
        const open = jobs.filter((j) => j.state !== 'completed' && j.state !== 'failed');
        throw new Error(
          `${open.length} of ${ids.length} runs not finished after ${options.timeoutMs} ms: ` +
            open
              .slice(0, 10)
              .map((j) => `${j.id} (${j.state})`)
              .join(', '),
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done() {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', done);
          resolve();
        }
        options.signal?.addEventListener('abort', done, { once: true });
      });
    }
  });
}
