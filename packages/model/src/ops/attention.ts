/**
 * Swin window attention (timm arithmetic): softmax(q·kᵀ·scale + relative-position bias [+ shift mask]) · v per window
 * and head.
 *
 * Two formulations of the per-(window, head) products, chosen by backend:
 * - `dw` (wasm, cpu): every product is one depthwise convolution. With G = windows·heads groups, a batched product
 *   a[G,M,K]·b[G,K,N] is a depthwise conv of the input [1,M,K,G] with the filter [1,K,G,N] (kernel width K, channel
 *   multiplier N, valid padding), which XNNPACK runs at ~12-16 GFLOP/s on wasm, against ~2-3 GFLOP/s for wasm's batched
 *   BatchMatMul loop. The gradient is made of the same depthwise products (wasm lacks the depthwise backprop kernels).
 * - `bmm` (tensorflow): plain batched matMul, which libtensorflow runs well.
 * Both give the same numbers to float rounding; a test holds them together.
 *
 * The relative-position bias avoids gather (its gradient needs UnsortedSegmentSum, missing on wasm): the table
 * [(2w-1)², heads] is multiplied by a constant one-hot matrix [N·N, (2w-1)²].
 */
import * as tf from '@tensorflow/tfjs';
import { customOp } from './custom.js';
import { permute } from './layout.js';

export type AttentionImpl = 'dw' | 'bmm';

/** The formulation that is fastest on the active backend. */
export function defaultAttentionImpl(): AttentionImpl {
  return tf.getBackend() === 'tensorflow' ? 'bmm' : 'dw';
}

/** timm relative_position_index for a ws×ws window: index[i·N + j] = (dy+ws-1)·(2ws-1) + (dx+ws-1), dy = y_i - y_j. */
export function relativePositionIndex(ws: number): Int32Array {
  const n = ws * ws;
  const side = 2 * ws - 1;
  const idx = new Int32Array(n * n);
  for (let i = 0; i < n; i++) {
    const yi = Math.floor(i / ws);
    const xi = i % ws;
    for (let j = 0; j < n; j++) {
      const yj = Math.floor(j / ws);
      const xj = j % ws;
      idx[i * n + j] = (yi - yj + ws - 1) * side + (xi - xj + ws - 1);
    }
  }
  return idx;
}

/** One-hot [N·N, (2ws-1)²] of the relative position index; bias = onehot · table. */
export function relativePositionOneHot(ws: number): tf.Tensor2D {
  const idx = relativePositionIndex(ws);
  const r = (2 * ws - 1) ** 2;
  const v = new Float32Array(idx.length * r);
  for (let i = 0; i < idx.length; i++) v[i * r + idx[i]] = 1;
  return tf.tensor2d(v, [idx.length, r]);
}

/**
 * The shifted-window attention mask of timm / Swin for an H×W map: regions [0,H-ws), [H-ws,H-s), [H-s,H) per axis
 * (same for W) get labels 0..8; mask[w, i, j] = 0 when tokens i and j of window w share a label, else -100.
 * Windows in row-major order, tokens row-major inside a window. Returns [nW, N, N] values.
 */
export function shiftWindowMask(h: number, w: number, ws: number, shift: number): Float32Array {
  const label = new Int32Array(h * w);
  const region = (i: number, size: number): number => (i < size - ws ? 0 : i < size - shift ? 1 : 2);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) label[y * w + x] = region(y, h) * 3 + region(x, w);
  const nWh = h / ws;
  const nWw = w / ws;
  const n = ws * ws;
  const out = new Float32Array(nWh * nWw * n * n);
  for (let wy = 0; wy < nWh; wy++) {
    for (let wx = 0; wx < nWw; wx++) {
      const win = wy * nWw + wx;
      const labels = new Int32Array(n);
      for (let t = 0; t < n; t++) labels[t] = label[(wy * ws + Math.floor(t / ws)) * w + wx * ws + (t % ws)];
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) out[(win * n + i) * n + j] = labels[i] === labels[j] ? 0 : -100;
    }
  }
  return out;
}

/** Per-(group) product through a depthwise conv: a [M,K,G] · b [K,G,N] → c [M,G,N], c[m,g,n] = Σ_k a[m,k,g]·b[k,g,n]. */
function dwProductRaw(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const [m, k, g] = a.shape;
  const n = b.shape[2];
  const y = tf.depthwiseConv2d(
    tf.reshape<tf.Rank.R4>(a, [1, m, k, g]),
    tf.reshape<tf.Rank.R4>(b, [1, k, g, n]),
    1,
    'valid',
  );
  return tf.reshape(y, [m, g, n]);
}

const dwProductOp = customOp(([a, b], save) => {
  save([a, b]);
  return {
    value: dwProductRaw(a as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy, [sa, sb]) => {
      const dc = dy as tf.Tensor3D;
      // da[m,k,g] = Σ_n dc[m,g,n]·b[k,g,n]
      const da = permute(
        dwProductRaw(permute(dc, [0, 2, 1]), permute(sb as tf.Tensor3D, [2, 1, 0])),
        [0, 2, 1],
      );
      // db[k,g,n] = Σ_m a[m,k,g]·dc[m,g,n]
      const db = dwProductRaw(permute(sa as tf.Tensor3D, [1, 0, 2]), dc);
      return [da, db];
    },
  };
});

