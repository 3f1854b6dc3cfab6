/**
 * Data-movement kernels registered for the wasm and cpu backends: block copies planned in JavaScript.
 *
 * - `IqaWindowPartition`: torch.roll(x, -shift) on H and W, then Swin window partition, in one pass:
 *   [B, H, W, C] → [B·nW·ws·ws, C] (windows row-major per image, tokens row-major per window).
 * - `IqaWindowReverse`: the inverse (window reverse, then roll by +shift). Each is the other's gradient.
 * - `IqaSliceRows`: rows [begin, begin+size) of x viewed as [rows, …].
 *
 * Why: the same results from tfjs ops need a roll (4 slices + 2 concats) and a transpose each way, and wasm's Slice
 * kernel copies its whole input out of the heap on every call. Here a copy plan (runs of contiguous channels) is built
 * once per geometry and applied with TypedArray.set. Backends without these kernels (tensorflow, webgl) get the same
 * results from tfjs ops (see partitionFallback / reverseFallback).
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './custom.js';
import { SLICE_ROWS_KERNEL, WINDOW_PARTITION_KERNEL, WINDOW_REVERSE_KERNEL } from './kernel-names.js';
import { permute, roll2d } from './layout.js';

type TypedFloat = Float32Array;

/**
 * What a kernel needs from a backend: make an output and fill it, reading inputs inside `fill` (allocating the output
 * may grow the wasm heap, which detaches every view taken before).
 */
interface HeapAccess {
  read(t: tf.TensorInfo): TypedFloat;
  output(shape: number[], fill: (out: TypedFloat) => void): tf.TensorInfo;
}

/** What the model's kernels use of tfjs-backend-wasm's BackendWasm (here and in ops/simd.ts). */
export interface WasmBackendLike {
  typedArrayFromHeap(t: tf.TensorInfo): TypedFloat;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(id: tf.DataId, force?: boolean): boolean;
  /** Where each tensor's data starts in the heap (bytes). */
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } | undefined };
  /** The emscripten module; `asm.memory` is the heap's WebAssembly.Memory. */
  wasm: { asm?: { memory?: unknown } };
}
interface CpuLike {
  data: { get(id: tf.DataId): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: TypedFloat): tf.TensorInfo;
}

function wasmAccess(backend: WasmBackendLike): HeapAccess {
  return {
    read: (t) => backend.typedArrayFromHeap(t),
    output: (shape, fill) => {
      const out = backend.makeOutput(shape, 'float32');
      fill(backend.typedArrayFromHeap(out));
      return out;
    },
  };
}

function cpuAccess(backend: CpuLike): HeapAccess {
  return {
    read: (t) => backend.data.get(t.dataId).values as TypedFloat,
    output: (shape, fill) => {
      const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
      fill(v);
      return backend.makeTensorInfo(shape, 'float32', v);
    },
  };
}

/** Copy runs (src offset, dst offset, length) in floats. */
type Plan = Int32Array;
const plans = new Map<string, Plan>();

/** Runs that move raster [B,H,W,C] (rolled by -shift) into window order. */
export function partitionPlan(b: number, h: number, w: number, c: number, ws: number, shift: number): Plan {
  const key = `${b},${h},${w},${c},${ws},${shift}`;
  const hit = plans.get(key);
  if (hit) return hit;
  const runs: number[] = [];
  const nWh = h / ws;
  const nWw = w / ws;
  let dst = 0;
  for (let bi = 0; bi < b; bi++)
    for (let wy = 0; wy < nWh; wy++)
      for (let wx = 0; wx < nWw; wx++)
        for (let ty = 0; ty < ws; ty++) {
          const sy = (((wy * ws + ty + shift) % h) + h) % h;
          let tx = 0;
          while (tx < ws) {
            const sx = (((wx * ws + tx + shift) % w) + w) % w;
            const len = Math.min(ws - tx, w - sx); // until the window row ends or the source row wraps
            runs.push(((bi * h + sy) * w + sx) * c, dst, len * c);
            dst += len * c;
            tx += len;
          }
        }
  const plan = Int32Array.from(runs);
  if (plans.size > 256) plans.clear();
  plans.set(key, plan);
  return plan;
}

function applyPlan(src: TypedFloat, dst: TypedFloat, plan: Plan, inverse: boolean): void {
  for (let i = 0; i < plan.length; i += 3) {
    const a = plan[i];
    const b = plan[i + 1];
    const n = plan[i + 2];
    if (inverse) dst.set(src.subarray(b, b + n), a);
    else dst.set(src.subarray(a, a + n), b);
  }
}

interface WindowAttrs {
  batch: number;
  height: number;
  width: number;
  channels: number;
  window: number;
  shift: number;
}

function windowKernel(inverse: boolean, access: (backend: unknown) => HeapAccess): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as WindowAttrs;
    const x = inputs.x as tf.TensorInfo;
    const io = access(backend);
    const plan = partitionPlan(a.batch, a.height, a.width, a.channels, a.window, a.shift);
    const shape = inverse
      ? [a.batch, a.height, a.width, a.channels]
      : [a.batch * a.height * a.width, a.channels];
    return io.output(shape, (dst) => applyPlan(io.read(x), dst, plan, inverse));
  };
}

