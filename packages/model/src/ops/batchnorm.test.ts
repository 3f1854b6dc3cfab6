import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { ParamStore } from '../params.js';
import { batchNorm, registerBatchNorm } from './batchnorm.js';
import { maxAbsError } from '../parity.js';

function values(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 31 - 1) * scale + shift;
  }
  return out;
}

const [B, H, W, C] = [2, 3, 4, 5];
const N = B * H * W;
const x = values(N * C, 11, 2, 0.5);
const gamma = values(C, 12, 1, 1);
const beta = values(C, 13);
const rmean = values(C, 14, 0.2);
const rvar = values(C, 15, 0.3, 1);

/** float64 per-channel mean and biased variance of the NHWC values. */
function stats(): { mean: number[]; varB: number[] } {
  const mean = new Array<number>(C).fill(0);
  const varB = new Array<number>(C).fill(0);
  for (let i = 0; i < N; i++) for (let c = 0; c < C; c++) mean[c] += x[i * C + c] / N;
  for (let i = 0; i < N; i++) for (let c = 0; c < C; c++) varB[c] += (x[i * C + c] - mean[c]) ** 2 / N;
  return { mean, varB };
}

function setup(): { store: ParamStore; p: ReturnType<typeof registerBatchNorm> } {
  const store = new ParamStore('bn-test');
  const p = registerBatchNorm(store, 'bn', C);
  (p.weight as tf.Variable).assign(tf.tensor1d(gamma));
  (p.bias as tf.Variable).assign(tf.tensor1d(beta));
  p.runningMean.assign(tf.tensor1d(rmean));
  p.runningVar.assign(tf.tensor1d(rvar));
  return { store, p };
}

describe('batchNorm (torch BatchNorm2d semantics, NHWC)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('registers torch names in state-dict order with torch initial values', () => {
    const store = new ParamStore('bn-names');
    registerBatchNorm(store, 'layer1.0.bn1', 3);
    expect(store.names()).toEqual([
      'layer1.0.bn1.weight',
      'layer1.0.bn1.bias',
      'layer1.0.bn1.running_mean',
      'layer1.0.bn1.running_var',
      'layer1.0.bn1.num_batches_tracked',
    ]);
    expect(store.list().map((e) => e.trainable)).toEqual([true, true, false, false, false]);
    expect(Array.from(store.get('layer1.0.bn1.running_var').dataSync())).toEqual([1, 1, 1]);
    expect(store.get('layer1.0.bn1.num_batches_tracked').shape).toEqual([]);
    store.dispose();
  });

  it('eval: uses the running statistics and leaves them unchanged', () => {
    const { store, p } = setup();
    const y = tf.tidy(() => batchNorm(tf.tensor4d(x, [B, H, W, C]), p, false));
    const got = y.dataSync();
    const ref = Array.from(x, (v, i) => {
      const c = i % C;
      return ((v - rmean[c]) / Math.sqrt(rvar[c] + 1e-5)) * gamma[c] + beta[c];
    });
    expect(maxAbsError(got, ref)).toBeLessThan(1e-5);
    expect(maxAbsError(p.runningMean.dataSync(), rmean)).toBe(0);
    expect(p.numBatchesTracked.dataSync()[0]).toBe(0);
    y.dispose();
    store.dispose();
  });

  it('training: batch statistics (biased) for the output; running stats with momentum 0.1 and the unbiased variance', () => {
    const { store, p } = setup();
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => batchNorm(tf.tensor4d(x, [B, H, W, C]), p, true));
    const { mean, varB } = stats();
    const ref = Array.from(x, (v, i) => {
      const c = i % C;
      return ((v - mean[c]) / Math.sqrt(varB[c] + 1e-5)) * gamma[c] + beta[c];
    });
    expect(maxAbsError(y.dataSync(), ref)).toBeLessThan(1e-5);
    const rm = mean.map((m, c) => 0.9 * rmean[c] + 0.1 * m);
    const rv = varB.map((v, c) => 0.9 * rvar[c] + (0.1 * v * N) / (N - 1));
    expect(maxAbsError(p.runningMean.dataSync(), rm)).toBeLessThan(1e-6);
    expect(maxAbsError(p.runningVar.dataSync(), rv)).toBeLessThan(1e-6);
    expect(p.numBatchesTracked.dataSync()[0]).toBe(1);
    expect(tf.memory().numTensors).toBe(before + 1);
    // updateStats: false normalises the same way but counts nothing.
    const y2 = tf.tidy(() => batchNorm(tf.tensor4d(x, [B, H, W, C]), p, true, { updateStats: false }));
    expect(maxAbsError(y2.dataSync(), y.dataSync())).toBe(0);
    expect(p.numBatchesTracked.dataSync()[0]).toBe(1);
    tf.dispose([y, y2]);
    store.dispose();
  });

  it('training gradient (through the batch statistics) matches an element-wise formulation on the cpu backend', async () => {
    const r = values(N * C, 16);
    const grads = (useOp: boolean): Float32Array[] => {
      const { store, p } = setup();
      const out = tf.tidy(() => {
        const xt = tf.tensor4d(x, [B, H, W, C]);
        const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar => {
          let y: tf.Tensor;
          if (useOp) y = batchNorm(xx, { ...p, weight: g, bias: b }, true);
          else {
            const m = tf.mean(xx, [0, 1, 2]);
            const v = tf.mean(tf.square(tf.sub(xx, m)), [0, 1, 2]);
            y = tf.add(tf.mul(tf.div(tf.sub(xx, m), tf.sqrt(tf.add(v, 1e-5))), g), b);
          }
          return tf.sum(tf.mul(y, tf.tensor4d(r, [B, H, W, C])));
        };
        return tf.grads(f)([xt, tf.tensor1d(gamma), tf.tensor1d(beta)]);
      });
      const arrays = out.map((t) => t.dataSync() as Float32Array);
      tf.dispose(out);
      store.dispose();
      return arrays;
    };
    const got = grads(true);
    await tf.setBackend('cpu');
    const ref = grads(false);
    await tf.setBackend('wasm');
    for (let k = 0; k < 3; k++) expect(maxAbsError(got[k], ref[k])).toBeLessThan(2e-5);
  });

  it('rejects a channel mismatch and a single-value batch in training', () => {
    const { store, p } = setup();
    expect(() => batchNorm(tf.zeros([1, 2, 2, 4]), p, false)).toThrow(/4 channels .* BatchNorm has 5/);
    expect(() => batchNorm(tf.zeros([1, 1, 1, 5]), p, true)).toThrow(/more than one value per channel/);
    store.dispose();
  });
});
