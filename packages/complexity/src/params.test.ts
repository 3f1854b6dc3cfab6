import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { moduleGroup } from './modules.js';
import { countParameters } from './params.js';
import type { ParamLike } from './params.js';

const made: tf.Variable[] = [];
function entry(name: string, shape: number[], opts: { buffer?: boolean; frozen?: boolean } = {}): ParamLike {
  const variable = tf.variable(tf.zeros(shape), !opts.frozen, `params_test/${name}`);
  made.push(variable);
  return { name, variable, trainable: !opts.buffer };
}

afterAll(() => made.forEach((v) => v.dispose()));

describe('countParameters', () => {
  // A miniature HyperIQA-ResNet layout in state-dict order (BN running statistics are buffers).
  const list: ParamLike[] = [
    entry('res.conv1.weight', [8, 3, 7, 7]),
    entry('res.bn1.weight', [8]),
    entry('res.bn1.bias', [8]),
    entry('res.bn1.running_mean', [8], { buffer: true }),
    entry('res.bn1.running_var', [8], { buffer: true }),
    entry('res.bn1.num_batches_tracked', [], { buffer: true }),
    entry('res.layer1.0.conv1.weight', [8, 8, 1, 1]),
    entry('res.lda1_pool.0.weight', [16, 8, 1, 1]),
    entry('res.lda1_fc.weight', [16, 64], { frozen: true }),
    entry('res.lda1_fc.bias', [16]),
    entry('conv1.0.weight', [4, 8, 1, 1]),
    entry('conv1.0.bias', [4]),
    entry('fc1w_conv.weight', [2, 4, 3, 3]),
    entry('fc5b_fc.bias', [1]),
  ];
  const count = countParameters({ list: () => list });

  it('parameters exclude buffers; trainable excludes frozen variables', () => {
    const params = 8 * 3 * 49 + 8 + 8 + 64 + 16 * 8 + 16 * 64 + 16 + 32 + 4 + 72 + 1;
    expect(count.total).toBe(params);
    expect(count.trainable).toBe(params - 16 * 64);
    expect(count.buffers).toBe(8 + 8 + 1);
    expect([count.parameterTensors, count.bufferTensors]).toEqual([11, 3]);
  });

  it('lists every module prefix depth-first in state-dict order, ancestors summing descendants', () => {
    expect(count.modules.map((m) => [m.path, m.params, m.buffers])).toEqual([
      ['res', 1176 + 16 + 64 + 128 + 1024 + 16, 17],
      ['res.conv1', 1176, 0],
      ['res.bn1', 16, 17],
      ['res.layer1', 64, 0],
      ['res.layer1.0', 64, 0],
      ['res.layer1.0.conv1', 64, 0],
      ['res.lda1_pool', 128, 0],
      ['res.lda1_pool.0', 128, 0],
      ['res.lda1_fc', 1040, 0],
      ['conv1', 36, 0],
      ['conv1.0', 36, 0],
      ['fc1w_conv', 72, 0],
      ['fc5b_fc', 1, 0],
    ]);
  });

  it('sums the IQA module groups', () => {
    expect(count.groups).toEqual([
      { group: 'backbone.stem', params: 1192, buffers: 17 },
      { group: 'backbone.stage1', params: 64, buffers: 0 },
      { group: 'lda', params: 1168, buffers: 0 },
      { group: 'hypernet', params: 36, buffers: 0 },
      { group: 'generators', params: 73, buffers: 0 },
    ]);
  });
});

describe('moduleGroup', () => {
  it('maps SMART-IQA and HyperIQA state-dict prefixes', () => {
    const cases: [string, string][] = [
      ['swin.backbone.patch_embed.proj', 'backbone.stem'],
      ['swin.backbone.layers_0.blocks.1.attn.qkv', 'backbone.stage1'],
      ['swin.backbone.layers_3.downsample.reduction', 'backbone.stage4'],
      ['swin.lda4_fc', 'lda'],
      ['res.layer4.2.bn3', 'backbone.stage4'],
      ['res.lda2_pool.0', 'lda'],
      ['multiscale_attention.attention_net.0', 'fusion'],
      ['conv1.4', 'hypernet'],
      ['fc3w_conv', 'generators'],
      ['fc5w_fc', 'generators'],
      ['target_net.fc2', 'target_net'],
      ['swin.backbone', 'backbone.other'],
      ['swin', 'other'],
      ['something_else', 'other'],
    ];
    expect(cases.map(([p]) => [p, moduleGroup(p)])).toEqual(cases);
  });
});
