import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lcgValues, rel, useBackend } from '../__tests__/helpers.js';
import {
  dwProduct,
  relativePositionIndex,
  relativePositionOneHotT,
  attentionBias,
  resolveAttentionImpl,
  shiftWindowMask,
  windowAttention,
} from './attention.js';
import { simdWindowAttention } from './simd.js';

beforeAll(() => useBackend('wasm'));
afterAll(() => useBackend('wasm'));

describe('relative position index', () => {
  it('is (dy + w - 1)(2w - 1) + (dx + w - 1) with dy = y_i - y_j over row-major tokens', () => {
    const idx = relativePositionIndex(7);
    expect(idx.length).toBe(49 * 49);
    // token 0 = (0,0), token 48 = (6,6): dy = dx = -6 → 0; reversed: dy = dx = 6 → 12·13 + 12 = 168
    expect(idx[0 * 49 + 48]).toBe(0);
    expect(idx[48 * 49 + 0]).toBe(168);
    // the diagonal is the centre of the 13x13 table
    for (let i = 0; i < 49; i++) expect(idx[i * 49 + i]).toBe(6 * 13 + 6);
    // token 8 = (1,1), token 2 = (0,2): dy = 1, dx = -1 → 7·13 + 5
    expect(idx[8 * 49 + 2]).toBe(96);
    const oh = relativePositionOneHotT(3);
    expect(oh.shape).toEqual([25, 81]);
    expect(tf.sum(oh).dataSync()[0]).toBe(81);
    oh.dispose();
  });
});

describe('shift mask', () => {
  it('separates the 3x3 regions of the rolled map (timm)', () => {
    const m = shiftWindowMask(14, 14, 7, 3); // 4 windows
    const n = 49;
    const at = (w: number, i: number, j: number): number => m[(w * n + i) * n + j];
    // window 0 lies inside region 0: nothing masked
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(at(0, i, j)).toBe(0);
    // window 1 (top right): columns 0-3 (x < 11) and 4-6 differ
    expect(at(1, 0, 3)).toBe(0);
    expect(at(1, 0, 4)).toBe(-100);
    // window 3 (bottom right): four regions; token (0,0) vs (4,4)
    expect(at(3, 0, 4 * 7 + 4)).toBe(-100);
    expect(at(3, 4 * 7 + 4, 6 * 7 + 6)).toBe(0);
    // symmetric with a zero diagonal
    for (let w = 0; w < 4; w++)
      for (let i = 0; i < n; i++) {
        expect(at(w, i, i)).toBe(0);
        for (let j = 0; j < n; j++) expect(at(w, i, j)).toBe(at(w, j, i));
      }
  });
});

/** Plain per-window, per-head attention in JS (float64) as the reference. */
function naiveAttention(
  qkv: Float32Array,
  bias: Float32Array,
  mask: Float32Array | null,
  bw: number,
  nW: number,
  n: number,
  heads: number,
  c: number,
): Float64Array {
  const d = c / heads;
  const out = new Float64Array(bw * n * c);
  for (let w = 0; w < bw; w++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < n; i++) {
        const s = new Float64Array(n);
        let mx = -Infinity;
        for (let j = 0; j < n; j++) {
          let dot = 0;
          for (let k = 0; k < d; k++)
            dot += qkv[(w * n + i) * 3 * c + h * d + k] * qkv[(w * n + j) * 3 * c + c + h * d + k];
          s[j] =
            dot / Math.sqrt(d) +
            bias[(i * n + j) * heads + h] +
            (mask ? mask[((w % nW) * n + i) * n + j] : 0);
          mx = Math.max(mx, s[j]);
        }
        let z = 0;
        for (let j = 0; j < n; j++) z += s[j] = Math.exp(s[j] - mx);
        for (let k = 0; k < d; k++) {
          let acc = 0;
          for (let j = 0; j < n; j++) acc += (s[j] / z) * qkv[(w * n + j) * 3 * c + 2 * c + h * d + k];
          out[(w * n + i) * c + h * d + k] = acc;
        }
      }
  return out;
}

