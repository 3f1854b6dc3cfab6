/**
 * Swin window attention (timm arithmetic): softmax(q·kᵀ·scale + relative-position bias [+ shift mask]) · v per window
 * and head.
 *
 * Three formulations of the per-(window, head) products, chosen by backend:
 * - `fused` (wasm, the default there): in inference, one wasm SIMD kernel for the whole attention (ops/simd.ts), read
 *   from and written to the linear layers' layout; under a gradient tape, and where the kernel does not apply (head
 *   dim not a multiple of 16, other backends), `dw`.
 * - `dw` (wasm, cpu): every product is one depthwise convolution. With G = windows·heads groups, a batched product
 *   a[G,M,K]·b[G,K,N] is a depthwise conv of the input [1,M,K,G] with the filter [1,K,G,N] (kernel width K, channel
 *   multiplier N, valid padding), which XNNPACK runs at ~12-16 GFLOP/s on wasm, against ~2-3 GFLOP/s for wasm's batched
 *   BatchMatMul loop. The gradient is made of the same depthwise products (wasm lacks the depthwise backprop kernels).
 * - `bmm` (tensorflow): plain batched matMul, which libtensorflow runs well.
 * Both give the same numbers to float rounding; a test holds them together.
 *
 * The relative-position bias avoids gather (its gradient needs UnsortedSegmentSum, missing on wasm): the transposed
 * table [heads, (2w-1)²] is multiplied by a constant one-hot matrix [(2w-1)², N·N].
 */
import * as tf from '@tensorflow/tfjs';
import { recordingGradients } from '../derived.js';
import { customOp } from './custom.js';
import { permute, view } from './layout.js';
import { simdAttentionApplies, simdWindowAttention } from './simd.js';

export type AttentionImpl = 'dw' | 'bmm' | 'fused';

/** The formulation that is fastest on the active backend. */
export function defaultAttentionImpl(): AttentionImpl {
  return tf.getBackend() === 'tensorflow' ? 'bmm' : 'fused';
}

