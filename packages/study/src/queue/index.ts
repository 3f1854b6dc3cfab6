/**
 * Running studies on several machines: a queue (BullMQ on Redis or on PostgreSQL), workers that take runs from it
 * confined to a root folder, and a PostgreSQL server from npm for labs that have neither.
 */
export type { QueueBackendKind, QueueUrl } from './url.js';
export { maskQueueUrl, parseQueueUrl, QueueConnectionError } from './url.js';
export { DEFAULT_CONNECT_TIMEOUT_MS, probeQueueUrl } from './connection.js';
export type {
  EnqueueOptions,
  EnqueueOutcome,
  QueueCallOptions,
  QueueStatus,
  RunState,
  RunStatus,
  WaitOptions,
} from './queue.js';
export { DEFAULT_QUEUE_NAME, enqueueRuns, queueStatus, waitForRuns } from './queue.js';
export type { AcceptedJob, JobContext, JobEnvelope, JobHandler, JobKind } from './jobs.js';
export {
  acceptJob,
  createJob,
  defaultJobKinds,
  JOB_FORMAT,
  JobKindRegistry,
  JobRefusedError,
  MAX_JOB_BYTES,
  MAX_JOB_DEPTH,
  MAX_JOB_PATHS,
  registerJobKind,
  STUDY_VERSION,
} from './jobs.js';
export { confinePath, MAX_JOB_PATH_LENGTH, PathEscapeError, relativePathProblem } from './paths.js';
export type { JobWorkerOptions, QueueJob, QueueWorker, QueueWorkerOptions } from './worker.js';
export { DEFAULT_WORKER_TIMINGS, serveJobWorker, startJobWorker, startWorker } from './worker.js';
export { onStopSignals } from './signals.js';
export type { QueueServer, QueueServerExit, QueueServerOptions } from './server.js';
export {
  processAlive,
  QUEUE_DB_NAME,
  QUEUE_DB_USER,
  QueueServerError,
  serveQueue,
  startQueueServer,
  UNPRIVILEGED_ID,
} from './server.js';
