/**
 * Linear layers and 1x1 convolutions as plain 2-D matrix products.
 *
 * On the wasm backend only a non-transposed, non-batched 2-D product runs on XNNPACK (~40 GFLOP/s here); a transposed
 * or batched product falls back to a naive loop (~3 GFLOP/s), and tfjs' own matMul gradient uses exactly those
 * transposed products. So every product here is a `tf.customGrad` whose gradient transposes explicitly and then calls a
 * plain product. The forward uses `tf.fused.matMul`, which adds the bias (and applies ReLU) inside XNNPACK for free.
 *
 * XNNPACK caches its packed weights per right-hand tensor, so the right operand should be the persistent weight
 * variable itself (not a tensor derived from it on every call).
 */
import * as tf from '@tensorflow/tfjs';
import { recordingGradients } from '../derived.js';
import { customOp } from './custom.js';
import { view } from './layout.js';

/** a [M,K] · b [K,N] with plain (untransposed) products in both directions. */
function plainGrads(dy: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  const da = tf.matMul(dy, tf.transpose(b)) as tf.Tensor2D;
  const db = tf.matMul(tf.transpose(a), dy) as tf.Tensor2D;
  return [da, db];
}

const mm2dOp = customOp(([a, b], save) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy, [sa, sb]) => plainGrads(dy as tf.Tensor2D, sa as tf.Tensor2D, sb as tf.Tensor2D),
  };
});

const linearBiasOp = customOp(([x, w, bias], save) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias }),
    gradFunc: (dy, [sx, sw]) => [
      ...plainGrads(dy as tf.Tensor2D, sx as tf.Tensor2D, sw as tf.Tensor2D),
      tf.sum(dy, 0),
    ],
  };
});

const linearBiasReluOp = customOp(([x, w, bias], save) => {
  const y = tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias, activation: 'relu' });
  save([x, w, y]);
  return {
    value: y,
    gradFunc: (dy, [sx, sw, sy]) => {
      const g = tf.mul(dy, tf.step(sy)) as tf.Tensor2D;
      return [...plainGrads(g, sx as tf.Tensor2D, sw as tf.Tensor2D), tf.sum(g, 0)];
    },
  };
});

/** a [M,K] · b [K,N]; the gradient uses explicit transposes and plain 2-D products only. */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0]) {
    throw new Error(`matMul2d: expected [M,K]·[K,N], got [${a.shape}]·[${b.shape}]`);
  }
  return mm2dOp(a, b) as tf.Tensor2D;
}

export interface LinearOptions {
  /** Apply ReLU inside the product (fused). */
  relu?: boolean;
}

/**
 * y = x·W + b over the last axis of x (any rank), W stored [in, out] (torch Linear / 1x1-conv weight transposed).
 * Leading axes are flattened into rows, so the product is always one 2-D matmul.
 */
export function linear<T extends tf.Tensor>(
  x: T,
  w: tf.Tensor2D,
  bias?: tf.Tensor1D | null,
  opts: LinearOptions = {},
): T {
  const inF = x.shape[x.rank - 1];
  if (w.rank !== 2 || w.shape[0] !== inF) {
    throw new Error(
      `linear: input has ${inF} features but the weight is [${w.shape}] (expected [${inF}, out])`,
    );
  }
  const outF = w.shape[1];
  if (bias && (bias.rank !== 1 || bias.shape[0] !== outF)) {
    throw new Error(`linear: bias has shape [${bias.shape}], expected [${outF}]`);
  }
  const rows = x.size / inF;
  const outShape = [...x.shape.slice(0, -1), outF];
  if (!recordingGradients()) {
    // Inference: the kernel directly on 3-D views (skips tf.fused.matMul's wrapper and three Reshape kernels).
    const a3 = view(x, [1, rows, inF]);
    const b3 = view(w, [1, inF, outF]);
    const y3 = bias
      ? tf.engine().runKernel(
          '_FusedMatMul',
          { a: a3, b: b3, bias },
          {
            transposeA: false,
            transposeB: false,
            activation: opts.relu ? 'relu' : 'linear',
            leakyreluAlpha: 0,
          },
        )
      : tf.engine().runKernel('BatchMatMul', { a: a3, b: b3 }, { transposeA: false, transposeB: false });
    const y = view<T>(y3 as tf.Tensor, outShape);
    tf.dispose([a3, b3, y3 as tf.Tensor]);
    if (bias || !opts.relu) return y;
    const r = tf.relu(y) as T;
    y.dispose();
    return r;
  }
  const x2 = x.rank === 2 ? (x as unknown as tf.Tensor2D) : tf.reshape(x, [rows, inF]);
  let y: tf.Tensor;
  if (bias) {
    y = opts.relu ? linearBiasReluOp(x2, w, bias) : linearBiasOp(x2, w, bias);
  } else {
    y = mm2dOp(x2, w);
    if (opts.relu) y = tf.relu(y);
  }
  return (x.rank === 2 ? y : tf.reshape(y, outShape)) as T;
}
