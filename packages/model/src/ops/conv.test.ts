import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2d, convOutSize } from './conv.js';

/** Deterministic pseudo-random values in [-1, 1) (no tf randomness, so both backends see the same numbers). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function maxRel(a: Float32Array | number[], b: Float32Array | number[]): number {
  let md = 0;
  let mr = 0;
  for (let i = 0; i < a.length; i++) {
    md = Math.max(md, Math.abs(a[i] - b[i]));
    mr = Math.max(mr, Math.abs(b[i]));
  }
  return md / mr;
}

interface Case {
  name: string;
  b: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
  bias: boolean;
}

const cases: Case[] = [
  { name: '1x1 stride 1', b: 2, h: 5, w: 6, cin: 4, cout: 3, k: 1, stride: 1, pad: 0, bias: true },
  {
    name: '1x1 stride 2 (downsample)',
    b: 2,
    h: 6,
    w: 7,
    cin: 4,
    cout: 5,
    k: 1,
    stride: 2,
    pad: 0,
    bias: false,
  },
  { name: '3x3 stride 1 pad 1', b: 2, h: 6, w: 5, cin: 3, cout: 4, k: 3, stride: 1, pad: 1, bias: true },
  {
    name: '3x3 stride 2 pad 1 even',
    b: 2,
    h: 8,
    w: 6,
    cin: 3,
    cout: 4,
    k: 3,
    stride: 2,
    pad: 1,
    bias: false,
  },
  { name: '3x3 stride 2 pad 1 odd', b: 1, h: 7, w: 9, cin: 2, cout: 3, k: 3, stride: 2, pad: 1, bias: false },
  {
    name: '3x3 valid (HyperNet fc*w_conv)',
    b: 2,
    h: 7,
    w: 7,
    cin: 5,
    cout: 6,
    k: 3,
    stride: 1,
    pad: 0,
    bias: true,
  },
  {
    name: '7x7 stride 2 pad 3 (stem)',
    b: 2,
    h: 13,
    w: 11,
    cin: 3,
    cout: 4,
    k: 7,
    stride: 2,
    pad: 3,
    bias: false,
  },
];

type Arrays = { y: Float32Array; dx: Float32Array; dw: Float32Array; db: Float32Array | null };

/** y = conv(x, w, b); loss = Σ y·r; returns y and the gradients of loss. */
function run(c: Case, useTfConv: boolean): Arrays {
  const out = tf.tidy(() => {
    const x = tf.tensor4d(values(c.b * c.h * c.w * c.cin, 1), [c.b, c.h, c.w, c.cin]);
    const w = tf.tensor4d(values(c.k * c.k * c.cin * c.cout, 2), [c.k, c.k, c.cin, c.cout]);
    const bias = tf.tensor1d(values(c.cout, 3));
    const ho = convOutSize(c.h, c.k, c.stride, c.pad);
    const wo = convOutSize(c.w, c.k, c.stride, c.pad);
    const r = tf.tensor4d(values(c.b * ho * wo * c.cout, 4), [c.b, ho, wo, c.cout]);
    const f = (xx: tf.Tensor4D, ww: tf.Tensor4D, bb: tf.Tensor1D): tf.Tensor4D => {
      if (useTfConv) {
        const p = c.pad;
        const y = tf.conv2d(xx, ww, c.stride, [
          [0, 0],
          [p, p],
          [p, p],
          [0, 0],
        ]);
        return c.bias ? tf.add(y, bb) : y;
      }
      return conv2d(xx, ww, c.bias ? bb : null, c.stride, c.pad);
    };
    const y = f(x, w, bias);
    const loss = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(f(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D), r));
    const g = c.bias ? tf.grads(loss)([x, w, bias]) : tf.grads((xx, ww) => loss(xx, ww, bias))([x, w]);
    return [y, ...g];
  });
  const [y, dx, dw, db] = out.map((t) => t.dataSync() as Float32Array);
  tf.dispose(out);
  return { y, dx, dw, db: db ?? null };
}

