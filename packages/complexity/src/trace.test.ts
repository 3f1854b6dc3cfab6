import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { countOps } from './ops.js';
import type { OpCount } from './ops.js';
import { traceKernels } from './trace.js';

const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
const hooked = () => Object.prototype.hasOwnProperty.call(tf.engine(), 'runKernelFunc');

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('traceKernels', () => {
  it('records a customGrad op once, by its inner kernels (no extra non-kernel record)', async () => {
    await tf.setBackend('cpu');
    const mm = tf.customGrad((a, b, save) => {
      (save as tf.GradSaveFunc)([a as tf.Tensor, b as tf.Tensor]);
      return { value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), gradFunc: (dy: tf.Tensor) => [dy, dy] };
    });
    const a = seeded([4, 3], 1);
    const b = seeded([3, 2], 2);
    const trace = traceKernels(() => tf.tidy(() => mm(a, b)));
    expect(trace.kernels.map((k) => k.kernel)).toEqual(['BatchMatMul']);
    trace.result.dispose();
  });

  it('restores the engine after the traced function throws, and refuses nested traces', async () => {
    await tf.setBackend('cpu');
    const a = seeded([2, 2], 3);
    expect(() =>
      countOps(() => {
        tf.matMul(a, a);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(hooked()).toBe(false);
    expect(() => traceKernels(() => traceKernels(() => 0))).toThrow(/cannot be nested/);
    expect(hooked()).toBe(false);
    expect(countOps(() => tf.matMul(a, a)).macs).toBe(8);
  });

  it('sees gradient kernels: conv forward + input gradient = 2 x the forward MACs', async () => {
    await tf.setBackend('cpu');
    const x = seeded([1, 6, 6, 2], 4) as tf.Tensor4D;
    const f = seeded([3, 3, 2, 4], 5) as tf.Tensor4D;
    const fwd = countOps(() => tf.conv2d(x, f, 1, 'same'));
    const withGrad = countOps(() =>
      tf.grad((xx: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, f, 1, 'same').sum())(x),
    );
    expect(fwd.macs).toBe(6 * 6 * 4 * 9 * 2);
    expect(withGrad.byKernel.find((k) => k.kernel === 'Conv2DBackpropInput')?.macs).toBe(fwd.macs);
    expect(withGrad.macs).toBe(2 * fwd.macs);
  });
});

/**
 * A small transformer-ish net: patch conv (stride 2), LayerNorm via moments, attention with a transposed batched
 * matmul and softmax, exact GELU, fused linear, average pool, batch norm.
 */
function smallNet(): () => tf.Tensor {
  const x = seeded([2, 8, 8, 3], 10) as tf.Tensor4D;
  const patch = seeded([2, 2, 3, 16], 11) as tf.Tensor4D;
  const qkv = seeded([16, 48], 12) as tf.Tensor2D;
  const fc = seeded([16, 32], 13) as tf.Tensor2D;
  const fcBias = seeded([32], 14) as tf.Tensor1D;
  const bnMean = seeded([32], 15);
  const bnVar = tf.abs(seeded([32], 16));
  return () => {
    const p = tf.conv2d(x, patch, 2, 'valid'); // [2,4,4,16]
    const t = p.reshape([32, 16]);
    const { mean, variance } = tf.moments(t, -1, true);
    const n = t.sub(mean).mul(tf.rsqrt(variance.add(1e-5)));
    const [q, k, v] = tf.split(tf.matMul(n, qkv).reshape([2, 16, 48]), 3, -1);
    const attn = tf.softmax(tf.matMul(q, k, false, true).mul(0.25));
    const o = tf.matMul(attn, v).reshape([32, 16]);
    const gelu = o.mul(0.5).mul(tf.erf(o.mul(Math.SQRT1_2)).add(1));
    const h = tf.fused.matMul({ a: gelu, b: fc, bias: fcBias, activation: 'relu' });
    const pooled = tf.avgPool(h.reshape([2, 4, 4, 32]) as tf.Tensor4D, 2, 2, 'valid');
    return tf.batchNorm(pooled, bnMean, bnVar);
  };
}

describe('backend independence', () => {
  it('the same kernels and counts on cpu and wasm', async () => {
    const counts: OpCount[] = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      await tf.ready();
      expect(tf.getBackend()).toBe(backend);
      counts.push(countOps(smallNet(), { keepKernels: true }));
    }
    const [cpu, wasm] = counts;
    expect(cpu.backend).toBe('cpu');
    expect(wasm.backend).toBe('wasm');
    const strip = ({ backend: _b, memory: _m, ...rest }: OpCount) => rest;
    expect(strip(wasm)).toEqual(strip(cpu));
    // Hand count of the MACs: conv 2*4*4*16*(2*2*3) + qkv 32*48*16 + q.k^T 2*16*16*16 + attn.v 2*16*16*16 + fc 32*32*16.
    expect(cpu.macs).toBe(6144 + 24576 + 8192 + 8192 + 16384);
    expect(cpu.uncounted).toEqual([]);
  });
});
