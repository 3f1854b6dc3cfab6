/**
 * 2-D convolution (NHWC, torch-style symmetric zero padding) with a gradient made only of fast wasm kernels.
 *
 * Why not plain `tf.conv2d`: its gradient needs `Conv2DBackpropFilter`, which the wasm backend lacks, and wasm's
 * `Conv2DBackpropInput` is a naive loop (~4 GFLOP/s). Why not im2col for the forward: on wasm `tf.conv2d` runs
 * XNNPACK at 35-44 GFLOP/s on every ResNet-50 conv shape, faster than im2col + a 2-D matmul (7-38 GFLOP/s,
 * the strided gathers dominate; see bench/model-resnet-conv.mjs). So the forward is `tf.conv2d`, and the
 * gradient is written with forward convolutions and plain 2-D matmuls only:
 * - 1x1 stride 1: dx = dy·Wᵀ, dW = xᵀ·dy (2-D matmuls with explicit transposes, the fast XNNPACK path).
 * - otherwise: dW is a dilated convolution of x (batch and channels swapped) with dy as the filter;
 *   dx is a stride-1 convolution of dy (zero-interleaved when stride > 1) with the flipped, in/out-swapped filter.
 */
import * as tf from '@tensorflow/tfjs';

export interface Conv2dOptions {
  /**
   * false when x needs no gradient (the stem conv on the input image): dx is then returned as zeros without
   * computing it. Default true.
   */
  inputGrad?: boolean;
}

/** Output side of a torch Conv2d / pooling: floor((n + 2p - k) / s) + 1. */
export function convOutSize(n: number, k: number, stride: number, pad: number): number {
  return Math.floor((n + 2 * pad - k) / stride) + 1;
}

function explicitPad(
  top: number,
  bottom: number,
  left: number,
  right: number,
): [[number, number], [number, number], [number, number], [number, number]] {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/** dW[i,j,ci,co] = Σ_{b,oy,ox} xpad[b, s·oy+i, s·ox+j, ci] · dy[b,oy,ox,co], as one dilated forward conv. */
function filterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  kh: number,
  kw: number,
  stride: number,
  pad: number,
): tf.Tensor4D {
  const [, h, w] = x.shape;
  const [, ho, wo] = dy.shape;
  // Rows of the padded input actually read by the forward.
  const needH = kh + stride * (ho - 1);
  const needW = kw + stride * (wo - 1);
  const cropH = Math.min(h, needH - pad);
  const cropW = Math.min(w, needW - pad);
  const xc = cropH < h || cropW < w ? tf.slice(x, [0, 0, 0, 0], [-1, cropH, cropW, -1]) : x;
  const xt = tf.transpose(xc, [3, 1, 2, 0]); // [cin, H, W, B]: batch becomes the contraction (channel) axis
  const f = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, B, cout]
  const pads = explicitPad(pad, needH - pad - cropH, pad, needW - pad - cropW);
  const g = tf.conv2d(xt, f, 1, pads, 'NHWC', stride); // [cin, kh, kw, cout]
  return tf.transpose(g, [1, 2, 0, 3]);
}

/** The filter as [kh·kw, cout·cin]: row t = i·kw + j holds w[i, j]ᵀ. */
function transposedTaps(w: tf.Tensor4D): tf.Tensor2D {
  const [kh, kw, cin, cout] = w.shape;
  return tf.reshape(tf.transpose(tf.reshape(w, [kh * kw, cin, cout]), [0, 2, 1]), [kh * kw, cout * cin]);
}

/** rows[sel[0]], rows[sel[1]], … as one plain 2-D product with a 0/1 selection matrix (exact for finite values). */
function selectRows(rows: tf.Tensor2D, sel: number[]): tf.Tensor2D {
  if (sel.length === rows.shape[0] && sel.every((v, i) => v === i)) return rows;
  const s = new Float32Array(sel.length * rows.shape[0]);
  sel.forEach((r, i) => (s[i * rows.shape[0] + r] = 1));
  return tf.matMul(tf.tensor2d(s, [sel.length, rows.shape[0]]), rows);
}

