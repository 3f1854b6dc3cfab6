import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UNATTRIBUTED, countOps, scopePath } from './ops.js';
import type { ParamSource } from './params.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const seeded = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

/** A parameter source over named variables (all trainable). */
function source(vars: Record<string, tf.Variable>): ParamSource {
  return {
    list: () => Object.entries(vars).map(([name, variable]) => ({ name, variable, trainable: true })),
  };
}

describe('scopePath', () => {
  it('composes relative and full-path scope names to the same path', () => {
    expect(scopePath(['swin', 'backbone', 'layers_0'])).toBe('swin.backbone.layers_0');
    expect(scopePath(['swin', 'swin.backbone', 'swin.backbone.layers_0'])).toBe('swin.backbone.layers_0');
    expect(scopePath(['swin.backbone.layers_0', 'blocks.1'])).toBe('swin.backbone.layers_0.blocks.1');
    expect(scopePath([])).toBe('');
  });
});

describe('module attribution', () => {
  // Two "linear layers" stored [in, out] and a weight used through a reshape (like a 1x1 conv stored [in, out]).
  const vars = {
    'enc.fc.weight': tf.variable(seeded([4, 6], 1), true, 'ops_test_enc_fc_w'),
    'enc.fc.bias': tf.variable(seeded([6], 2), true, 'ops_test_enc_fc_b'),
    'head.proj.weight': tf.variable(seeded([1, 1, 6, 3], 3), true, 'ops_test_head_proj_w'),
  };
  const params = source(vars);
  const x = seeded([5, 4], 4);

  function net(): tf.Tensor {
    const h = tf.relu(tf.matMul(x, vars['enc.fc.weight']).add(vars['enc.fc.bias']));
    return tf.matMul(h, vars['head.proj.weight'].reshape([6, 3]));
  }

  it('without scopes: parameter inputs (also through a reshape), then dataflow', () => {
    const count = countOps(net, { params, keepKernels: true });
    const byKernel = count.kernels!.map((k) => [k.kernel, k.module, k.method]);
    expect(byKernel).toEqual([
      ['BatchMatMul', 'enc.fc', 'params'],
      ['Add', 'enc.fc', 'params'],
      ['Relu', 'enc.fc', 'dataflow'],
      ['Reshape', 'head.proj', 'params'],
      ['BatchMatMul', 'head.proj', 'params'],
    ]);
    expect(count.kernels![4].paramInputs).toEqual(['head.proj.weight']);
    expect(count.weightMacs).toBe(5 * 6 * 4 + 5 * 3 * 6);
    expect(count.activationMacs).toBe(0);
    expect(count.modules.map((m) => [m.path, m.depth, m.calls, m.macs])).toEqual([
      ['enc', 1, 3, 120],
      ['enc.fc', 2, 3, 120],
      ['head', 1, 2, 90],
      ['head.proj', 2, 2, 90],
    ]);
  });

  it('named scopes win, refined by parameter modules below the scope', () => {
    const count = countOps(() => tf.tidy('enc', () => net()), { params, keepKernels: true });
    expect(count.kernels!.map((k) => [k.module, k.method])).toEqual([
      ['enc.fc', 'scope'],
      ['enc.fc', 'scope'],
      ['enc', 'scope'],
      ['enc', 'scope'],
      ['enc', 'scope'],
    ]);
    expect(count.attribution).toEqual([{ method: 'scope', calls: 5, macs: 210, flops: 2 * 210 + 30 + 30 }]);
  });

  it('activation x activation products count as activationMacs; dataflow takes the common parent', () => {
    const count = countOps(
      () => {
        const a = tf.tidy('blk.q', () => tf.matMul(x, vars['enc.fc.weight']));
        const b = tf.tidy('blk.k', () => tf.matMul(x, vars['enc.fc.weight']));
        return tf.matMul(a, b, false, true); // [5,6] x [5,6]^T
      },
      { params, keepKernels: true },
    );
    const last = count.kernels![2];
    expect([last.module, last.method, last.macs]).toEqual(['blk', 'dataflow', 5 * 5 * 6]);
    expect(count.activationMacs).toBe(150);
    expect(count.weightMacs).toBe(240);
  });

  it('splits off kernels that do not depend on the inputs (a one-hot bias product from a parameter table)', () => {
    const onehot = tf.oneHot(tf.tensor1d([0, 2, 1, 2, 0], 'int32'), 3).toFloat(); // constant [5, 3]
    const table = tf.variable(seeded([3, 6], 5), true, 'ops_test_table');
    const count = countOps(
      () => {
        const bias = tf.matMul(onehot, table); // [5, 6], no image involved
        return tf.add(tf.matMul(x, vars['enc.fc.weight']), bias);
      },
      { params: source({ ...vars, 'attn.table': table }), inputs: [x], keepKernels: true },
    );
    expect(count.kernels!.map((k) => [k.kernel, k.inputDependent])).toEqual([
      ['BatchMatMul', false],
      ['BatchMatMul', true],
      ['Add', true],
    ]);
    expect(count.inputIndependent).toEqual({ calls: 1, macs: 5 * 6 * 3, flops: 2 * 90 });
    expect([count.weightMacs, count.activationMacs, count.macs]).toEqual([120, 0, 210]);
    expect(count.groups).toEqual([
      { group: 'other', calls: 3, macs: 210, flops: 420 + 30, inputIndependentMacs: 90 },
    ]);
    tf.dispose([onehot, table]);
    // Without inputs nothing is known to be independent.
    expect(countOps(() => tf.matMul(x, vars['enc.fc.weight'])).inputIndependent).toBeNull();
  });

  it('follows data, not tensor objects: views made without a kernel keep dependence and provenance', () => {
    // A reshape done as a view (a new tensor on the same dataId, no Reshape kernel), as @iqa-bench/model does.
    const view = (t: tf.Tensor, shape: number[]) => {
      const engine = tf.engine();
      const info = engine.state.tensorInfo.get(t.dataId) as { backend: tf.KernelBackend };
      info.backend.incRef(t.dataId); // one more reference on the data, as the Reshape kernels take
      return engine.makeTensorFromDataId(t.dataId, shape, t.dtype, info.backend);
    };
    const count = countOps(
      () => {
        const x3 = view(x, [1, 5, 4]);
        const w3 = view(vars['enc.fc.weight'], [1, 4, 6]);
        return tf.matMul(x3, w3);
      },
      { params, inputs: [x], keepKernels: true },
    );
    expect(count.kernels!.map((k) => [k.kernel, k.inputDependent, k.paramInputs, k.module])).toEqual([
      ['BatchMatMul', true, ['enc.fc.weight'], 'enc.fc'],
    ]);
    expect([count.weightMacs, count.activationMacs, count.inputIndependent]).toEqual([
      120,
      0,
      { calls: 0, macs: 0, flops: 0 },
    ]);
  });

  it('kernels with nothing to go by are unattributed', () => {
    const count = countOps(() => tf.exp(x), { keepKernels: true });
    expect(count.kernels![0].method).toBe('none');
    expect(count.modules).toEqual([{ path: UNATTRIBUTED, depth: 1, calls: 1, macs: 0, flops: 20 }]);
    expect(count.groups).toEqual([{ group: 'other', calls: 1, macs: 0, flops: 20, inputIndependentMacs: 0 }]);
  });

  it('IQA module groups from state-dict style scope names', () => {
    const count = countOps(() => {
      tf.tidy('swin.backbone.layers_2.blocks.0.attn', () => tf.matMul(x, vars['enc.fc.weight']));
      tf.tidy('swin.lda3_fc', () => tf.matMul(x, vars['enc.fc.weight']));
      tf.tidy('target_net', () => tf.matMul(x, vars['enc.fc.weight']));
      return tf.scalar(0);
    });
    expect(count.groups.map((g) => [g.group, g.macs])).toEqual([
      ['backbone.stage3', 120],
      ['lda', 120],
      ['target_net', 120],
    ]);
  });
});