function sliceRowsKernel(access: (backend: unknown) => HeapAccess): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const { begin, size } = attrs as unknown as { begin: number; size: number };
    const x = inputs.x as tf.TensorInfo;
    const inner = x.shape.slice(1).reduce((p, q) => p * q, 1);
    const io = access(backend);
    return io.output([size, ...x.shape.slice(1)], (dst) =>
      dst.set(io.read(x).subarray(begin * inner, (begin + size) * inner)),
    );
  };
}

let registered = false;

/** Registers the kernels once per process (idempotent). */
export function registerIqaKernels(): void {
  if (registered) return;
  registered = true;
  const backends: [string, (b: unknown) => HeapAccess][] = [
    ['wasm', (b) => wasmAccess(b as WasmBackendLike)],
    ['cpu', (b) => cpuAccess(b as CpuLike)],
  ];
  for (const [backendName, access] of backends) {
    const add = (kernelName: string, kernelFunc: tf.KernelFunc): void => {
      if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc });
    };
    add(WINDOW_PARTITION_KERNEL, windowKernel(false, access));
    add(WINDOW_REVERSE_KERNEL, windowKernel(true, access));
    add(SLICE_ROWS_KERNEL, sliceRowsKernel(access));
  }
}

function hasKernel(name: string): boolean {
  registerIqaKernels();
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** The tfjs-ops version of windowPartition (any backend). */
export function partitionFallback(x: tf.Tensor4D, ws: number, shift: number): tf.Tensor2D {
  const [b, h, w, c] = x.shape;
  return tf.tidy(() => {
    const r = shift ? roll2d(x, -shift) : x;
    return tf.reshape(permute(tf.reshape(r, [b, h / ws, ws, w / ws, ws, c]), [0, 1, 3, 2, 4, 5]), [
      b * h * w,
      c,
    ]);
  });
}

/** The tfjs-ops version of windowReverse (any backend). */
export function reverseFallback(
  y: tf.Tensor2D,
  b: number,
  h: number,
  w: number,
  ws: number,
  shift: number,
): tf.Tensor4D {
  const c = y.shape[1];
  return tf.tidy(() => {
    const r = tf.reshape(permute(tf.reshape(y, [b, h / ws, w / ws, ws, ws, c]), [0, 1, 3, 2, 4, 5]), [
      b,
      h,
      w,
      c,
    ]);
    return shift ? roll2d(r as tf.Tensor4D, shift) : (r as tf.Tensor4D);
  });
}

function windowAttrs(b: number, h: number, w: number, c: number, ws: number, shift: number): tf.NamedAttrMap {
  return { batch: b, height: h, width: w, channels: c, window: ws, shift };
}

/**
 * Swin window partition of the map rolled by -shift: [B,H,W,C] → [B·nW·ws·ws, C]. Differentiable (the gradient is
 * windowReverse); one copy pass on wasm and cpu.
 */
export function windowPartition(x: tf.Tensor4D, ws: number, shift: number): tf.Tensor2D {
  const [, h, w] = x.shape;
  if (h % ws !== 0 || w % ws !== 0)
    throw new Error(`windowPartition: map ${h}x${w} is not a multiple of window ${ws}`);
  if (!hasKernel(WINDOW_PARTITION_KERNEL) || x.dtype !== 'float32') return partitionFallback(x, ws, shift);
  const [b, , , c] = x.shape;
  const op = customOp(([xi]) => ({
    value: tf
      .engine()
      .runKernel(WINDOW_PARTITION_KERNEL, { x: xi }, windowAttrs(b, h, w, c, ws, shift)) as tf.Tensor,
    gradFunc: (dy) => [windowReverse(dy as tf.Tensor2D, b, h, w, ws, shift)],
  }));
  return op(x) as tf.Tensor2D;
}

/** Inverse of windowPartition: window order [B·nW·ws·ws, C] → raster [B,H,W,C] rolled back by +shift. */
export function windowReverse(
  y: tf.Tensor2D,
  b: number,
  h: number,
  w: number,
  ws: number,
  shift: number,
): tf.Tensor4D {
  if (!hasKernel(WINDOW_REVERSE_KERNEL) || y.dtype !== 'float32')
    return reverseFallback(y, b, h, w, ws, shift);
  const c = y.shape[1];
  const op = customOp(([yi]) => ({
    value: tf
      .engine()
      .runKernel(WINDOW_REVERSE_KERNEL, { x: yi }, windowAttrs(b, h, w, c, ws, shift)) as tf.Tensor,
    gradFunc: (dy) => [windowPartition(dy as tf.Tensor4D, ws, shift)],
  }));
  return op(y) as tf.Tensor4D;
}

/** Rows [begin, begin + size) of x (axis 0), without wasm Slice's full copy of x. Not differentiable: inference only. */
export function sliceRows<T extends tf.Tensor>(x: T, begin: number, size: number): T {
  if (begin < 0 || size < 1 || begin + size > x.shape[0]) {
    throw new Error(`sliceRows: rows [${begin}, ${begin + size}) outside [0, ${x.shape[0]})`);
  }
  if (!hasKernel(SLICE_ROWS_KERNEL) || x.dtype !== 'float32') {
    return tf.slice(x, [begin, ...x.shape.slice(1).map(() => 0)], [size, ...x.shape.slice(1)]) as T;
  }
  return tf.engine().runKernel(SLICE_ROWS_KERNEL, { x }, { begin, size }) as T;
}
