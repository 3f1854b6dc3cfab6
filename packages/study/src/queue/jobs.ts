/**
 * The job envelope every queued job carries, and the registry of job kinds a worker runs.
 *
 * A job is `{ format, version, kind, paths, payload }`: `version` is the coordinator's iqa-bench version (a worker of
 * another version refuses the job, naming both), `kind` selects a registered handler, `paths` are named paths
 * relative to the worker's root (confined to it, symbolic links followed), and `payload` is validated by the kind's
 * own zod schema. Anything else — unknown fields, a kind the worker does not know, oversized or deeply nested data — is
 * refused before the handler runs, so nothing is read or written for it.
 */
import { readFileSync } from 'node:fs';
import { dataDepth } from '@iqa-bench/core/text';
import type { ZodType } from 'zod';
import { z } from 'zod';
import { confinePath } from './paths.js';
import { fieldPath } from '@iqa-bench/core/text';

/** The version of this package, which a coordinator stamps on its jobs unless told otherwise. */
export const STUDY_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const JOB_FORMAT = 'iqa-bench/job@1';
/** Largest job (its JSON) a worker accepts. */
export const MAX_JOB_BYTES = 256 * 1024;
/** Deepest nesting of a job's data a worker accepts. */
export const MAX_JOB_DEPTH = 32;
/** Most named paths one job may carry. */
export const MAX_JOB_PATHS = 64;

/** What travels through the queue. */
export interface JobEnvelope<P = unknown> {
  format: typeof JOB_FORMAT;
  /** The coordinator's iqa-bench version. */
  version: string;
  /** Which registered handler runs the job. */
  kind: string;
  /** Named paths relative to the worker's root, forward slashes. */
  paths: Record<string, string>;
  /** The kind's own data, validated by its schema. */
  payload: P;
}

const KIND_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;
const PATH_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

const envelopeSchema = z.strictObject({
  format: z.literal(JOB_FORMAT),
  version: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[0-9A-Za-z.+-]+$/, 'expected a version such as 0.1.0'),
  kind: z.string().regex(KIND_PATTERN, 'expected a kind name: lower-case letters, digits and -'),
  paths: z
    .record(
      z.string().regex(PATH_NAME_PATTERN, 'expected a path name: letters, digits and _'),
      z.string().max(1024),
    )
    .refine((p) => Object.keys(p).length <= MAX_JOB_PATHS, `expected at most ${MAX_JOB_PATHS} paths`),
  payload: z.unknown(),
});

/** A job refused before its handler ran (malformed, unknown kind, other version, path outside the root). */
export class JobRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobRefusedError';
  }
}

