import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { countOps, countParameters } from '@iqa-bench/complexity';
import { createModel, PRESET_NAMES } from '@iqa-bench/model';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRESET_FACTS, presetNames, resolvePreset } from './models.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * @iqa-bench/complexity's analytic counts of the four full-size presets (from the layer shapes, written by its
 * tools/analytic_complexity.py); its own tests check that its kernel counting gives exactly these.
 */
const analytic = JSON.parse(
  readFileSync(
    resolve(import.meta.dirname, '..', '..', 'complexity', 'fixtures', 'analytic-complexity.json'),
    'utf8',
  ),
) as Record<string, { totalParams: number; totalMacs: { weight: number; activation: number } }>;

describe('the preset table of iqa-bench models', () => {
  it('has every preset', () => {
    expect(Object.keys(PRESET_FACTS).sort()).toEqual([...PRESET_NAMES].sort());
  });

  it.each(PRESET_NAMES.filter((p) => p !== 'smart-iqa-micro'))(
    '%s: parameters as counted, MACs as the analytic count complexity matches',
    (preset) => {
      const model = createModel(preset, { seed: 1, randomInit: false });
      try {
        expect(countParameters(model.params).total).toBe(PRESET_FACTS[preset].params);
      } finally {
        model.dispose();
      }
      expect(PRESET_FACTS[preset].params).toBe(analytic[preset].totalParams);
      const { weight, activation } = analytic[preset].totalMacs;
      expect(PRESET_FACTS[preset].macs).toBe(weight + activation);
    },
    60_000,
  );

  it('smart-iqa-micro: parameters and MACs as complexity counts them (a repeated forward, TargetNet included)', () => {
    const model = createModel('smart-iqa-micro', { seed: 1, randomInit: false });
    const x = tf.zeros([1, 224, 224, 3]) as tf.Tensor4D;
    try {
      expect(countParameters(model.params).total).toBe(PRESET_FACTS['smart-iqa-micro'].params);
      // The first forward also derives tensors it caches (relative-position biases): count the second one.
      countOps(() => model.predict(x), { params: model.params, inputs: [x] });
      const again = countOps(() => model.predict(x), { params: model.params, inputs: [x] });
      expect(again.macs).toBe(PRESET_FACTS['smart-iqa-micro'].macs);
    } finally {
      model.dispose();
      x.dispose();
    }
  }, 60_000);

  it('resolves presets by their backbone names and aliases', () => {
    expect(resolvePreset('swin_tiny_patch4_window7_224')).toBe('smart-iqa-tiny');
    expect(resolvePreset('Swin-Tiny-Patch4-Window7-224')).toBe('smart-iqa-tiny');
    expect(resolvePreset('resnet50')).toBe('hyperiqa-resnet50');
    expect(resolvePreset('swin_base_patch4_window7_224')).toBe('smart-iqa-base');
    expect(resolvePreset('smart-iqa-small')).toBe('smart-iqa-small');
    expect(resolvePreset('vgg16')).toBeUndefined();
    // No name means two presets.
    const all = PRESET_NAMES.flatMap((p) => presetNames(p).map((n) => n.toLowerCase().replace(/_/g, '-')));
    expect(new Set(all).size).toBe(all.length);
  });
});
