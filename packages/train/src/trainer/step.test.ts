import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { toyImageSet, toyModel, TOY_SIZE } from '../__tests__/toy.js';
import { parseTrainConfig } from '../config.js';
import { buildModel } from '../model.js';
import { batchGradients, seedSourceFor } from './step.js';
import { bufferParams, readBuffers, writeBuffers } from './values.js';
import type { TrainableModel } from './types.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const lossCfg = (kind: string, alpha = 0) =>
  parseTrainConfig({ dataset: { kind: 'csv', root: '/x' }, model: { preset: 'toy' }, loss: { kind, alpha } })
    .loss;

async function batch(n: number) {
  const set = toyImageSet(n, 5, 'b', 'train');
  const refs = Array.from({ length: n }, (_, i) => ({ image: i, patch: 0 }));
  return { x: await set.patches(refs, 0), labels: Float32Array.from(set.labels) };
}

function grads(kind: string, micro: number, dropout: number, alpha = 0) {
  return async () => {
    const { x, labels } = await batch(10);
    const model = toyModel(7, dropout);
    const r = await batchGradients(model, {
      x,
      labels,
      size: TOY_SIZE,
      microBatchSize: micro,
      loss: lossCfg(kind, alpha),
      seed: 1,
      seedPath: ['step', 0],
      checkpointing: false,
    });
    const out = new Map([...r.grads].map(([n, g]) => [n, Float32Array.from(g.dataSync())]));
    tf.dispose([...r.grads.values()]);
    model.dispose();
    return { loss: r.loss, scores: r.scores, grads: out };
  };
}

function maxRel(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let d = 0;
  // relative to the largest gradient entry of the model (some entries are analytically 0, e.g. the output bias under
  // the shift-invariant plcc loss, and carry only rounding noise)
  const scale = Math.max(1e-6, ...[...a.values()].flatMap((g) => Array.from(g, Math.abs)));
  for (const [n, ga] of a) {
    const gb = b.get(n) as Float32Array;
    for (let i = 0; i < ga.length; i++) d = Math.max(d, Math.abs(ga[i] - gb[i]) / scale);
  }
  return d;
}

