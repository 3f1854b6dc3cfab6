import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toyImageSet, toyModel, TOY_SIZE } from '../__tests__/toy.js';
import { runToy, toyConfig } from '../__tests__/toy-run.js';
import { parseTrainConfig, type TrainConfigInput } from '../config.js';
import { plccLoss } from '../losses.js';
import { readMetricsLogSync, type EpochRecord } from '../run-folder/metrics-log.js';
import { epochBatches, minBatchSamples } from './batches.js';
import { batchGradients } from './step.js';

const made: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'train-batches-'));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
beforeAll(async () => {
  await tf.setBackend('cpu');
});

const config = (loss: string, batchSize: number, smallLastBatch?: string, alpha = 0) =>
  parseTrainConfig({
    dataset: { kind: 'csv', root: '/x' },
    model: { preset: 'toy' },
    loss: { kind: loss, alpha },
    training: { batchSize, ...(smallLastBatch ? { smallLastBatch } : {}) },
    memory: { microBatchSize: 1 },
  } as TrainConfigInput);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('epochBatches', () => {
  it('50 samples in batches of 16 with a PLCC loss: the last 2 join the third batch, every sample once', () => {
    const b = epochBatches(config('plcc', 16), 50);
    expect(b.bounds).toEqual([
      [0, 16],
      [16, 32],
      [32, 50],
    ]);
    expect(b.trained).toBe(50);
    expect(b.smallLast).toEqual({ size: 2, action: 'merge' });
    expect(b.bounds.flatMap(([s, e]) => range(e - s).map((i) => s + i))).toEqual(range(50));
    expect(config('srcc', 16).training.smallLastBatch).toBe('merge'); // the default
  });

  it('drop leaves the last 2 out, keep steps on them; the pairwise losses and the margin term count as batch-level', () => {
    const drop = epochBatches(config('plcc', 16, 'drop'), 50);
    expect(drop.bounds).toEqual([
      [0, 16],
      [16, 32],
      [32, 48],
    ]);
    expect(drop.trained).toBe(48);
    expect(drop.smallLast).toEqual({ size: 2, action: 'drop' });
    const keep = epochBatches(config('plcc', 16, 'keep'), 50);
    expect(keep.bounds).toHaveLength(4);
    expect([keep.trained, keep.smallLast]).toEqual([50, null]);
    for (const kind of ['rank', 'fidelity', 'spearman'])
      expect(epochBatches(config(kind, 16), 50).bounds).toHaveLength(3);
    expect(epochBatches(config('l1', 16, undefined, 0.5), 50).bounds).toHaveLength(3);
  });

  it('leaves per-sample losses, remainders of half a batch or more, and one-batch epochs alone', () => {
    // l1 / l2 are means over samples: a small last batch is a smaller, still meaningful, step
    expect(epochBatches(config('l1', 16), 50).bounds).toHaveLength(4);
    expect(epochBatches(config('l2', 16), 50).smallLast).toBeNull();
    // the CI gate's epoch (`train --recipe synthetic`: 1675 training crops, batches of 16, PLCC) ends in 11 samples,
    // at least half a batch: its 105 steps are unchanged
    expect(minBatchSamples(16)).toBe(8);
    const gate = epochBatches(config('plcc', 16), 1675);
    expect(gate.bounds).toHaveLength(105);
    expect(gate.bounds[104]).toEqual([1664, 1675]);
    expect(gate.smallLast).toBeNull();
    expect(epochBatches(config('plcc', 16), 56).bounds.at(-1)).toEqual([48, 56]); // 8 = half: kept
    expect(epochBatches(config('plcc', 16), 55).bounds.at(-1)).toEqual([32, 55]); // 7: merged
    // an epoch of one small batch is the whole epoch
    expect(epochBatches(config('plcc', 16), 5)).toEqual({ bounds: [[0, 5]], trained: 5, smallLast: null });
    expect(epochBatches(config('plcc', 1), 3).bounds).toHaveLength(3);
  });
});

describe('a merged last batch', () => {
  it('is one step whose loss is the PLCC loss of the concatenated batch (a batch of 2 alone gives exactly 0 or 2)', async () => {
    const set = toyImageSet(18, 5, 'm', 'train');
    const x = await set.patches(
      range(18).map((i) => ({ image: i, patch: 0 })),
      0,
    );
    const labels = Float32Array.from(set.labels);
    const step = (from: number, to: number) =>
      batchGradients(toyModel(7, 0), {
        x: x.subarray(from * TOY_SIZE * TOY_SIZE * 3, to * TOY_SIZE * TOY_SIZE * 3),
        labels: labels.subarray(from, to),
        size: TOY_SIZE,
        microBatchSize: 8,
        loss: config('plcc', 16).loss,
        seed: 1,
        seedPath: ['step', 0],
        checkpointing: false,
      });
    const merged = await step(0, 18);
    const whole = tf.tidy(() => plccLoss(tf.tensor1d(merged.scores), tf.tensor1d(labels)).dataSync()[0]);
    expect(merged.loss).toBeCloseTo(whole, 6);
    expect(merged.scores).toHaveLength(18);
    const alone = await step(16, 18);
    // two points are always perfectly (anti-)correlated: 1 - (±1), up to float32 and the 1e-8 of the denominator
    expect([0, 2].some((v) => Math.abs(alone.loss - v) < 1e-5)).toBe(true);
    tf.dispose([...merged.grads.values(), ...alone.grads.values()]);
  });

  it('in training: two steps a epoch, the merge on the console and in metrics.jsonl, the loss over every sample', async () => {
    // 24 toy images x 2 crops = 48 samples in batches of 20: 20, 20 and 8 (under 10) → 20 and 28
    for (const [mode, trained] of [
      ['merge', 48],
      ['drop', 40],
    ] as const) {
      const dir = tmp();
      const steps: { stepsPerEpoch: number; loss: number }[] = [];
      const lines: string[] = [];
      await runToy(
        toyConfig({
          loss: { kind: 'plcc' },
          training: { epochs: 1, batchSize: 20, smallLastBatch: mode },
        }),
        dir,
        (s) => steps.push(s),
        (l) => lines.push(l),
      );
      expect(steps.map((s) => s.stepsPerEpoch)).toEqual([2, 2]);
      const rec = readMetricsLogSync(join(dir, 'metrics.jsonl')).records[0] as EpochRecord;
      expect(rec.smallLastBatch).toEqual({ size: 8, action: mode });
      const last = mode === 'merge' ? 28 : 20;
      expect(rec.loss).toBeCloseTo((20 * steps[0].loss + last * steps[1].loss) / trained, 6);
      expect(lines[0]).toBe(
        `round 0: the last batch of every epoch would have 8 of 20 samples (48 in all), too few for the plcc loss: ${mode === 'merge' ? 'merged into the previous batch' : 'dropped'} (training.smallLastBatch ${mode})`,
      );
    }
  });
});
