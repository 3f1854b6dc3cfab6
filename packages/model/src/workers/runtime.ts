/**
 * One worker runtime for everything that runs a model replica per thread (scoring, data-parallel training). A
 * ReplicaPool starts N worker_threads; each selects its own backend (wasm in Node is single-threaded, so N threads use
 * N cores), builds one model from a {@link PoolModelSource}, and serves typed requests with the handler module named
 * by URL: a module whose default export is {@link defineReplicaHandler}'s result. The main thread sends a request to
 * worker i and gets its reply (ids matched, transferable buffers moved, a handler's error rethrown with the worker's
 * stack, a crashed or exited worker rejecting what it had pending).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BackendPreference, BackendSelection } from '../backend.js';
import { loadCheckpoint } from '../checkpoint.js';
import type { ModelConfig } from '../config.js';
import { createModel, type IqaModel } from '../model.js';
import { loadStateDict } from '../weights/load.js';
import type { FromWorker, PoolModelSource, ToWorker } from './protocol.js';

export type { PoolModelSource } from './protocol.js';

const TRANSFER = Symbol.for('@iqa-bench/model/workers.transfer');

/** A reply together with the buffers to move (not copy) to the other thread. */
export class Transfer<T> {
  readonly [TRANSFER] = true;
  constructor(
    readonly value: T,
    readonly list: readonly ArrayBuffer[],
  ) {}

  /** Also true for a Transfer made by another copy of this module (a handler importing the built package). */
  static is(x: unknown): x is Transfer<unknown> {
    return typeof x === 'object' && x !== null && (x as { [TRANSFER]?: unknown })[TRANSFER] === true;
  }
}

/** Replies with `value`, moving `list` to the main thread (the worker's views on them are detached afterwards). */
export function withTransfer<T>(value: T, list: readonly ArrayBuffer[]): Transfer<T> {
  return new Transfer(value, list);
}

/** What a handler module's default export holds: how a worker's model becomes its state, and the requests. */
export interface ReplicaHandler<S, R extends RequestMap<S> = RequestMap<S>> {
  /** Once per worker, after the model is built: the state handed to every request (default: the model itself). */
  setup?: (model: IqaModel) => S | Promise<S>;
  /** The requests by kind: `(state, payload) => reply`, or a {@link Transfer} of the reply. */
  requests: R;
  /** Called on close, before the model is disposed. */
  dispose?: (state: S) => void;
}

export type RequestMap<S> = Record<string, (state: S, payload: never) => unknown>;

/** Types a handler module's default export (the identity at run time). */
export function defineReplicaHandler<S, R extends RequestMap<S>>(
  handler: ReplicaHandler<S, R>,
): ReplicaHandler<S, R> {
  return handler;
}

export function isReplicaHandler(x: unknown): x is ReplicaHandler<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { requests?: unknown }).requests === 'object';
}

/** Any handler, as the main thread sees it (its type only: the module itself is loaded by the workers). */
export interface AnyReplicaHandler {
  requests: Record<string, (state: never, payload: never) => unknown>;
}
export type RequestKind<H extends AnyReplicaHandler> = keyof H['requests'] & string;
export type RequestPayload<H extends AnyReplicaHandler, K extends RequestKind<H>> = H['requests'][K] extends (
  state: never,
  payload: infer P,
) => unknown
  ? P
  : never;
export type RequestReply<H extends AnyReplicaHandler, K extends RequestKind<H>> =
  Awaited<ReturnType<H['requests'][K]>> extends Transfer<infer V> ? V : Awaited<ReturnType<H['requests'][K]>>;

