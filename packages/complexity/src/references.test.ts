import { presetConfig } from '@iqa-bench/model';
import { describe, expect, it } from 'vitest';
import { MODEL_REFERENCES, REFERENCE_MODELS, referenceFor } from './references.js';

describe('referenceFor', () => {
  it('recognises each published preset, whatever its dropout rates or key order', () => {
    for (const name of REFERENCE_MODELS) {
      const config = presetConfig(name);
      expect(referenceFor(config)).toBe(name);
      const reordered = JSON.parse(JSON.stringify({ ...config, dropoutRate: 0.1, dropPathRate: 0 }, null, 0));
      const shuffled = Object.fromEntries(Object.entries(reordered).reverse());
      expect(referenceFor(shuffled as unknown as typeof config)).toBe(name);
    }
  });

  it('returns null for other architectures', () => {
    expect(referenceFor(presetConfig('smart-iqa-micro'))).toBeNull();
    const concat = { ...presetConfig('smart-iqa-tiny'), fusion: 'concat' as const };
    expect(referenceFor(concat)).toBeNull();
  });

  it('holds the original parameter totals and heads derived from their shapes', () => {
    expect(REFERENCE_MODELS.map((n) => MODEL_REFERENCES[n].params)).toEqual([
      29_521_479, 50_839_383, 89_111_941, 27_375_369,
    ]);
    // Swin-B head: LayerNorm(1024) + Linear(1024 -> 1000).
    expect(MODEL_REFERENCES['smart-iqa-base'].classifier.head).toMatchObject({
      params: 2048 + 1_025_000,
      macs: 1_024_000,
    });
  });
});
