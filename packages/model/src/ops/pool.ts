/**
 * Pooling with PyTorch's semantics on NHWC maps, forward and backward with kernels the wasm backend has natively
 * (MaxPool + our own max-pool gradient, AvgPool/AvgPoolGrad, Mean).
 */
import * as tf from '@tensorflow/tfjs';
import { convOutSize, interleavePhases } from './conv.js';

/**
 * torch's max-pool backward: each output's gradient goes to the first maximum of its window in row-major scan order,
 * never to padding. (wasm's MaxPoolGrad in tfjs 4.22 treats padding as 0, so windows of negative values lose their
 * gradient, and it picks the last maximum on ties; the cpu kernel is right but slow.) Built from strided slices,
 * comparisons and a phase interleave, all native on wasm.
 */
function maxPoolGrad(
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  dy: tf.Tensor4D,
  k: number,
  s: number,
  p: number,
): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const [, ho, wo] = y.shape;
  const xp = tf.pad(
    x,
    [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ],
    -Infinity,
  );
  // Phase grids: tap (i, j) lands on padded rows s·t + i, i.e. phase (i mod s) at offset floor(i / s).
  const q = Math.ceil(k / s);
  const hq = ho - 1 + q;
  const wq = wo - 1 + q;
  const grids: (tf.Tensor4D | null)[][] = Array.from({ length: s }, () =>
    Array.from({ length: s }, () => null),
  );
  let taken: tf.Tensor4D = tf.zeros(y.shape, 'bool');
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const tap = tf.stridedSlice(
        xp,
        [0, i, j, 0],
        [b, i + s * (ho - 1) + 1, j + s * (wo - 1) + 1, c],
        [1, s, s, 1],
      );
      const hit = tf.logicalAnd(tf.equal(tap, y), tf.logicalNot(taken));
      taken = tf.logicalOr(taken, hit) as tf.Tensor4D;
      const contrib = tf.mul(dy, tf.cast(hit, 'float32')) as tf.Tensor4D;
      const oi = Math.floor(i / s);
      const oj = Math.floor(j / s);
      const placed = tf.pad(contrib, [
        [0, 0],
        [oi, hq - ho - oi],
        [oj, wq - wo - oj],
        [0, 0],
      ]);
      const g = grids[i % s][j % s];
      grids[i % s][j % s] = g ? (tf.add(g, placed) as tf.Tensor4D) : placed;
    }
  }
  const phases = grids.map((r) => r.map((g) => g ?? (tf.zeros([b, hq, wq, c]) as tf.Tensor4D)));
  let full = interleavePhases(phases); // padded coordinates, [B, s·hq, s·wq, C]
  const needH = p + h - full.shape[1];
  const needW = p + w - full.shape[2];
  if (needH > 0 || needW > 0)
    full = tf.pad(full, [
      [0, 0],
      [0, Math.max(0, needH)],
      [0, Math.max(0, needW)],
      [0, 0],
    ]);
  return tf.slice(full, [0, p, p, 0], [b, h, w, c]);
}

function makeMaxPoolOp(k: number, s: number, p: number) {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    // A numeric pad is explicit symmetric padding in tfjs; the forward kernels skip padded cells (torch's -inf).
    const value = tf.maxPool(x, k, s, p);
    save([x, value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) =>
        maxPoolGrad(saved[0] as tf.Tensor4D, saved[1] as tf.Tensor4D, dy, k, s, p),
    };
  });
}

const maxPoolOps = new Map<string, (x: tf.Tensor4D) => tf.Tensor4D>();

/**
 * torch `MaxPool2d(k, stride, padding)`: padded positions never win (padding acts as -inf), output side
 * floor((n + 2p - k) / s) + 1 (ceil_mode false), gradient to the first maximum of each window. ResNet's stem uses
 * (3, 2, 1).
 */
export function maxPool2d(x: tf.Tensor4D, k: number, stride: number, pad: number): tf.Tensor4D {
  if (pad > Math.floor(k / 2))
    throw new Error(`maxPool2d: pad ${pad} must be at most half the kernel ${k} (as torch)`);
  const [, h, w] = x.shape;
  if (convOutSize(h, k, stride, pad) < 1 || convOutSize(w, k, stride, pad) < 1) {
    throw new Error(`maxPool2d: input ${h}x${w} is too small for kernel ${k}`);
  }
  const key = `${k}/${stride}/${pad}`;
  let op = maxPoolOps.get(key);
  if (!op) {
    const raw = makeMaxPoolOp(k, stride, pad);
    op = (t) => raw(t) as tf.Tensor4D;
    maxPoolOps.set(key, op);
  }
  return op(x);
}

/** torch `AvgPool2d(k)` (stride k, no padding, floor): block means of k×k. */
export function avgPool2d(x: tf.Tensor4D, k: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h < k || w < k) throw new Error(`avgPool2d: input ${h}x${w} is smaller than the ${k}x${k} window`);
  return tf.avgPool(x, k, k, 'valid');
}

/**
 * torch `AdaptiveAvgPool2d(out)` for inputs whose sides are multiples of `out` (then it is exactly AvgPool2d(side/out)),
 * e.g. 56/28/14/7 → 7. Other sizes have overlapping, uneven bins and are rejected.
 */
export function adaptiveAvgPool2d(x: tf.Tensor4D, out: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h % out !== 0 || w % out !== 0) {
    throw new Error(
      `adaptiveAvgPool2d: input ${h}x${w} is not a multiple of ${out}; only exact block means are supported`,
    );
  }
  if (h === out && w === out) return x;
  if (h / out !== w / out)
    throw new Error(`adaptiveAvgPool2d: non-square blocks (${h}x${w} -> ${out}) are not supported`);
  return avgPool2d(x, h / out);
}

/** Global average pool (AdaptiveAvgPool2d(1) + flatten): [B,H,W,C] → [B,C]. */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]);
}