/** What runs now for `impl`: `fused` where its kernel applies (see the file comment), `dw` in its place otherwise. */
export function resolveAttentionImpl(
  impl: AttentionImpl,
  headDim: number,
  tokensPerWindow: number,
): AttentionImpl {
  if (impl !== 'fused') return impl;
  return simdAttentionApplies(headDim, tokensPerWindow) ? 'fused' : 'dw';
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

/**
 * Transposed one-hot of the relative position index, [(2ws-1)², N·N]: tableᵀ [heads, (2ws-1)²] · onehotᵀ gives the
 * bias [heads, N·N] as one plain product whose right operand is this constant.
 */
export function relativePositionOneHotT(ws: number): tf.Tensor2D {
  const idx = relativePositionIndex(ws);
  const r = (2 * ws - 1) ** 2;
  const nn = idx.length;
  const v = new Float32Array(r * nn);
  for (let i = 0; i < nn; i++) v[idx[i] * nn + i] = 1;
  return tf.tensor2d(v, [r, nn]);
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
  return tf.tidy(() => {
    const y = tf.depthwiseConv2d(
      view<tf.Tensor4D>(a, [1, m, k, g]),
      view<tf.Tensor4D>(b, [1, k, g, n]),
      1,
      'valid',
    );
    return view<tf.Tensor3D>(y, [m, g, n]);
  });
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
  return recordingGradients() ? (dwProductOp(a, b) as tf.Tensor3D) : dwProductRaw(a, b);
}

/**
 * The additive attention term (relative-position bias, plus the shift mask) in the layout of `impl`:
 * `dw`: [N(query), nW | 1, heads, N(key)]; `bmm` and `fused`: [nW | 1, heads, N, N].
 * biasHNN: [heads, N·N] (tableᵀ · onehotᵀ); mask: [nW, N, N] or null.
 */
export function attentionBias(
  biasHNN: tf.Tensor2D,
  mask: tf.Tensor3D | null,
  impl: AttentionImpl,
): tf.Tensor4D {
  return tf.tidy(() => {
    const heads = biasHNN.shape[0];
    const n = Math.round(Math.sqrt(biasHNN.shape[1]));
    if (impl === 'dw') {
      const b = tf.reshape(permute(tf.reshape(biasHNN, [heads, n, n]), [1, 0, 2]), [n, 1, heads, n]);
      return (
        mask ? tf.add(b, tf.reshape(permute(mask, [1, 0, 2]), [n, mask.shape[0], 1, n])) : b
      ) as tf.Tensor4D;
    }
    const b = tf.reshape(biasHNN, [1, heads, n, n]);
    return (mask ? tf.add(b, tf.reshape(mask, [mask.shape[0], 1, n, n])) : b) as tf.Tensor4D;
  });
}

export interface WindowAttentionArgs {
  /** Queries (already scaled by head_dim^-0.5), keys and values in window order: [batch·nW·N, C] each. */
  q: tf.Tensor2D;
  k: tf.Tensor2D;
  v: tf.Tensor2D;
  /** attentionBias(...) for the same impl (`fused`: resolved by resolveAttentionImpl). */
  bias: tf.Tensor4D;
  batch: number;
  windows: number;
  heads: number;
  impl: AttentionImpl;
}

/** Attention of every window and head; returns [batch·nW·N, C] in window order (before the output projection). */
export function windowAttention(args: WindowAttentionArgs): tf.Tensor2D {
  if (args.impl === 'fused') {
    const { q, k, v, bias, batch, windows, heads } = args;
    return simdWindowAttention(q, k, v, bias, batch * windows, heads);
  }
  return args.impl === 'dw' ? attentionDw(args) : attentionBmm(args);
}

function attentionDw({ q, k, v, bias, batch, windows, heads }: WindowAttentionArgs): tf.Tensor2D {
  return tf.tidy(() => {
    const c = q.shape[1];
    const d = c / heads;
    const bw = batch * windows;
    const n = q.shape[0] / bw;
    const g = bw * heads; // groups (window, head)
    const qd = permute(view(q, [bw, n, heads, d]), [1, 3, 0, 2]); // [n, d, (Bw, heads)]
    const kd = permute(view(k, [bw, n, heads, d]), [3, 0, 2, 1]); // [d, (Bw, heads), m]
    const vd = permute(view(v, [bw, n, heads, d]), [1, 0, 2, 3]); // [m, (Bw, heads), d]
    let s: tf.Tensor = dwProduct(view(qd, [n, d, g]), view(kd, [d, g, n])); // [n, G, m]
    // s viewed as [n, repeats, inner] so that the bias broadcasts over the batch (masked) or over all windows.
    const masked = bias.shape[1] !== 1;
    const inner = (masked ? windows : 1) * heads * n;
    s = tf.add(view(s, [n, masked ? batch : bw, inner]), view(bias, [n, 1, inner]));
    const a = tf.softmax(view(s, [n, g, n]));
    const ad = permute(a as tf.Tensor3D, [0, 2, 1]); // [n, m, G]
    const o = dwProduct(ad, view(vd, [n, g, d])); // [n, G, d] = [n, Bw, C]
    return view(permute(view(o, [n, bw, c]), [1, 0, 2]), [bw * n, c]);
  });
}

function attentionBmm({ q, k, v, bias, batch, windows, heads }: WindowAttentionArgs): tf.Tensor2D {
  return tf.tidy(() => {
    const c = q.shape[1];
    const d = c / heads;
    const bw = batch * windows;
    const n = q.shape[0] / bw;
    const split = (t: tf.Tensor2D): tf.Tensor4D =>
      tf.transpose(tf.reshape(t, [bw, n, heads, d]), [0, 2, 1, 3]);
    let s: tf.Tensor = tf.matMul(split(q), split(k), false, true); // [Bw, heads, n, m]
    const masked = bias.shape[0] !== 1;
    s = tf.add(tf.reshape(s, [masked ? batch : bw, masked ? windows : 1, heads, n, n]), bias);
    const o = tf.matMul(tf.softmax(tf.reshape(s, [bw, heads, n, n])) as tf.Tensor4D, split(v)); // [Bw, heads, n, d]
    return tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [bw * n, c]);
  });
}