/** Builds a worker's model from its source. */
export async function buildReplica(source: PoolModelSource): Promise<IqaModel> {
  if ('checkpoint' in source) {
    return (await loadCheckpoint(source.checkpoint, { strict: source.strict ?? true })).model;
  }
  if ('weights' in source) {
    const model = createModel(source.config, { seed: 0, randomInit: false });
    try {
      loadStateDict(model.params, source.weights, { source: 'replica weights' });
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }
  return createModel(source.config, { seed: source.seed });
}

/** A handler's error (or a worker's failure), with the worker's stack below the main thread's. */
export class ReplicaError extends Error {
  constructor(
    message: string,
    /** Index of the worker. */
    readonly worker: number,
    /** The stack of the error in the worker ('' when the worker crashed or exited). */
    readonly workerStack: string = '',
    name = 'ReplicaError',
  ) {
    super(message);
    this.name = name;
    if (workerStack) this.stack = `${workerStack}\n    at <main thread>\n${this.stack ?? ''}`;
  }
}

export interface ReplicaPoolOptions {
  /** The handler module's URL (a `file:` URL ending in `.js` whose file is missing falls back to the `.ts` beside it). */
  handler: URL | string;
  /** Where each worker's model comes from. */
  source: PoolModelSource;
  /** Worker threads, 1 to 64. */
  workers: number;
  /** Backend of every worker (default 'wasm'). */
  backend?: BackendPreference;
  /** Names the pool in errors (default 'replica'). */
  name?: string;
}

/** What each worker reported once its replica was built. */
export interface ReplicaInfo {
  backend: BackendSelection;
  config: ModelConfig;
  /** The model's parameter names in state-dict order. */
  params: string[];
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
}

class Slot {
  readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Set once the thread is gone: every later request rejects with it. */
  gone: Error | null = null;
  ready: Pending | null = null;

  constructor(
    readonly worker: Worker,
    readonly index: number,
    label: string,
  ) {
    const failAll = (e: Error) => {
      this.gone ??= e;
      this.ready?.reject(e);
      this.ready = null;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        this.ready?.resolve(m);
        this.ready = null;
        return;
      }
      const error = m.type === 'error' ? new ReplicaError(m.message, index, m.stack, m.name) : null;
      if (m.id === null) {
        this.ready?.reject(error ?? new Error(`${label} worker ${index}: unexpected reply`));
        this.ready = null;
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (error) p.reject(error);
      else if (m.type === 'reply') p.resolve(m.value);
    });
    worker.on('error', (e: Error) =>
      failAll(new ReplicaError(`${label} worker ${index} crashed: ${e.message}`, index)),
    );
    worker.on('exit', (code) =>
      failAll(new ReplicaError(`${label} worker ${index} exited (code ${code})`, index)),
    );
  }

  init(msg: ToWorker): Promise<ReplicaInfo> {
    return new Promise((resolve, reject) => {
      this.ready = { resolve: (m) => resolve(m as ReplicaInfo), reject };
      this.worker.postMessage(msg);
    });
  }

  request(kind: string, payload: unknown, transfer: readonly ArrayBuffer[]): Promise<unknown> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(
        { type: 'request', id, kind, payload } satisfies ToWorker,
        transfer as ArrayBuffer[],
      );
    });
  }

  /** Asks the worker to dispose its replica and end; terminates it if it has not within 5 s. */
  close(): Promise<void> {
    if (this.gone) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => void this.worker.terminate(), 5000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.postMessage({ type: 'close' } satisfies ToWorker);
    });
  }
}

/**
 * The worker entry next to this file (`replica-worker.js` in the build, `.ts` in the sources). When the entry or the
 * handler is TypeScript (tests), the worker first registers tsx's loader (a dev dependency of the repository).
 */
function spawn(handler: string): Worker {
  const js = new URL('./replica-worker.js', import.meta.url);
  const entry = existsSync(fileURLToPath(js))
    ? js.href
    : new URL('./replica-worker.ts', import.meta.url).href;
  if (entry.endsWith('.js') && !handler.endsWith('.ts')) return new Worker(new URL(entry));
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true });
}

function handlerHref(handler: URL | string): string {
  if (!(handler instanceof URL) && !URL.canParse(handler)) {
    throw new Error(
      `ReplicaPool: handler must be a URL (e.g. new URL('./handler.js', import.meta.url)), got '${handler}'`,
    );
  }
  const url = new URL(handler);
  if (url.protocol === 'file:' && url.pathname.endsWith('.js') && !existsSync(fileURLToPath(url))) {
    const ts = new URL(url.href.replace(/\.js$/, '.ts'));
    if (existsSync(fileURLToPath(ts))) return ts.href;
  }
  return url.href;
}

/** N worker threads, each with its own backend and model replica, serving the requests of handler `H`. */
export class ReplicaPool<H extends AnyReplicaHandler> {
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly slots: Slot[],
    /** What each worker reported (backend, config, parameter names), by worker index. */
    readonly replicas: ReplicaInfo[],
  ) {}

  /** Number of worker threads. */
  get size(): number {
    return this.slots.length;
  }

  /**
   * Starts the workers and builds the replica in each; resolves when all are ready. If one fails, all are stopped and
   * the first failure is thrown (a ReplicaError with the worker's message and stack).
   */
  static async start<H extends AnyReplicaHandler>(opts: ReplicaPoolOptions): Promise<ReplicaPool<H>> {
    const label = opts.name ?? 'replica';
    const n = opts.workers;
    if (!Number.isInteger(n) || n < 1 || n > 64) {
      throw new Error(`${label} pool: workers must be an integer in [1, 64], got ${String(n)}`);
    }
    const handler = handlerHref(opts.handler);
    const slots = Array.from({ length: n }, (_, i) => new Slot(spawn(handler), i, label));
    const init: ToWorker = { type: 'init', handler, source: opts.source, backend: opts.backend ?? 'wasm' };
    try {
      const replicas = await Promise.all(slots.map((s) => s.init(init)));
      return new ReplicaPool<H>(slots, replicas);
    } catch (e) {
      await Promise.all(slots.map((s) => s.worker.terminate()));
      throw e;
    }
  }

  /** Sends request `kind` to worker `worker`; resolves with the handler's reply. */
  request<K extends RequestKind<H>>(
    worker: number,
    kind: K,
    payload: RequestPayload<H, K>,
    transfer: readonly ArrayBuffer[] = [],
  ): Promise<RequestReply<H, K>> {
    const slot = this.slots[worker];
    if (!slot) return Promise.reject(new RangeError(`no worker ${worker} (the pool has ${this.size})`));
    if (this.closing) return Promise.reject(new Error('the pool is closed'));
    return slot.request(kind, payload, transfer) as Promise<RequestReply<H, K>>;
  }

  /** Disposes the replicas and ends the threads (after the requests already sent). Idempotent. */
  close(): Promise<void> {
    this.closing ??= Promise.all(this.slots.map((s) => s.close())).then(() => undefined);
    return this.closing;
  }
}