describe('conv2d (NHWC, torch padding, fast-kernel gradient)', () => {
  const cpuRef = new Map<string, Arrays>();
  beforeAll(async () => {
    // Reference: tf.conv2d and its built-in gradients (Conv2DBackpropFilter/Input) on the pure-JS cpu backend.
    await tf.setBackend('cpu');
    for (const c of cases) cpuRef.set(c.name, run(c, true));
    await tf.setBackend('wasm');
  });

  for (const c of cases) {
    it(`${c.name}: forward and gradients on wasm match tf.conv2d on cpu`, () => {
      const ref = cpuRef.get(c.name)!;
      const got = run(c, false);
      expect(got.y.length).toBe(ref.y.length);
      expect(maxRel(got.y, ref.y)).toBeLessThan(1e-6);
      expect(maxRel(got.dx, ref.dx)).toBeLessThan(1e-6);
      expect(maxRel(got.dw, ref.dw)).toBeLessThan(1e-6);
      if (got.db && ref.db) expect(maxRel(got.db, ref.db)).toBeLessThan(1e-6);
    });
  }

  it('gradients match central finite differences (loss is bilinear, so differences are exact up to rounding)', () => {
    for (const c of [cases[3], cases[6]]) {
      const g = run(c, false);
      const ho = convOutSize(c.h, c.k, c.stride, c.pad);
      const wo = convOutSize(c.w, c.k, c.stride, c.pad);
      const xv = values(c.b * c.h * c.w * c.cin, 1);
      const wv = values(c.k * c.k * c.cin * c.cout, 2);
      const rv = values(c.b * ho * wo * c.cout, 4);
      const loss = (xa: Float32Array, wa: Float32Array): number =>
        tf.tidy(() => {
          const y = conv2d(
            tf.tensor4d(xa, [c.b, c.h, c.w, c.cin]),
            tf.tensor4d(wa, [c.k, c.k, c.cin, c.cout]),
            null,
            c.stride,
            c.pad,
          );
          return tf.sum(tf.mul(y, tf.tensor4d(rv, y.shape))).dataSync()[0];
        });
      const eps = 0.5;
      for (const idx of [0, 7, xv.length - 1]) {
        const p = xv.slice();
        const m = xv.slice();
        p[idx] += eps;
        m[idx] -= eps;
        const fd = (loss(p, wv) - loss(m, wv)) / (2 * eps);
        expect(Math.abs(fd - g.dx[idx])).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)));
      }
      for (const idx of [0, 5, wv.length - 1]) {
        const p = wv.slice();
        const m = wv.slice();
        p[idx] += eps;
        m[idx] -= eps;
        const fd = (loss(xv, p) - loss(xv, m)) / (2 * eps);
        expect(Math.abs(fd - g.dw[idx])).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)));
      }
    }
  });

  it('inputGrad: false skips dx (zeros) and keeps dW', () => {
    const c = cases[6];
    const g = tf.tidy(() => {
      const x = tf.tensor4d(values(c.b * c.h * c.w * c.cin, 1), [c.b, c.h, c.w, c.cin]);
      const w = tf.tensor4d(values(c.k * c.k * c.cin * c.cout, 2), [c.k, c.k, c.cin, c.cout]);
      return tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
        tf.sum(conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, null, c.stride, c.pad, { inputGrad: false })),
      )([x, w]);
    });
    const [dx, dw] = g.map((t) => t.dataSync());
    tf.dispose(g);
    expect(dx.every((v) => v === 0)).toBe(true);
    expect(dw.some((v) => v !== 0)).toBe(true);
  });

  it('runs on the cpu backend too and rejects bad shapes with a clear message', async () => {
    const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 2, 5]) as tf.Tensor4D;
    expect(() => conv2d(x, w, null, 1, 1)).toThrow(/x has 3 channels but the filter expects 2/);
    expect(() => conv2d(x, tf.zeros([3, 3, 3, 5]) as tf.Tensor4D, null, 1, 3)).toThrow(/pad must be/);
    tf.dispose([x, w]);
    expect(tf.getBackend()).toBe('wasm');
  });
});