/**
 * dx for x [B,H,W,cin]. Split the output rows by phase: r = s·t + q. In padded coordinates u = r + pad = s·(t + c) + ρ
 * with ρ = (q + pad) mod s and c = floor((q + pad) / s), and dx[r] = Σ_m dy[t + c - m] · w[ρ + s·m]: for each phase
 * (q_h, q_w) a stride-1 convolution of dy with a flipped sub-filter. The s×s phase maps are then interleaved. No
 * zero-interleaving of dy, so no multiplication is wasted.
 */
function inputGrad(
  dy: tf.Tensor4D,
  w: tf.Tensor4D,
  xShape: [number, number, number, number],
  stride: number,
  pad: number,
): tf.Tensor4D {
  const [kh, kw, cin, cout] = w.shape;
  const [b, h, wd] = xShape;
  const [, ho, wo] = dy.shape;
  const taps = transposedTaps(w);
  const nh = Math.ceil(h / stride);
  const nw = Math.ceil(wd / stride);
  const phases: tf.Tensor4D[][] = [];
  for (let qh = 0; qh < stride; qh++) {
    const row: tf.Tensor4D[] = [];
    for (let qw = 0; qw < stride; qw++) {
      const rh = (qh + pad) % stride;
      const ch = Math.floor((qh + pad) / stride);
      const rw = (qw + pad) % stride;
      const cw = Math.floor((qw + pad) / stride);
      const mh = Math.max(0, Math.ceil((kh - rh) / stride));
      const mw = Math.max(0, Math.ceil((kw - rw) / stride));
      if (mh === 0 || mw === 0) {
        row.push(tf.zeros([b, nh, nw, cin]));
        continue;
      }
      // Sub-filter f[m', n'] = w[rh + s(mh-1-m'), rw + s(mw-1-n')]ᵀ, shape [mh, mw, cout, cin].
      // Picked by a 0/1 selection-matrix product (exact; wasm's Gather and Reverse are ~15x slower on filters).
      const sel: number[] = [];
      for (let m = 0; m < mh; m++) {
        for (let n = 0; n < mw; n++)
          sel.push((rh + stride * (mh - 1 - m)) * kw + (rw + stride * (mw - 1 - n)));
      }
      const f = tf.reshape(selectRows(taps, sel), [mh, mw, cout, cin]) as tf.Tensor4D;
      // Output row t (0 <= t < nh) reads dy rows t + ch - mh + 1 ... t + ch.
      let top = mh - 1 - ch;
      let bottom = nh + ch - ho;
      let left = mw - 1 - cw;
      let right = nw + cw - wo;
      let d = dy;
      if (top < 0 || bottom < 0 || left < 0 || right < 0) {
        const y0 = Math.max(0, -top);
        const x0 = Math.max(0, -left);
        d = tf.slice(
          dy,
          [0, y0, x0, 0],
          [-1, ho - y0 + Math.min(0, bottom), wo - x0 + Math.min(0, right), -1],
        );
        top = Math.max(0, top);
        bottom = Math.max(0, bottom);
        left = Math.max(0, left);
        right = Math.max(0, right);
      }
      row.push(tf.conv2d(d, f, 1, explicitPad(top, bottom, left, right)));
    }
    phases.push(row);
  }
  const full = interleavePhases(phases);
  if (full.shape[1] === h && full.shape[2] === wd) return full;
  return tf.slice(full, [0, 0, 0, 0], [b, h, wd, cin]);
}

/**
 * Interleaves s×s phase maps P[a][b], each [B, n, m, C], into [B, n·s, m·s, C] with out[s·t + a, s·u + b] = P[a][b][t, u]
 * (the transpose of a stride-s subsampling). Stacks and reshapes only: no rank-6 transpose.
 */
export function interleavePhases(phases: tf.Tensor4D[][]): tf.Tensor4D {
  const s = phases.length;
  if (s === 1) return phases[0][0];
  const [b, n, m, c] = phases[0][0].shape;
  // [B, n, m, s, C] -> [B, n, m*s, C]; then [B, n, s, m*s, C] -> [B, n*s, m*s, C].
  const rows = phases.map((r) => tf.reshape(tf.stack(r, 3), [b, n, m * s, c]));
  return tf.reshape(tf.stack(rows, 2), [b, n * s, m * s, c]) as tf.Tensor4D;
}

