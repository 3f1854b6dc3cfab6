import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL_COPY_KERNELS, MODEL_FUSED_KERNELS } from '@iqa-bench/model/ops';
import { countedKernelNames, kernelCost, registerKernelCost } from './kernels.js';
import { countOps } from './ops.js';
import type { KernelOpRecord } from './ops.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

/** The single kernel record a one-op function produces. */
function only(fn: () => tf.Tensor, kernel: string): KernelOpRecord {
  const records = countOps(fn, { keepKernels: true }).kernels!.filter((k) => k.kernel === kernel);
  expect(records).toHaveLength(1);
  return records[0];
}

describe('matmul MACs (M, N, K from shapes and transpose attrs)', () => {
  it('plain 2-D product: M*N*K MACs and 2*M*N*K FLOPs', () => {
    const a = seeded([5, 3], 1);
    const b = seeded([3, 4], 2);
    const r = only(() => tf.matMul(a, b), 'BatchMatMul');
    expect(r.macs).toBe(5 * 4 * 3);
    expect(r.flops).toBe(2 * 5 * 4 * 3);
    expect(r.category).toBe('matmul');
  });

  it('transposeA and transposeB: a [K,M]^T x b [N,K]^T', () => {
    const a = seeded([7, 3], 3); // K=7, M=3
    const b = seeded([4, 7], 4); // N=4, K=7
    const r = only(() => tf.matMul(a, b, true, true), 'BatchMatMul');
    expect(r.attrs).toMatchObject({ transposeA: true, transposeB: true });
    expect(r.outputShapes[0]).toEqual([3, 4]);
    expect(r.macs).toBe(3 * 4 * 7);
  });

  it('square operands with transposeB (shape alone is ambiguous, the attr decides)', () => {
    // q [2 heads, 6 tokens, 6 dims] x k^T: M=6, N=6, K=6 either way, but [6,4] x [5,4]^T is not.
    const q = seeded([2, 6, 4], 5);
    const k = seeded([2, 5, 4], 6);
    const r = only(() => tf.matMul(q, k, false, true), 'BatchMatMul');
    expect(r.outputShapes[0]).toEqual([2, 6, 5]);
    expect(r.macs).toBe(2 * 6 * 5 * 4);
  });

  it('batched with broadcast batch dims: the output batch counts', () => {
    const a = seeded([2, 1, 4, 6], 7);
    const b = seeded([3, 6, 5], 8);
    const r = only(() => tf.matMul(a, b), 'BatchMatMul');
    expect(r.outputShapes[0]).toEqual([2, 3, 4, 5]);
    expect(r.macs).toBe(2 * 3 * 4 * 5 * 6);
  });

  it('fused matmul adds one FLOP per output for the bias and per the activation', () => {
    const a = seeded([5, 3], 9);
    const b = seeded([3, 4], 10);
    const bias = seeded([4], 11);
    const r = only(() => tf.fused.matMul({ a, b, bias, activation: 'relu' }), '_FusedMatMul');
    expect(r.macs).toBe(60);
    expect(r.flops).toBe(2 * 60 + 20 + 20);
  });
});