describe('window attention', () => {
  const [batch, nW, ws, heads, c] = [2, 4, 3, 2, 8];
  const n = ws * ws;
  const qkvV = lcgValues(batch * nW * n * 3 * c, 11).map((v) => 2 * v);
  const biasV = lcgValues(n * n * heads, 12);
  const maskV = shiftWindowMask(6, 6, 3, 1);

  const rows = batch * nW * n;
  /** attention from a packed qkv [rows, 3C] and a bias [N·N, heads] through the public pieces. */
  const attend = (
    qkv: tf.Tensor2D,
    biasNNH: tf.Tensor2D,
    masked: boolean,
    impl: 'dw' | 'bmm',
  ): tf.Tensor2D => {
    const [q, k, v] = tf.split(qkv, 3, 1) as tf.Tensor2D[];
    const bias = attentionBias(
      tf.transpose(biasNNH) as tf.Tensor2D,
      masked ? tf.tensor3d(maskV, [nW, n, n]) : null,
      impl,
    );
    return windowAttention({
      q: tf.mul(q, 1 / Math.sqrt(c / heads)),
      k,
      v,
      bias,
      batch,
      windows: nW,
      heads,
      impl,
    });
  };

  for (const impl of ['dw', 'bmm'] as const) {
    for (const masked of [false, true]) {
      it(`${impl}${masked ? ' with shift mask' : ''} equals per-window attention`, async () => {
        await useBackend('wasm');
        const got = tf.tidy(() =>
          attend(tf.tensor2d(qkvV, [rows, 3 * c]), tf.tensor2d(biasV, [n * n, heads]), masked, impl),
        );
        const want = naiveAttention(qkvV, biasV, masked ? maskV : null, batch * nW, nW, n, heads, c);
        expect(rel(got.dataSync(), want)).toBeLessThan(1e-6);
        got.dispose();
      });
    }
  }

  it('dw and bmm give the same gradients (wasm dw vs cpu bmm)', async () => {
    const r = lcgValues(rows * c, 13);
    const run = (impl: 'dw' | 'bmm'): Float32Array[] =>
      tf.tidy(() => {
        const f = (qkv: tf.Tensor, bias: tf.Tensor): tf.Scalar =>
          tf.sum(
            tf.mul(attend(qkv as tf.Tensor2D, bias as tf.Tensor2D, true, impl), tf.tensor2d(r, [rows, c])),
          );
        const gs = tf.grads(f)([tf.tensor2d(qkvV, [rows, 3 * c]), tf.tensor2d(biasV, [n * n, heads])]);
        return gs.map((g) => g.dataSync()) as unknown as tf.Tensor[];
      }) as unknown as Float32Array[];
    await useBackend('cpu');
    const want = run('bmm');
    await useBackend('wasm');
    const got = run('dw');
    expect(rel(got[0], want[0])).toBeLessThan(1e-5);
    expect(rel(got[1], want[1])).toBeLessThan(1e-5);
  });
});