/** Batched product in depthwise layout (see the file comment); differentiable with depthwise products only. */
export function dwProduct(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (a.shape[1] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new Error(`dwProduct: expected a [M,K,G] and b [K,G,N], got [${a.shape}] and [${b.shape}]`);
  }
  return dwProductOp(a, b) as tf.Tensor3D;
}

export interface WindowAttentionArgs {
  /** Output of the qkv linear in window order: [batch·nW·N, 3C] (window-major, tokens row-major in a window). */
  qkv: tf.Tensor2D;
  /** Relative-position bias as [N·N, heads] (onehot · table). */
  bias: tf.Tensor2D;
  /** Shift mask [nW, N, N] (0 / -100) or null for unshifted windows. */
  mask: tf.Tensor3D | null;
  batch: number;
  windows: number;
  heads: number;
  impl: AttentionImpl;
}

/** Attention of every window and head; returns [batch·nW·N, C] in window order (before the output projection). */
export function windowAttention(args: WindowAttentionArgs): tf.Tensor2D {
  return args.impl === 'dw' ? attentionDw(args) : attentionBmm(args);
}

function attentionDw({ qkv, bias, mask, batch, windows, heads }: WindowAttentionArgs): tf.Tensor2D {
  return tf.tidy(() => {
    const c = qkv.shape[1] / 3;
    const d = c / heads;
    const n = Math.round(Math.sqrt(bias.shape[0]));
    const bw = batch * windows;
    const g = bw * heads;
    // [Bw, n, 3, C] → [3, n, Bw, C]: q, k, v as [n, G, d] each (G = (window, head)).
    const t = permute(tf.reshape(qkv, [bw, n, 3, c]), [2, 1, 0, 3]);
    const [q, k, v] = tf
      .split(tf.reshape(t, [3, n, g, d]), 3, 0)
      .map((s) => tf.reshape(s, [n, g, d]) as tf.Tensor3D);
    const qd = permute(tf.mul(q, 1 / Math.sqrt(d)) as tf.Tensor3D, [0, 2, 1]); // [n, d, G]
    const kd = permute(k, [2, 1, 0]); // [d, G, m]
    let s: tf.Tensor = dwProduct(qd, kd); // [n, G, m]
    // bias [n·m, heads] → [n, 1, heads, m]; mask [nW, n, m] → [n, nW, 1, m]
    let bm: tf.Tensor = tf.reshape(permute(tf.reshape(bias, [n, n, heads]), [0, 2, 1]), [n, 1, heads, n]);
    if (mask) bm = tf.add(bm, tf.reshape(permute(mask, [1, 0, 2]), [n, windows, 1, n]));
    // s [n, G, m] viewed as [n, repeats, inner] so that bm broadcasts over the batch (masked) or all windows.
    const inner = (mask ? windows : 1) * heads * n;
    s = tf.add(tf.reshape(s, [n, mask ? batch : bw, inner]), tf.reshape(bm, [n, 1, inner]));
    const a = tf.softmax(tf.reshape(s, [n, g, n]));
    const ad = permute(a as tf.Tensor3D, [0, 2, 1]); // [n, m, G]
    const o = dwProduct(ad, v); // [n, G, d] = [n, Bw, C]
    return tf.reshape(permute(tf.reshape(o, [n, bw, c]), [1, 0, 2]), [bw * n, c]);
  });
}

function attentionBmm({ qkv, bias, mask, batch, windows, heads }: WindowAttentionArgs): tf.Tensor2D {
  return tf.tidy(() => {
    const c = qkv.shape[1] / 3;
    const d = c / heads;
    const n = Math.round(Math.sqrt(bias.shape[0]));
    const bw = batch * windows;
    const t = tf.transpose(tf.reshape(qkv, [bw, n, 3, heads, d]), [2, 0, 3, 1, 4]); // [3, Bw, heads, n, d]
    const [q, k, v] = tf.unstack(t, 0) as tf.Tensor4D[];
    let s: tf.Tensor = tf.matMul(tf.mul(q, 1 / Math.sqrt(d)) as tf.Tensor4D, k, false, true); // [Bw, heads, n, m]
    s = tf.add(s, tf.transpose(tf.reshape(bias, [n, n, heads]), [2, 0, 1]));
    if (mask) {
      s = tf.add(tf.reshape(s, [batch, windows, heads, n, n]), tf.reshape(mask, [windows, 1, n, n]));
      s = tf.reshape(s, [bw, heads, n, n]);
    }
    const o = tf.matMul(tf.softmax(s) as tf.Tensor4D, v); // [Bw, heads, n, d]
    return tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [bw * n, c]);
  });
}
