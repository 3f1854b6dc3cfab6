/**
 * Layout moves that stay on fast kernels.
 *
 * The wasm Transpose kernel has dedicated loops for rank <= 4 only; rank 5+ goes through a generic per-element path
 * that is ~100x slower. It removes size-1 axes but does not merge axes that stay adjacent, so `permute` does that
 * first: [B, h, w, h', w', C] with perm [0,1,3,2,4,5] becomes a rank-3/4 transpose.
 */
import * as tf from '@tensorflow/tfjs';
import { recordingGradients } from '../derived.js';

/**
 * tf.reshape without running a kernel when no gradient is recorded: a new tensor on the same data. A model forward
 * makes ~700 reshapes; through the kernel path each costs ~10 µs of bookkeeping.
 */
export function view<T extends tf.Tensor>(x: tf.Tensor, shape: number[]): T {
  if (recordingGradients()) return tf.reshape(x, shape) as T;
  let size = 1;
  let infer = -1;
  shape.forEach((d, i) => {
    if (d === -1) infer = i;
    else size *= d;
  });
  const dims = [...shape];
  if (infer >= 0) dims[infer] = x.size / size;
  if (dims.reduce((a, b) => a * b, 1) !== x.size)
    throw new Error(`view: cannot view [${x.shape}] as [${shape}]`);
  // What the Reshape kernels do: one more reference on the data, a new tensor on it.
  const engine = tf.engine();
  const info = engine.state.tensorInfo.get(x.dataId);
  if (!info) return tf.reshape(x, dims) as T;
  info.backend.incRef(x.dataId);
  return engine.makeTensorFromDataId(x.dataId, dims, x.dtype, info.backend) as T;
}

/** Merged form of a transpose: input shape, perm and output shape with adjacent-in-both axes fused. */
export function mergedTranspose(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } {
  if (perm.length !== shape.length)
    throw new Error(`permute: perm [${perm}] does not match rank ${shape.length}`);
  // Drop size-1 axes (they do not move data).
  const keep = perm.filter((p) => shape[p] !== 1);
  // Group runs of consecutive input axes that also appear consecutively in the output order.
  const groups: number[][] = [];
  for (const p of keep) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] + 1 === p) last.push(p);
    else groups.push([p]);
  }
  const order = [...groups].sort((a, b) => a[0] - b[0]);
  const mShape = order.map((g) => g.reduce((s, a) => s * shape[a], 1));
  const mPerm = groups.map((g) => order.indexOf(g));
  return { shape: mShape, perm: mPerm };
}

/** tf.transpose with adjacent axes merged first, so that the backend's rank <= 4 loops run. */
export function permute<T extends tf.Tensor>(x: T, perm: number[]): T {
  const outShape = perm.map((p) => x.shape[p]);
  const m = mergedTranspose(x.shape, perm);
  const isIdentity = m.perm.every((p, i) => p === i);
  if (isIdentity) return view(x, outShape);
  const xm = view(x, m.shape);
  const t = tf.transpose(xm, m.perm);
  const out = view<T>(t, outShape);
  if (xm !== x) xm.dispose();
  t.dispose();
  return out;
}

/**
 * torch.roll(x, shifts=(s, s), dims=(1, 2)) for NHWC x: out[:, i, j] = x[:, (i - s) mod H, (j - s) mod W].
 * Done on flattened rows so every slice is a block of contiguous memory.
 */
export function roll2d(x: tf.Tensor4D, shift: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const sh = ((shift % h) + h) % h;
  const sw = ((shift % w) + w) % w;
  if (sh === 0 && sw === 0) return x;
  return tf.tidy(() => {
    let y: tf.Tensor = tf.reshape(x, [b, h * w * c]);
    if (sh !== 0) {
      const k = (h - sh) * w * c;
      y = tf.concat([tf.slice(y, [0, k], [-1, -1]), tf.slice(y, [0, 0], [-1, k])], 1);
    }
    if (sw !== 0) {
      const rows = tf.reshape(y, [b * h, w * c]);
      const k = (w - sw) * c;
      y = tf.concat([tf.slice(rows, [0, k], [-1, -1]), tf.slice(rows, [0, 0], [-1, k])], 1);
    }
    return tf.reshape(y, [b, h, w, c]);
  });
}