describe('fused window attention (wasm SIMD kernel, inference)', () => {
  // [batch, windows per image, window size, heads, head dim]: n = 9 and 49 leave a partial block of 4 keys, n = 4 is
  // the smallest the kernel takes; head dims 16 and 32.
  const geometries = [
    [2, 4, 3, 2, 16],
    [1, 4, 2, 3, 32],
    [1, 4, 7, 2, 32],
  ] as const;
  for (const [batch, nW, ws, heads, d] of geometries) {
    for (const masked of [false, true]) {
      const n = ws * ws;
      const c = heads * d;
      const rows = batch * nW * n;
      it(`${batch} image(s) x ${nW} windows of ${n}, ${heads} heads of ${d}${masked ? ', shift mask' : ''}`, () => {
        expect(resolveAttentionImpl('fused', d, n)).toBe('fused');
        const qkvV = lcgValues(rows * 3 * c, 21 + n).map((v) => 3 * v);
        const biasV = lcgValues(n * n * heads, 22);
        const side = Math.sqrt(nW) * ws;
        const maskV = shiftWindowMask(side, side, ws, Math.floor(ws / 2));
        const got = tf.tidy(() => {
          const [q, k, v] = tf.split(tf.tensor2d(qkvV, [rows, 3 * c]), 3, 1) as tf.Tensor2D[];
          const bias = attentionBias(
            tf.transpose(tf.tensor2d(biasV, [n * n, heads])) as tf.Tensor2D,
            masked ? tf.tensor3d(maskV, [nW, n, n]) : null,
            'fused',
          );
          const args = { k, v, bias, batch, windows: nW, heads };
          const fused = windowAttention({ ...args, q: tf.mul(q, 1 / Math.sqrt(d)), impl: 'fused' });
          const dw = windowAttention({
            ...args,
            q: tf.mul(q, 1 / Math.sqrt(d)),
            bias: attentionBias(
              tf.transpose(tf.tensor2d(biasV, [n * n, heads])) as tf.Tensor2D,
              masked ? tf.tensor3d(maskV, [nW, n, n]) : null,
              'dw',
            ),
            impl: 'dw',
          });
          return [fused, dw];
        });
        const want = naiveAttention(qkvV, biasV, masked ? maskV : null, batch * nW, nW, n, heads, c);
        expect(rel(got[0].dataSync(), want)).toBeLessThan(2e-6);
        expect(rel(got[1].dataSync(), want)).toBeLessThan(2e-6);
        tf.dispose(got);
      });
    }
  }

  it('is dw where the kernel does not apply: head dim not a multiple of 16, under a gradient tape, on cpu', async () => {
    expect(resolveAttentionImpl('fused', 8, 49)).toBe('dw');
    expect(resolveAttentionImpl('fused', 32, 49)).toBe('fused');
    expect(resolveAttentionImpl('bmm', 32, 49)).toBe('bmm');
    let underTape = '';
    tf.grad((x: tf.Tensor) => {
      underTape = resolveAttentionImpl('fused', 32, 49);
      return tf.sum(x);
    })(tf.ones([2]));
    expect(underTape).toBe('dw');
    await useBackend('cpu');
    expect(resolveAttentionImpl('fused', 32, 49)).toBe('dw');
    await useBackend('wasm');
  });

  it('refuses operands that do not fit the bias, by shape', () => {
    const q = tf.zeros([2 * 49, 64]) as tf.Tensor2D;
    const bias = tf.zeros([1, 2, 49, 49]) as tf.Tensor4D;
    expect(() => simdWindowAttention(q, q, q, bias, 2, 4)).toThrow(/does not fit bias \[1,2,49,49\]/);
    expect(() => simdWindowAttention(q, q, tf.zeros([49, 64]) as tf.Tensor2D, bias, 2, 2)).toThrow(
      /shapes differ/,
    );
    tf.dispose([q, bias]);
  });
});

describe('dwProduct', () => {
  it('is a per-group product with a depthwise-only gradient', async () => {
    await useBackend('wasm');
    const [m, k, g, nn] = [4, 3, 5, 2];
    const a = tf.tensor3d(lcgValues(m * k * g, 21), [m, k, g]);
    const b = tf.tensor3d(lcgValues(k * g * nn, 22), [k, g, nn]);
    const r = tf.tensor3d(lcgValues(m * g * nn, 23), [m, g, nn]);
    const av = a.dataSync();
    const bv = b.dataSync();
    const c = dwProduct(a, b).dataSync();
    for (let mi = 0; mi < m; mi++)
      for (let gi = 0; gi < g; gi++)
        for (let ni = 0; ni < nn; ni++) {
          let s = 0;
          for (let ki = 0; ki < k; ki++) s += av[(mi * k + ki) * g + gi] * bv[(ki * g + gi) * nn + ni];
          expect(c[(mi * g + gi) * nn + ni]).toBeCloseTo(s, 5);
        }
    // d/da Σ c·r = Σ_n r[m,g,n] b[k,g,n]; d/db = Σ_m a[m,k,g] r[m,g,n]
    const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
      tf.sum(tf.mul(dwProduct(x as tf.Tensor3D, y as tf.Tensor3D), r)),
    )([a, b]);
    const rv = r.dataSync();
    const dav = da.dataSync();
    const dbv = db.dataSync();
    for (let mi = 0; mi < m; mi++)
      for (let ki = 0; ki < k; ki++)
        for (let gi = 0; gi < g; gi++) {
          let s = 0;
          for (let ni = 0; ni < nn; ni++) s += rv[(mi * g + gi) * nn + ni] * bv[(ki * g + gi) * nn + ni];
          expect(dav[(mi * k + ki) * g + gi]).toBeCloseTo(s, 5);
        }
    for (let ki = 0; ki < k; ki++)
      for (let gi = 0; gi < g; gi++)
        for (let ni = 0; ni < nn; ni++) {
          let s = 0;
          for (let mi = 0; mi < m; mi++) s += av[(mi * k + ki) * g + gi] * rv[(mi * g + gi) * nn + ni];
          expect(dbv[(ki * g + gi) * nn + ni]).toBeCloseTo(s, 5);
        }
    tf.dispose([a, b, r, da, db]);
  });
});
