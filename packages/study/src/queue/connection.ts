/**
 * One place that turns a queue URL into BullMQ objects: Redis (BullMQ's default backend) or PostgreSQL (BullMQ's
 * `createPostgresBackend`, tables created on first use). Before any BullMQ object is made, the server is asked once
 * with a short timeout: BullMQ itself retries a dead server forever, which would hang a command without a word.
 */
import type { IQueueBackend, Processor, WorkerOptions as BullWorkerOptions } from 'bullmq';
import { createPostgresBackend, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { QueueUrl } from './url.js';
import { parseQueueUrl, QueueConnectionError } from './url.js';

/** How long a queue server may take to answer the first request before the URL is reported dead. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** A BullMQ queue on either backend. */
export type AnyQueue = Queue<unknown, unknown, string, unknown, unknown, string, IQueueBackend, unknown>;
/** A BullMQ worker on either backend. */
export type AnyWorker = Worker<unknown, unknown, string, IQueueBackend>;

function describeCause(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describeCause(err.errors[0]);
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  return typeof e.code === 'string' && !message.includes(e.code) ? `${e.code} ${message}` : message;
}

async function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function probeRedis(url: QueueUrl, timeoutMs: number): Promise<void> {
  const client = new Redis(url.href, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis rejects connect() with "Connection is closed."; the reason comes as an 'error' event.
  let reason: unknown;
  client.on('error', (err: unknown) => (reason ??= err));
  try {
    await withDeadline(
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      timeoutMs,
      () => client.disconnect(),
    );
  } catch (err) {
    throw reason ?? err;
  } finally {
    client.disconnect();
  }
}

async function probePostgres(url: QueueUrl, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url.href, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await withDeadline(
      (async () => {
        await client.connect();
        await client.query('SELECT 1');
      })(),
      timeoutMs,
      () => void client.end().catch(() => undefined),
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Parses `url` and checks, within `timeoutMs`, that its server answers and accepts the login. Throws a
 * QueueConnectionError naming the URL (password masked) and the reason otherwise.
 */
export async function probeQueueUrl(url: string, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<QueueUrl> {
  const parsed = parseQueueUrl(url);
  try {
    if (parsed.kind === 'redis') await probeRedis(parsed, timeoutMs);
    else await probePostgres(parsed, timeoutMs);
  } catch (err) {
    const cause = describeCause(err);
    const silent =
      /no answer within|timeout|timed out|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN/i;
    throw new QueueConnectionError(
      parsed.masked,
      silent.test(cause)
        ? `queue ${parsed.masked} does not answer (waited at most ${(timeoutMs / 1000).toFixed(1)} s): ${cause}`
        : `queue ${parsed.masked} refused the connection: ${cause}`,
      { cause: err },
    );
  }
  return parsed;
}

/** BullMQ's connection option for the URL, and the backend factory for PostgreSQL. */
function connectionOf(url: QueueUrl) {
  return url.kind === 'redis'
    ? // BullMQ needs maxRetriesPerRequest: null for the blocking connections of workers.
      ({ connection: { url: url.href, maxRetriesPerRequest: null }, backend: undefined } as const)
    : ({
        connection: { connectionString: url.href, migrate: true },
        backend: createPostgresBackend,
      } as const);
}

/** A BullMQ Queue for `url` (already probed). */
export function openQueue(url: QueueUrl, name: string): AnyQueue {
  const { connection, backend } = connectionOf(url);
  const queue =
    backend === undefined ? new Queue(name, { connection }) : new Queue(name, { connection }, backend);
  return queue as unknown as AnyQueue;
}

/** A BullMQ Worker for `url` (already probed); it starts taking jobs when `autorun` is not false. */
export function openWorker(
  url: QueueUrl,
  name: string,
  processor: Processor<unknown, unknown, string>,
  options: Omit<BullWorkerOptions, 'connection'>,
): AnyWorker {
  const { connection, backend } = connectionOf(url);
  const worker =
    backend === undefined
      ? new Worker(name, processor, { ...options, connection })
      : new Worker(name, processor, { ...options, connection }, backend);
  return worker as unknown as AnyWorker;
}
