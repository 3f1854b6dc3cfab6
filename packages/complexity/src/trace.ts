/**
 * Kernel tracing: wraps the tfjs engine's kernel dispatch (`runKernelFunc`, which every op, gradient and customGrad
 * goes through) for the duration of one synchronous call, and records each executed kernel with its input/output
 * shapes, attrs, tensor ids and the stack of named scopes it ran in. The hook is removed afterwards, also on error.
 *
 * Only real kernels are recorded: a `tf.customGrad` frame (a kernel-less invocation) is passed through and the
 * kernels inside it are recorded; a kernel that a backend runs *inside* another kernel is not recorded, so the trace
 * does not depend on how a backend composes its kernels.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorMeta } from './kernels.js';

export interface TracedTensor extends TensorMeta {
  /** Engine tensor id (-1 when the engine passed a bare TensorInfo). */
  readonly id: number;
  /**
   * Key of the tensor's data (`dataKeyOf(dataId)`): tensors that share data (a reshape done as a view, without a
   * kernel) share it, so provenance follows the data rather than the tensor object.
   */
  readonly data: number;
}

const dataKeys = new WeakMap<object, number>();
let nextDataKey = 1;

/** A process-wide number for a tensor's `dataId` (stable while the data lives). */
export function dataKeyOf(dataId: object): number {
  let key = dataKeys.get(dataId);
  if (key === undefined) {
    key = nextDataKey++;
    dataKeys.set(dataId, key);
  }
  return key;
}

export interface TracedKernel {
  /** Position in execution order. */
  readonly index: number;
  readonly kernel: string;
  readonly inputs: Readonly<Record<string, TracedTensor>>;
  /** JSON-safe copy of the kernel attrs. */
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly outputs: readonly TracedTensor[];
  /** Names of the user scopes (`tf.tidy(name, fn)`) the kernel ran in, outermost first; op and engine scopes removed. */
  readonly scopes: readonly string[];
}

export interface KernelTrace<T> {
  readonly kernels: TracedKernel[];
  readonly result: T;
  /** Active backend name during the trace. */
  readonly backend: string;
  /** Live tensor bytes (engine count, all backends) when the trace started. */
  readonly baselineBytes: number;
  /** Highest live tensor bytes seen after any kernel of the trace. */
  readonly peakBytes: number;
}

interface KernelInvocation {
  kernelName?: string;
  inputs: Record<string, unknown>;
  attrs?: Record<string, unknown>;
}

interface HookableEngine {
  runKernelFunc(params: KernelInvocation): unknown;
  state: { scopeStack: { name: string }[]; numBytes: number };
}

/** Scope names the engine itself creates: op wrappers (`matMul__op`), unnamed tidies and `tf.grad`'s tidies. */
export function isUserScope(name: string): boolean {
  return !(
    name === '' ||
    name === 'unnamed scope' ||
    name.endsWith('__op') ||
    name === 'forward' ||
    name === 'backward'
  );
}

let tracing = false;

function isTensorLike(v: unknown): v is { shape: number[]; dtype: string; id?: number; dataId?: unknown } {
  return typeof v === 'object' && v !== null && Array.isArray((v as { shape?: unknown }).shape);
}

function meta(v: unknown): TracedTensor | undefined {
  if (!isTensorLike(v)) return undefined;
  const data = typeof v.dataId === 'object' && v.dataId !== null ? dataKeyOf(v.dataId) : -1;
  return { id: typeof v.id === 'number' ? v.id : -1, data, shape: [...v.shape], dtype: v.dtype };
}

function jsonSafe(v: unknown): unknown {
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (typeof v === 'object') {
    if (isTensorLike(v)) return { shape: [...v.shape], dtype: v.dtype };
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const safe = jsonSafe(x);
      if (safe !== undefined) out[k] = safe;
    }
    return out;
  }
  return undefined;
}

/**
 * Runs `fn` once with the kernel hook installed and returns its result with the trace. `fn` must be synchronous
 * (like `tf.tidy`); the caller owns (and disposes) what it returns. Traces do not nest.
 */
export function traceKernels<T>(fn: () => T): KernelTrace<T> {
  if (tracing) throw new Error('traceKernels: a trace is already running (traces cannot be nested)');
  const engine = tf.engine() as unknown as HookableEngine;
  const backend = tf.getBackend();
  const kernels: TracedKernel[] = [];
  const baselineBytes = engine.state.numBytes;
  let peakBytes = baselineBytes;
  let depth = 0;

  const hadOwn = Object.prototype.hasOwnProperty.call(engine, 'runKernelFunc');
  const original = engine.runKernelFunc;
  const hooked = (params: KernelInvocation): unknown => {
    if (params.kernelName === undefined || depth > 0) return original.call(engine, params);
    const scopes = engine.state.scopeStack.map((s) => s.name).filter(isUserScope);
    depth += 1;
    let out: unknown;
    try {
      out = original.call(engine, params);
    } finally {
      depth -= 1;
    }
    const inputs: Record<string, TracedTensor> = {};
    for (const [name, t] of Object.entries(params.inputs ?? {})) {
      const m = meta(t);
      if (m !== undefined) inputs[name] = m;
    }
    const outs = (Array.isArray(out) ? out : [out])
      .map(meta)
      .filter((m): m is TracedTensor => m !== undefined);
    kernels.push({
      index: kernels.length,
      kernel: params.kernelName,
      inputs,
      attrs: (jsonSafe(params.attrs ?? {}) ?? {}) as Record<string, unknown>,
      outputs: outs,
      scopes,
    });
    peakBytes = Math.max(peakBytes, engine.state.numBytes);
    return out;
  };

  tracing = true;
  engine.runKernelFunc = hooked;
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new Error('traceKernels: fn returned a Promise; the traced forward must be synchronous');
    }
    return { kernels, result, backend, baselineBytes, peakBytes };
  } finally {
    if (hadOwn) engine.runKernelFunc = original;
    else delete (engine as Partial<HookableEngine>).runKernelFunc;
    tracing = false;
  }
}