function describeIssues(issues: readonly z.core.$ZodIssue[], prefix: string): string[] {
  return issues.slice(0, 20).map((issue) => {
    const at = fieldPath([...(prefix === '' ? [] : [prefix]), ...issue.path]) || '(root)';
    if (issue.code === 'unrecognized_keys') {
      return `${at}: unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    }
    return `${at}: ${issue.message}`;
  });
}

/** What a handler gets besides the payload. */
export interface JobContext {
  /** The job id (a run id). */
  readonly id: string;
  /** The worker's root folder (real path). */
  readonly root: string;
  /** The job's named paths, absolute and confined to `root`. */
  readonly paths: Readonly<Record<string, string>>;
  /** How many times the job has been started, this time included (a stalled job restarts with a higher count). */
  readonly attempt: number;
  /**
   * Aborted when the worker is stopping (SIGTERM / SIGINT): stop at the next safe point (a checkpoint) and throw; the
   * job goes back to the queue and another worker resumes it.
   */
  readonly signal: AbortSignal;
  /** Confines one more root-relative path (one found inside the payload, for instance). */
  confine(rel: string, what?: string): Promise<string>;
}

/** Runs one job of a kind; its result (plain JSON data) becomes the job's return value. */
export type JobHandler<P, R> = (payload: P, ctx: JobContext) => Promise<R>;

/** A registered job kind. */
export interface JobKind<P = unknown, R = unknown> {
  readonly kind: string;
  readonly schema: ZodType<P>;
  readonly handler: JobHandler<P, R>;
  /** The path names a job of this kind must give (and the only ones it may give). */
  readonly paths: readonly string[];
}

/** Job kinds by name; a worker runs only the kinds of its registry. */
export class JobKindRegistry {
  readonly #kinds = new Map<string, JobKind>();

  /** Adds a kind; registering a name twice is an error. */
  register<P, R>(
    kind: string,
    schema: ZodType<P>,
    handler: JobHandler<P, R>,
    options: { paths?: readonly string[] } = {},
  ) {
    if (!KIND_PATTERN.test(kind))
      throw new Error(`job kind "${kind}": expected lower-case letters, digits and -`);
    if (this.#kinds.has(kind)) throw new Error(`job kind "${kind}" is already registered`);
    const paths = [...(options.paths ?? [])];
    for (const p of paths) {
      if (!PATH_NAME_PATTERN.test(p))
        throw new Error(`job kind "${kind}": path name "${p}" is not a valid name`);
    }
    this.#kinds.set(kind, { kind, schema, handler, paths } as JobKind);
  }

  get(kind: string): JobKind | undefined {
    return this.#kinds.get(kind);
  }

  /** The registered kind names, sorted. */
  kinds(): string[] {
    return [...this.#kinds.keys()].sort();
  }
}

/** The registry `registerJobKind` adds to and workers use unless given another. */
export const defaultJobKinds = new JobKindRegistry();

/** Registers a job kind in the default registry: its payload schema, its handler, the path names its jobs give. */
export function registerJobKind<P, R>(
  kind: string,
  schema: ZodType<P>,
  handler: JobHandler<P, R>,
  options: { paths?: readonly string[] } = {},
): void {
  defaultJobKinds.register(kind, schema, handler, options);
}

/** Builds an envelope (checking it as a worker will, minus the paths on disk). */
export function createJob<P>(job: {
  kind: string;
  payload: P;
  paths?: Record<string, string>;
  version?: string;
}): JobEnvelope<P> {
  const envelope: JobEnvelope<P> = {
    format: JOB_FORMAT,
    version: job.version ?? STUDY_VERSION,
    kind: job.kind,
    paths: job.paths ?? {},
    payload: job.payload,
  };
  const res = envelopeSchema.safeParse(envelope);
  if (!res.success) throw new Error(`invalid job: ${describeIssues(res.error.issues, '').join('; ')}`);
  checkSize(envelope);
  return envelope;
}

function checkSize(data: unknown): void {
  const depth = dataDepth(data);
  if (depth > MAX_JOB_DEPTH)
    throw new JobRefusedError(`nested ${depth} levels deep, expected at most ${MAX_JOB_DEPTH}`);
  const bytes = Buffer.byteLength(JSON.stringify(data) ?? '', 'utf8');
  if (bytes > MAX_JOB_BYTES)
    throw new JobRefusedError(`${bytes} bytes of JSON, expected at most ${MAX_JOB_BYTES}`);
}

/** A job checked and ready to run: its kind, its validated payload and its confined absolute paths. */
export interface AcceptedJob {
  readonly kind: JobKind;
  readonly payload: unknown;
  readonly paths: Readonly<Record<string, string>>;
}

/**
 * Checks a job's data the way a worker does before running it, reading nothing but the root's folder entries:
 * envelope shape and bounds, version, kind, payload schema, and every path confined to `root`. Throws
 * JobRefusedError naming the first problems.
 */
export async function acceptJob(
  data: unknown,
  options: { root: string; version: string; registry: JobKindRegistry },
): Promise<AcceptedJob> {
  checkSize(data);
  const res = envelopeSchema.safeParse(data);
  if (!res.success)
    throw new JobRefusedError(`not an iqa-bench job: ${describeIssues(res.error.issues, '').join('; ')}`);
  const env = res.data;
  if (env.version !== options.version) {
    throw new JobRefusedError(
      `made by iqa-bench ${env.version}, but this worker runs iqa-bench ${options.version}; run workers of the coordinator's version`,
    );
  }
  const kind = options.registry.get(env.kind);
  if (kind === undefined) {
    const known = options.registry.kinds();
    throw new JobRefusedError(
      `unknown job kind "${env.kind}"; this worker runs ${known.length > 0 ? known.map((k) => `"${k}"`).join(', ') : 'no kinds'}`,
    );
  }
  const given = Object.keys(env.paths).sort();
  const unknown = given.filter((p) => !kind.paths.includes(p));
  const missing = kind.paths.filter((p) => !given.includes(p));
  if (unknown.length > 0 || missing.length > 0) {
    throw new JobRefusedError(
      `paths: ${[
        ...(unknown.length > 0 ? [`unknown ${unknown.map((p) => `'${p}'`).join(', ')}`] : []),
        ...(missing.length > 0 ? [`missing ${missing.map((p) => `'${p}'`).join(', ')}`] : []),
      ].join('; ')} (a "${kind.kind}" job gives ${kind.paths.map((p) => `'${p}'`).join(', ') || 'no paths'})`,
    );
  }
  const payload = kind.schema.safeParse(env.payload);
  if (!payload.success) {
    throw new JobRefusedError(
      `invalid "${kind.kind}" job: ${describeIssues(payload.error.issues, 'payload').join('; ')}`,
    );
  }
  const paths: Record<string, string> = {};
  for (const name of given) {
    try {
      paths[name] = await confinePath(options.root, env.paths[name], `paths.${name}`);
    } catch (err) {
      throw new JobRefusedError((err as Error).message);
    }
  }
  return { kind, payload: payload.data, paths };
}