describe('convolution MACs (from strides, pad and dilations)', () => {
  const x = seeded([2, 9, 9, 3], 12);
  const f = seeded([3, 3, 3, 8], 13) as tf.Tensor4D;

  it('stride 2, same padding: output 5x5', () => {
    const r = only(() => tf.conv2d(x as tf.Tensor4D, f, 2, 'same'), 'Conv2D');
    expect(r.outputShapes[0]).toEqual([2, 5, 5, 8]);
    expect(r.macs).toBe(2 * 5 * 5 * 8 * (3 * 3 * 3));
  });

  it('stride 2, valid padding: output 4x4', () => {
    const r = only(() => tf.conv2d(x as tf.Tensor4D, f, 2, 'valid'), 'Conv2D');
    expect(r.macs).toBe(2 * 4 * 4 * 8 * 27);
  });

  it('explicit padding and dilation 2 (effective 5x5 filter): output (9+2-5)+1 = 7', () => {
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ];
    const r = only(() => tf.conv2d(x as tf.Tensor4D, f, 1, pad, 'NHWC', 2), 'Conv2D');
    expect(r.outputShapes[0]).toEqual([2, 7, 7, 8]);
    expect(r.macs).toBe(2 * 7 * 7 * 8 * 27);
  });

  it('depthwise: one input channel per output channel', () => {
    const dx = seeded([1, 8, 8, 4], 14) as tf.Tensor4D;
    const df = seeded([3, 3, 4, 2], 15) as tf.Tensor4D;
    const r = only(() => tf.depthwiseConv2d(dx, df, 1, 'same'), 'DepthwiseConv2dNative');
    expect(r.outputShapes[0]).toEqual([1, 8, 8, 8]);
    expect(r.macs).toBe(8 * 8 * 8 * 9);
  });

  it('transposed conv counts the products of the forward conv it inverts', () => {
    const dy = seeded([1, 4, 4, 8], 16) as tf.Tensor4D;
    const tf8 = seeded([3, 3, 3, 8], 17) as tf.Tensor4D; // [kh, kw, outDepth=3, inDepth=8]
    const r = only(() => tf.conv2dTranspose(dy, tf8, [1, 8, 8, 3], 2, 'same'), 'Conv2DBackpropInput');
    expect(r.outputShapes[0]).toEqual([1, 8, 8, 3]);
    expect(r.macs).toBe(4 * 4 * 8 * 9 * 3);
  });

  it('fused conv: bias and activation per output element', () => {
    const bias = seeded([8], 18);
    const r = only(
      () =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: f,
          strides: 2,
          pad: 'same',
          bias,
          activation: 'relu6',
        }),
      'FusedConv2D',
    );
    const out = 2 * 5 * 5 * 8;
    expect(r.flops).toBe(2 * out * 27 + out + 2 * out);
  });

  it('the weight gradient of a conv (Conv2DBackpropFilter) has the forward conv MACs', () => {
    const cost = kernelCost({
      kernel: 'Conv2DBackpropFilter',
      inputs: { x: { shape: [2, 9, 9, 3], dtype: 'float32' }, dy: { shape: [2, 5, 5, 8], dtype: 'float32' } },
      attrs: { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 8] },
      outputs: [{ shape: [3, 3, 3, 8], dtype: 'float32' }],
    });
    expect(cost.macs).toBe(2 * 5 * 5 * 8 * 27);
  });
});

describe('non-MAC kernels', () => {
  it('elementwise and activations: one FLOP per output element (broadcast output size)', () => {
    const a = seeded([4, 5], 19);
    const b = seeded([5], 20);
    expect(only(() => tf.add(a, b), 'Add').flops).toBe(20);
    expect(only(() => tf.erf(a), 'Erf')).toMatchObject({ flops: 20, category: 'activation' });
    expect(only(() => tf.squaredDifference(a, b), 'SquaredDifference').flops).toBe(40);
  });

  it('reductions: n-1 per output, Mean one more (= input size)', () => {
    const a = seeded([4, 6], 21);
    expect(only(() => tf.sum(a, 1), 'Sum').flops).toBe(4 * 5);
    expect(only(() => tf.mean(a, 1), 'Mean').flops).toBe(24);
    expect(only(() => tf.max(a), 'Max').flops).toBe(23);
  });

  it('softmax: 5n - 2 per row', () => {
    const a = seeded([3, 7], 22);
    expect(only(() => tf.softmax(a), 'Softmax')).toMatchObject({
      flops: 3 * (5 * 7 - 2),
      category: 'softmax',
    });
  });

  it('pooling: window-size FLOPs per output (max pool one fewer)', () => {
    const a = seeded([1, 8, 8, 2], 23) as tf.Tensor4D;
    expect(only(() => tf.avgPool(a, 2, 2, 'valid'), 'AvgPool').flops).toBe(4 * 4 * 2 * 4);
    const b = seeded([1, 7, 7, 1], 24) as tf.Tensor4D;
    const r = only(() => tf.maxPool(b, 3, 2, 'same'), 'MaxPool');
    expect(r.outputShapes[0]).toEqual([1, 4, 4, 1]);
    expect(r.flops).toBe(16 * 8);
  });

  it('batch norm with scale and offset: 4 per element + 2 per channel', () => {
    const a = seeded([2, 3, 3, 4], 25);
    const m = seeded([4], 26);
    const v = tf.abs(seeded([4], 27));
    const r = only(() => tf.batchNorm(a, m, v, seeded([4], 28), seeded([4], 29)), 'FusedBatchNorm');
    expect(r).toMatchObject({ category: 'normalization', flops: 4 * 72 + 2 * 4 });
  });

  it('data movement counts 0 FLOPs and is listed', () => {
    const a = seeded([2, 3, 4], 30);
    const count = countOps(() =>
      tf.pad(
        tf.concat(
          [tf.transpose(a, [2, 0, 1]).reshape([4, 6]), tf.slice(a, [0, 0, 0], [1, 1, 4]).reshape([4, 1])],
          1,
        ),
        [
          [1, 1],
          [0, 0],
        ],
      ),
    );
    expect(count.flops).toBe(0);
    expect(count.byKernel.map((k) => k.kernel).sort()).toEqual([
      'Concat',
      'PadV2',
      'Reshape',
      'Slice',
      'Transpose',
    ]);
    expect(count.byCategory).toEqual([{ category: 'data', calls: 6, macs: 0, flops: 0 }]);
  });

  it('a kernel without a rule is reported as uncounted, not guessed', () => {
    const img = seeded([1, 4, 4, 1], 31) as tf.Tensor4D;
    const count = countOps(() => tf.image.resizeBilinear(img, [8, 8]));
    expect(count.uncounted).toEqual([{ kernel: 'ResizeBilinear', calls: 1 }]);
    expect(count.byCategory).toEqual([{ category: 'other', calls: 1, macs: 0, flops: 0 }]);
  });
});