function conv1x1Grads(x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
  const [, , cin, cout] = w.shape;
  const n = x.size / cin;
  const x2 = tf.reshape(x, [n, cin]);
  const dy2 = tf.reshape(dy, [n, cout]);
  const w2 = tf.reshape(w, [cin, cout]);
  const dx = tf.reshape(tf.matMul(dy2, tf.transpose(w2)), x.shape) as tf.Tensor4D;
  const dw = tf.reshape(tf.matMul(tf.transpose(x2), dy2), w.shape) as tf.Tensor4D;
  return [dx, dw];
}

function makeConvOp(stride: number, pad: number, wantInputGrad: boolean) {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, w, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([x, w]);
    const value = tf.conv2d(x, w, stride, explicitPad(pad, pad, pad, pad));
    const gradFunc = (d: tf.Tensor4D, saved: tf.Tensor[]): tf.Tensor[] => {
      const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
      const [kh, kw] = ws.shape;
      if (kh === 1 && kw === 1 && stride === 1 && pad === 0) {
        const [dx, dw] = conv1x1Grads(xs, ws, d);
        return [wantInputGrad ? dx : tf.zerosLike(xs), dw];
      }
      const dw = filterGrad(xs, d, kh, kw, stride, pad);
      const dx = wantInputGrad ? inputGrad(d, ws, xs.shape, stride, pad) : tf.zerosLike(xs);
      return [dx, dw];
    };
    return { value, gradFunc };
  });
}

const opCache = new Map<string, (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D>();

function convOp(
  stride: number,
  pad: number,
  wantInputGrad: boolean,
): (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D {
  const key = `${stride}/${pad}/${wantInputGrad}`;
  let op = opCache.get(key);
  if (!op) {
    const raw = makeConvOp(stride, pad, wantInputGrad);
    op = (x, w) => raw(x, w) as tf.Tensor4D;
    opCache.set(key, op);
  }
  return op;
}

/**
 * torch `F.conv2d(x, w, b, stride, padding)` in NHWC: x [B,H,W,cin], w [kh,kw,cin,cout] (tfjs filter layout),
 * optional bias [cout], symmetric zero padding `pad`. Output [B, floor((H+2p-kh)/s)+1, ..., cout].
 */
export function conv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  b: tf.Tensor1D | null,
  stride: number,
  pad: number,
  opts: Conv2dOptions = {},
): tf.Tensor4D {
  if (x.rank !== 4 || w.rank !== 4) {
    throw new Error(
      `conv2d: expected x NHWC rank 4 and w [kh,kw,cin,cout] rank 4, got ranks ${x.rank} and ${w.rank}`,
    );
  }
  const [kh, kw, cin, cout] = w.shape;
  if (x.shape[3] !== cin) {
    throw new Error(
      `conv2d: x has ${x.shape[3]} channels but the filter expects ${cin} (w shape [${w.shape.join(',')}])`,
    );
  }
  if (!Number.isInteger(stride) || stride < 1)
    throw new Error(`conv2d: stride must be a positive integer, got ${stride}`);
  if (!Number.isInteger(pad) || pad < 0 || pad >= Math.min(kh, kw)) {
    throw new Error(`conv2d: pad must be an integer in [0, kernel-1], got ${pad} for a ${kh}x${kw} kernel`);
  }
  if (convOutSize(x.shape[1], kh, stride, pad) < 1 || convOutSize(x.shape[2], kw, stride, pad) < 1) {
    throw new Error(`conv2d: input ${x.shape[1]}x${x.shape[2]} is smaller than the ${kh}x${kw} kernel`);
  }
  if (b && (b.rank !== 1 || b.shape[0] !== cout)) {
    throw new Error(`conv2d: bias must be [${cout}], got [${b.shape.join(',')}]`);
  }
  const op = convOp(stride, pad, opts.inputGrad ?? true);
  return tf.tidy(() => {
    const y = op(x, w);
    return b ? tf.add(y, b) : y;
  });
}
