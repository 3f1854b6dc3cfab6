import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lcgValues, useBackend } from '../__tests__/helpers.js';
import { gelu, geluGate, layerNorm, normalize } from './nn.js';
import { simdGeluGate, simdKernelsActive, simdNormalize } from './simd.js';
import { maxAbsError } from '../parity.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
/** scipy.special.erf at float32 points (tools/kernels/fit_erf.py). */
const golden = JSON.parse(
  readFileSync(new URL('../../fixtures/kernels/erf.json', import.meta.url), 'utf8'),
) as {
  x: number[];
  erf: number[];
};

/** Row-wise (x - mean)/√(var + eps) in float64. */
function normalizeF64(x: Float32Array, cols: number, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / cols; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    const mean = row.reduce((s, v) => s + v, 0) / cols;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / cols;
    for (let j = 0; j < cols; j++) out[r * cols + j] = (row[j] - mean) / Math.sqrt(variance + eps);
  }
  return out;
}

describe('wasm SIMD kernels', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('kernels-wasm.ts is exactly what kernels.wat assembles to', () => {
    const r = spawnSync(process.execPath, ['tools/kernels/assemble.mjs', '--check'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('run on the wasm backend of this Node', () => {
    expect(simdKernelsActive()).toBe(true);
    const u = tf.ones([8]);
    const y = simdGeluGate(u);
    expect(y).not.toBeNull();
    y?.dispose();
    u.dispose();
  });

  it('geluGate = u + u·erf(u) within 5e-7·|u| of scipy, tiny to huge magnitudes, every element written', () => {
    const n = golden.x.length;
    expect(n % 8).not.toBe(0); // the overlapping last step is exercised
    const u = tf.tensor1d(golden.x);
    const y = simdGeluGate(u) as tf.Tensor;
    const got = y.dataSync();
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const x = golden.x[i];
      const exact = x + x * golden.erf[i];
      worst = Math.max(worst, Math.abs(got[i] - exact) / Math.max(Math.abs(x), 1e-30));
    }
    expect(worst).toBeLessThan(5e-7);
    expect(worst).toBeGreaterThan(0); // an approximation, measured: not the float64 formula by accident
    tf.dispose([u, y]);
  });

  it('geluGate matches the tfjs ops for every length from 8 to 40 and for ±Infinity and NaN', () => {
    for (let n = 8; n <= 40; n++) {
      const v = lcgValues(n, n).map((x) => 4 * x);
      const u = tf.tensor1d(v);
      const y = geluGate(u);
      const ref = tf.add(u, tf.mul(u, tf.erf(u)));
      expect(maxAbsError(y.dataSync(), ref.dataSync())).toBeLessThan(2e-6);
      tf.dispose([u, y, ref]);
    }
    const u = tf.tensor1d([Infinity, -Infinity, NaN, 0, -0, 1, -1, 2]);
    const got = Array.from(geluGate(u).dataSync());
    expect(got.slice(0, 5)).toEqual([Infinity, NaN, NaN, 0, 0]);
    u.dispose();
  });

  it('gelu(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2)) through the fused gate', () => {
    const x = tf.tensor1d(golden.x.slice(0, 1201)); // -6 … 6
    const y = gelu(x).dataSync();
    const ref = tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
    expect(maxAbsError(y, ref.dataSync())).toBeLessThan(2e-6);
    tf.dispose([x, ref]);
  });

  it('normalize matches a float64 LayerNorm for the Swin widths, constant rows and a single row', () => {
    for (const [rows, cols, offset] of [
      [3136, 96, 2],
      [784, 192, -1],
      [49, 768, 0],
      [1, 4, 0],
      [3, 12, 100],
    ] as const) {
      const v = lcgValues(rows * cols, rows + cols).map((x) => 3 * x + offset);
      for (let j = 0; j < cols; j++) v[j] = 0.1; // a constant row: variance 0, output ~0
      const x = tf.tensor2d(v, [rows, cols]);
      const y = simdNormalize(x, 1e-5) as tf.Tensor;
      expect(y).not.toBeNull();
      const got = y.dataSync();
      const want = normalizeF64(v, cols, 1e-5);
      // Other rows: float32 rounding of inputs of magnitude |offset| + 3 over a spread of ~1.7.
      expect(maxAbsError(got.subarray(cols), want.subarray(cols))).toBeLessThan(
        1e-6 * (1 + Math.abs(offset)),
      );
      // The constant row: the mean's rounding (a few ulp of 0.1) is multiplied by 1/√eps ≈ 316. The tfjs ops measured
      // 2.5e-4 on the 768-wide row, the kernel 6e-5.
      expect(maxAbsError(got.subarray(0, cols), want.subarray(0, cols))).toBeLessThan(1e-4);
      tf.dispose([x, y]);
    }
  });

  it('normalize falls back to the tfjs ops where the kernel does not apply (last axis not a multiple of 4)', () => {
    const v = lcgValues(5 * 6, 3);
    const x = tf.tensor2d(v, [5, 6]);
    expect(simdNormalize(x, 1e-5)).toBeNull();
    const y = normalize(x);
    expect(maxAbsError(y.dataSync(), normalizeF64(v, 6, 1e-5))).toBeLessThan(3e-6);
    const g = tf.tensor1d([1, 2, 3, 4, 5, 6]);
    const b = tf.tensor1d([0, 0, 0, 1, 1, 1]);
    const ln = layerNorm(x, g, b).dataSync();
    const want = normalizeF64(v, 6, 1e-5).map((z, i) => z * (1 + (i % 6)) + (i % 6 >= 3 ? 1 : 0));
    expect(maxAbsError(ln, want)).toBeLessThan(2e-5);
    tf.dispose([x, y, g, b]);
  });

  it('take the tfjs ops under a gradient tape: gradients of geluGate and normalize are right', () => {
    const v = lcgValues(64, 9).map((x) => 3 * x);
    const u = tf.tensor1d(v);
    const dGelu = tf
      .grad((t: tf.Tensor) => tf.sum(geluGate(t)))(u)
      .dataSync();
    const erfV = tf.erf(u).dataSync();
    for (let i = 0; i < v.length; i++) {
      const want = 1 + erfV[i] + (2 / Math.sqrt(Math.PI)) * v[i] * Math.exp(-v[i] * v[i]);
      expect(Math.abs(dGelu[i] - want)).toBeLessThan(1e-5);
    }
    // d/dx Σ w·normalize(x) by central differences in float64 on one row of 8
    const row = Array.from(lcgValues(8, 4));
    const w = Array.from(lcgValues(8, 5));
    const f = (r: number[]): number =>
      normalizeF64(Float32Array.from(r), 8, 1e-5).reduce((s, z, i) => s + z * w[i], 0);
    const dNorm = tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(normalize(t), tf.tensor2d([w]))))(tf.tensor2d([row]))
      .dataSync();
    for (let i = 0; i < 8; i++) {
      const h = 1e-3;
      const up = row.slice();
      const dn = row.slice();
      up[i] += h;
      dn[i] -= h;
      expect(Math.abs(dNorm[i] - (f(up) - f(dn)) / (2 * h))).toBeLessThan(2e-3);
    }
    u.dispose();
  });

  it('leave no tensor behind', () => {
    const x = tf.tensor2d(lcgValues(4 * 96, 1), [4, 96]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) {
      normalize(x).dispose();
      geluGate(x).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
