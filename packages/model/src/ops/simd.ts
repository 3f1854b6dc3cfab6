/**
 * Fused kernels for the wasm backend, in WebAssembly SIMD (simd/kernels.wat, assembled into
 * simd/kernels-wasm.ts by tools/kernels/assemble.mjs). The module imports the backend's own memory, so a kernel reads
 * and writes tensors where they are, with no copy in or out:
 *
 * - `IqaGeluGate`: u + u·erf(u), the Swin MLP's exact GELU with its 1/√2 folded into the weights around it. wasm's
 *   Erf is scalar and value-dependent (3.5 ms for 1.2 M values near 0, 25 ms for values of spread 4) and is followed
 *   by a Mul and an Add; this is one pass of ~1.4 ms whatever the values. erf is a rational approximation fitted by
 *   tools/kernels/fit_erf.py, |error| ≤ 3.8e-7 (tfjs's cpu Erf: 1.5e-7).
 * - `IqaNormalize`: LayerNorm without its affine part over the last axis (7 kernels otherwise), 3-6x faster.
 * - `IqaWindowAttention`: Swin window attention, softmax(q·kᵀ + bias)·v for every window and head, straight from and
 *   to the linear layers' [tokens, heads·d] layout: replaces 5 transposes, 2 depthwise-conv products, an Add and a
 *   Softmax per block.
 *
 * They serve inference: under a gradient tape the ops take the tfjs path, whose gradients tfjs knows. So do other
 * backends, engines without wasm SIMD, a wasm backend whose memory cannot be imported (the shared heap of a threaded
 * build) and shapes a kernel does not take (GELU: fewer than 8 values; normalize: a last axis not a multiple of 4;
 * attention: a head dim not a multiple of 16 or fewer than 4 tokens per window).
 */
import * as tf from '@tensorflow/tfjs';
import { recordingGradients } from '../derived.js';
import { GELU_GATE_KERNEL, NORMALIZE_KERNEL, WINDOW_ATTENTION_KERNEL } from './kernel-names.js';
import type { WasmBackendLike } from './kernels.js';
import { KERNELS_WASM_BASE64 } from './simd/kernels-wasm.js';

interface SimdExports {
  gelu(src: number, dst: number, n: number): void;
  normalize(src: number, dst: number, rows: number, cols: number, eps: number): void;
  attention(
    q: number,
    k: number,
    v: number,
    bias: number,
    out: number,
    scratch: number,
    windows: number,
    period: number,
    n: number,
    heads: number,
    d: number,
  ): void;
}

/** The part of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
interface WasmJsApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: abstract new (...args: never[]) => object;
}
const wasmApi = (globalThis as { WebAssembly?: WasmJsApi }).WebAssembly;

let compiled: object | null | undefined;
const instances = new WeakMap<object, SimdExports | null>();

function compileOnce(): object | null {
  if (compiled === undefined) {
    try {
      const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0));
      compiled = wasmApi?.validate(bytes) ? new wasmApi.Module(bytes) : null; // null: no wasm SIMD here
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** The kernels bound to this backend's heap, or null when they cannot run there. */
function simdFor(backend: object): SimdExports | null {
  const hit = instances.get(backend);
  if (hit !== undefined) return hit;
  let result: SimdExports | null = null;
  const memory = (backend as Partial<WasmBackendLike>).wasm?.asm?.memory;
  const mod = wasmApi && memory instanceof wasmApi.Memory ? compileOnce() : null;
  if (wasmApi && mod) {
    try {
      result = new wasmApi.Instance(mod, { env: { memory } }).exports as SimdExports;
    } catch {
      result = null; // e.g. a shared (threaded) heap: the import does not match
    }
  }
  instances.set(backend, result);
  return result;
}

/** True when the active backend runs the fused kernels. */
export function simdKernelsActive(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  registerSimdKernels();
  return simdFor(tf.backend()) !== null;
}

function offset(backend: WasmBackendLike, t: tf.TensorInfo): number {
  const entry = backend.dataIdMap.get(t.dataId);
  if (!entry) throw new Error('simd kernel: tensor data not on this wasm backend');
  return entry.memoryOffset;
}

const geluKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const wasm = backend as unknown as WasmBackendLike;
  const x = inputs.x as tf.TensorInfo;
  const out = wasm.makeOutput(x.shape, 'float32'); // may grow the heap: offsets are read after
  const simd = simdFor(wasm) as SimdExports;
  simd.gelu(offset(wasm, x), offset(wasm, out), tf.util.sizeFromShape(x.shape));
  return out;
};

const normalizeKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const wasm = backend as unknown as WasmBackendLike;
  const x = inputs.x as tf.TensorInfo;
  const cols = x.shape[x.shape.length - 1];
  const out = wasm.makeOutput(x.shape, 'float32');
  const simd = simdFor(wasm) as SimdExports;
  simd.normalize(
    offset(wasm, x),
    offset(wasm, out),
    tf.util.sizeFromShape(x.shape) / cols,
    cols,
    (attrs as { eps: number }).eps,
  );
  return out;
};

interface AttentionAttrs {
  windows: number;
  period: number;
  heads: number;
}

const attentionKernel: tf.KernelFunc = ({ inputs, attrs, backend }) => {
  const wasm = backend as unknown as WasmBackendLike;
  const { q, k, v, bias } = inputs as Record<'q' | 'k' | 'v' | 'bias', tf.TensorInfo>;
  const { windows, period, heads } = attrs as unknown as AttentionAttrs;
  const [rows, c] = q.shape;
  const n = rows / windows;
  const out = wasm.makeOutput([rows, c], 'float32');
  const scratch = wasm.makeOutput([2 * n], 'float32');
  const simd = simdFor(wasm) as SimdExports;
  const at = (t: tf.TensorInfo): number => offset(wasm, t);
  simd.attention(at(q), at(k), at(v), at(bias), at(out), at(scratch), windows, period, n, heads, c / heads);
  wasm.disposeData(scratch.dataId, true);
  return out;
};

let registered = false;

/** Registers the kernels for the wasm backend once per process (idempotent). */
export function registerSimdKernels(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, kernelFunc] of [
    [GELU_GATE_KERNEL, geluKernel],
    [NORMALIZE_KERNEL, normalizeKernel],
    [WINDOW_ATTENTION_KERNEL, attentionKernel],
  ] as const) {
    if (!tf.getKernel(kernelName, 'wasm')) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}

function fusable(x: tf.Tensor, minSize: number): boolean {
  return x.dtype === 'float32' && x.size >= minSize && !recordingGradients() && simdKernelsActive();
}

/** u + u·erf(u) by the fused kernel, or null where it does not run (see the file comment). */
export function simdGeluGate<T extends tf.Tensor>(u: T): T | null {
  return fusable(u, 8) ? (tf.engine().runKernel(GELU_GATE_KERNEL, { x: u }) as T) : null;
}

/** (x - mean) / √(var + eps) over the last axis by the fused kernel, or null where it does not run. */
export function simdNormalize<T extends tf.Tensor>(x: T, eps: number): T | null {
  const cols = x.shape[x.shape.length - 1] ?? 0;
  return cols % 4 === 0 && fusable(x, 4)
    ? (tf.engine().runKernel(NORMALIZE_KERNEL, { x }, { eps }) as T)
    : null;
}

/** True when simdWindowAttention runs for this geometry now (inference on wasm, head dim a multiple of 16, n ≥ 4). */
export function simdAttentionApplies(headDim: number, tokensPerWindow: number): boolean {
  return headDim % 16 === 0 && tokensPerWindow >= 4 && !recordingGradients() && simdKernelsActive();
}

/**
 * softmax(q·kᵀ + bias)·v of every window and head in one pass over the linear layers' layout, [windows·n, heads·d]
 * for q (scaled), k, v and the result; bias [period, heads, n, n], window w taking bias window w mod period. No
 * transposes, no score tensor. Call only where simdAttentionApplies.
 */
export function simdWindowAttention(
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  bias: tf.Tensor4D,
  windows: number,
  heads: number,
): tf.Tensor2D {
  const [period, bh, n, n2] = bias.shape;
  const c = q.shape[1];
  if (bh !== heads || n2 !== n || q.shape[0] !== windows * n || windows % period !== 0 || c % heads !== 0) {
    throw new Error(
      `simdWindowAttention: q [${q.shape}] with ${windows} windows and ${heads} heads does not fit bias [${bias.shape}]`,
    );
  }
  if (!simdAttentionApplies(c / heads, n))
    throw new Error('simdWindowAttention: the kernel does not apply here');
  for (const t of [q, k, v, bias])
    if (t.dtype !== 'float32') throw new Error('simdWindowAttention: float32 only');
  if (!tf.util.arraysEqual(k.shape, q.shape) || !tf.util.arraysEqual(v.shape, q.shape)) {
    throw new Error(`simdWindowAttention: q, k, v shapes differ: [${q.shape}] [${k.shape}] [${v.shape}]`);
  }
  return tf
    .engine()
    .runKernel(WINDOW_ATTENTION_KERNEL, { q, k, v, bias }, { windows, period, heads }) as tf.Tensor2D;
}