describe('batchGradients: the micro-batch split does not change the result beyond float rounding (dropout off)', () => {
  for (const [kind, alpha] of [
    ['l1', 0],
    ['l2', 0],
    ['plcc', 0],
    ['fidelity', 0],
    ['spearman', 0],
    ['l1', 0.5],
  ] as const) {
    it(`${kind}${alpha ? ` + alpha ${alpha}` : ''}: micro 10 vs 3 vs 1`, async () => {
      const full = await grads(kind, 10, 0, alpha)();
      for (const micro of [3, 1]) {
        const split = await grads(kind, micro, 0, alpha)();
        expect(Math.abs(split.loss - full.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(full.loss)));
        expect(maxRel(split.grads, full.grads)).toBeLessThan(1e-4);
        expect(Array.from(split.scores)).toEqual(Array.from(full.scores));
      }
    });
  }

  it('batch-level losses replay the dropout masks in the second pass (gradient matches a one-pass reference)', async () => {
    // micro = B: two-pass result must equal tf.variableGrads of plcc over the same forward (same seeds)
    const { x, labels } = await batch(10);
    const model = toyModel(7, 0.3);
    const two = await batchGradients(model, {
      x,
      labels,
      size: TOY_SIZE,
      microBatchSize: 10,
      loss: lossCfg('plcc'),
      seed: 1,
      seedPath: [],
      checkpointing: false,
    });
    const xt = tf.tensor4d(x, [10, TOY_SIZE, TOY_SIZE, 3]);
    const yt = tf.tensor1d(labels);
    const { plccLoss } = await import('../losses.js');
    const ref = tf.variableGrads(() => {
      const s = model.score(xt, { training: true, seeds: seedSourceFor(1, 'micro', 0) });
      return plccLoss(s, yt);
    });
    expect(Math.abs(ref.value.dataSync()[0] - two.loss)).toBeLessThan(1e-6);
    for (const p of model.params.filter((q) => q.trainable)) {
      const a = two.grads.get(p.name)!.dataSync();
      const b = ref.grads[p.variable.name].dataSync();
      const scale = Math.max(1e-6, ...Array.from(b, Math.abs));
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]) / scale).toBeLessThan(1e-5);
    }
    tf.dispose([xt, yt, ref.value, ...Object.values(ref.grads), ...two.grads.values()]);
    model.dispose();
  });

  it('leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const r = await grads('plcc', 3, 0.2)();
    await grads('l1', 4, 0.2)();
    expect(r.grads.size).toBe(4);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('batchGradients: BatchNorm running statistics', () => {
  // A real HyperIQA (ResNet, BatchNorm) from @iqa-bench/model, 64-pixel input.
  const bnConfig = parseTrainConfig({
    dataset: { kind: 'csv', root: '/x' },
    model: {
      preset: 'hyperiqa-resnet50',
      backbone: { layers: [1, 1, 1, 1], baseWidth: 4 },
      head: { ldaOut: 4, hyperInChannels: 8, targetInSize: 16, targetFc: [8, 8, 4, 4], conv1Hidden: [16, 8] },
    },
    patches: { size: 64 },
  });
  const B = 4;
  const input = () => {
    const rng = seedrandom('bn-input');
    return {
      x: Float32Array.from({ length: B * 64 * 64 * 3 }, () => rng() * 2 - 1),
      labels: Float32Array.from([0.2, 0.9, 0.4, 0.6]),
    };
  };
  const step = async (model: TrainableModel, micro: number, kind: string) => {
    const { x, labels } = input();
    const r = await batchGradients(model, {
      x,
      labels,
      size: 64,
      microBatchSize: micro,
      loss: lossCfg(kind),
      seed: 1,
      seedPath: [],
      checkpointing: false,
    });
    tf.dispose([...r.grads.values()]);
  };
  /** Buffers after plain training forwards over the given micro-batches, each from the same start, in order. */
  const forwards = (model: TrainableModel, micro: number): Float32Array[][] => {
    const { x } = input();
    const start = readBuffers(model);
    const out: Float32Array[][] = [];
    for (let s = 0; s < B; s += micro) {
      writeBuffers(model, start);
      const xt = tf.tensor4d(x.subarray(s * 64 * 64 * 3, (s + micro) * 64 * 64 * 3), [micro, 64, 64, 3]);
      tf.dispose([model.score(xt, { training: true, seeds: () => 1 }), xt]);
      out.push(readBuffers(model));
    }
    return out;
  };

  for (const kind of ['plcc', 'l1'] as const) {
    it(`one ${kind} step updates them once, exactly as one training forward of the batch`, async () => {
      const a = await buildModel(bnConfig, 3);
      const b = await buildModel(bnConfig, 3);
      const start = readBuffers(a);
      await step(a, B, kind);
      const [once] = forwards(b, B);
      expect(readBuffers(a)).toEqual(once);
      // num_batches_tracked went up by one, and the running statistics moved
      const names = bufferParams(a).map((p) => p.name);
      const tracked = names.indexOf('res.bn1.num_batches_tracked');
      expect(readBuffers(a)[tracked][0]).toBe(start[tracked][0] + 1);
      expect(readBuffers(a)[names.indexOf('res.bn1.running_mean')]).not.toEqual(
        start[names.indexOf('res.bn1.running_mean')],
      );
      a.dispose();
      b.dispose();
    });
  }

  it('with micro-batches: the mean of the micro-batch updates, each from the step’s starting buffers', async () => {
    const a = await buildModel(bnConfig, 3);
    const b = await buildModel(bnConfig, 3);
    await step(a, 2, 'plcc');
    const [u0, u1] = forwards(b, 2);
    const mean = u0.map((v, i) => v.map((e, j) => Math.fround(Math.fround(e + u1[i][j]) / 2)));
    expect(readBuffers(a)).toEqual(mean);
    a.dispose();
    b.dispose();
  });
});