describe('custom kernels', () => {
  it('registerKernelCost teaches the counter a kernel registered with tf.registerKernel', () => {
    // A custom "scaled add" kernel on cpu: y = x + 2 * x, implemented with the cpu backend's own data.
    const name = 'ComplexityTestScaledAdd';
    tf.registerKernel({
      kernelName: name,
      backendName: 'cpu',
      kernelFunc: ({ inputs, backend }) => {
        const x = inputs.x as tf.TensorInfo;
        const cpu = backend as unknown as {
          readSync(id: unknown): Float32Array;
          makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo;
        };
        const v = cpu.readSync(x.dataId).map((a) => 3 * a);
        return cpu.makeTensorInfo(x.shape, 'float32', v);
      },
    });
    const x = seeded([4, 5], 32);
    const run = () => tf.engine().runKernel(name, { x }, {}) as tf.Tensor;
    expect(countOps(run).uncounted).toEqual([{ kernel: name, calls: 1 }]);
    registerKernelCost(name, { category: 'elementwise', flopsPerOutput: 2 });
    expect(countOps(run)).toMatchObject({
      flops: 40,
      uncounted: [],
      byCategory: [{ category: 'elementwise', calls: 1 }],
    });
    expect(() => registerKernelCost('Add', { category: 'data', flopsPerOutput: 0 })).toThrow(
      /already has a counting rule/,
    );
    tf.unregisterKernel(name, 'cpu');
  });

  it('has a rule for every custom kernel the model registers (names from the model)', () => {
    const model = [...MODEL_COPY_KERNELS, ...MODEL_FUSED_KERNELS];
    expect(model).toEqual([
      'IqaWindowPartition',
      'IqaWindowReverse',
      'IqaSliceRows',
      'IqaGeluGate',
      'IqaNormalize',
      'IqaWindowAttention',
    ]);
    expect(model.filter((k) => !countedKernelNames().includes(k))).toEqual([]);
    const copy = (kernel: string) =>
      kernelCost({ kernel, inputs: { x: { shape: [4, 8], dtype: 'float32' } }, attrs: {}, outputs: [] });
    for (const k of MODEL_COPY_KERNELS)
      expect(copy(k)).toEqual({ category: 'data', macs: 0, flops: 0, counted: true });
  });

  it("the model's fused kernels count the work of the tfjs ops they replace", () => {
    const call = (kernel: string, inputs: Record<string, number[]>, out: number[]) =>
      kernelCost({
        kernel,
        inputs: Object.fromEntries(
          Object.entries(inputs).map(([k, shape]) => [k, { shape, dtype: 'float32' }]),
        ),
        attrs: {},
        outputs: [{ shape: out, dtype: 'float32' }],
      });
    // erf, multiply, add
    expect(call('IqaGeluGate', { x: [2, 5] }, [2, 5])).toEqual({
      category: 'activation',
      macs: 0,
      flops: 30,
      counted: true,
    });
    // per row of 8: mean 8, subtract 8, square 8, mean 8, multiply 8, add eps 1, rsqrt 1
    expect(call('IqaNormalize', { x: [3, 8] }, [3, 8]).flops).toBe(3 * 42);
    // 2 windows x 2 heads of 49 tokens, head dim 32: q·kᵀ and p·v, the bias add, a softmax of 5·49 - 2 per row
    const att = call(
      'IqaWindowAttention',
      { q: [98, 64], k: [98, 64], v: [98, 64], bias: [1, 2, 49, 49] },
      [98, 64],
    );
    const macs = 2 * 4 * 49 * 49 * 32;
    expect(att).toEqual({
      category: 'matmul',
      macs,
      flops: 2 * macs + 4 * 49 * 49 + 4 * 49 * 243,
      counted: true,
    });
  });
});
