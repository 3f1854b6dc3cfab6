/**
 * Pooling with PyTorch's semantics on NHWC maps: native kernels forward (MaxPool, AvgPool, Mean) and backward
 * (AvgPoolGrad), except the max-pool gradient, which is ours (see maxPoolGrad).
 */
import * as tf from '@tensorflow/tfjs';
import { convOutSize } from './conv.js';

/**
 * torch's max-pool backward: each output's gradient goes to the first maximum of its window in row-major scan order
 * (a NaN always takes over, as torch's `val > max || isnan(val)`), never to padding. One pass in JavaScript over the
 * input read once: wasm's MaxPoolGrad (tfjs 4.22) starts its running maximum at FLT_MIN instead of -inf, so a window
 * of values <= 0 sends its gradient to a wrong cell (after a ReLU that is every all-zero window), and it keeps the
 * last maximum on ties.
 */
function maxPoolGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, s: number, p: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const [, ho, wo] = dy.shape;
  const xv = x.dataSync() as Float32Array;
  const dv = dy.dataSync() as Float32Array;
  const dx = new Float32Array(x.size);
  const best = new Float32Array(c);
  const arg = new Int32Array(c);
  for (let n = 0; n < b; n++) {
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++) {
        best.fill(-Infinity);
        arg.fill(-1);
        for (let i = 0; i < k; i++) {
          const yy = oy * s - p + i;
          if (yy < 0 || yy >= h) continue;
          for (let j = 0; j < k; j++) {
            const xx = ox * s - p + j;
            if (xx < 0 || xx >= w) continue;
            const base = ((n * h + yy) * w + xx) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = xv[base + ch];
              if (v > best[ch] || v !== v || arg[ch] < 0) {
                best[ch] = v;
                arg[ch] = base + ch;
              }
            }
          }
        }
        const o = ((n * ho + oy) * wo + ox) * c;
        for (let ch = 0; ch < c; ch++) dx[arg[ch]] += dv[o + ch];
      }
    }
  }
  return tf.tensor4d(dx, x.shape);
}

function makeMaxPoolOp(k: number, s: number, p: number) {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    // A numeric pad is explicit symmetric padding in tfjs; the forward kernels skip padded cells (torch's -inf).
    const value = tf.maxPool(x, k, s, p);
    save([x]);
    return {
      value,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => maxPoolGrad(saved[0] as tf.Tensor4D, dy, k, s, p),
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
