import { describe, expect, it } from 'vitest';
import {
  centerCrop,
  defaultPreset,
  RESIZE_PRESETS,
  randomCrop,
  roundHalfEven,
  targetSize,
} from './presets.js';

describe('presets', () => {
  it('seed: Resize((512, 384)) is (height, width): every image becomes 384 wide, 512 tall', () => {
    expect(targetSize(RESIZE_PRESETS.seed, 1024, 768)).toEqual([384, 512]);
    expect(targetSize(RESIZE_PRESETS.seed, 300, 900)).toEqual([384, 512]);
  });
  it('native keeps the aspect ratio (shorter side 384); none keeps the size', () => {
    expect(targetSize(RESIZE_PRESETS.native, 1024, 768)).toEqual([512, 384]);
    expect(targetSize(RESIZE_PRESETS.native, 500, 1000)).toEqual([384, 768]);
    expect(targetSize(RESIZE_PRESETS.none, 123, 456)).toEqual([123, 456]);
  });
  it('CenterCrop uses Python round (half to even)', () => {
    expect(centerCrop(384, 512, 224)).toEqual({ top: 144, left: 80 });
    expect([0.5, 1.5, 2.5, 3.5, -0.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 4, -0, 2, 3]);
    expect(centerCrop(225, 229, 224)).toEqual({ top: 2, left: 0 });
  });
  it('RandomCrop offsets are inclusive of H − 224 and W − 224', () => {
    const seen = new Set<string>();
    let i = 0;
    const rng = (): number => [0, 0.999999, 0.5][i++ % 3];
    for (let k = 0; k < 3; k++) seen.add(JSON.stringify(randomCrop(226, 225, 224, rng)));
    expect(seen).toEqual(
      new Set([
        JSON.stringify({ top: 0, left: 2 }),
        JSON.stringify({ top: 1, left: 0 }),
        JSON.stringify({ top: 1, left: 1 }),
      ]),
    );
  });
  it('defaults follow the original per dataset', () => {
    expect(
      ['koniq10k', 'spaq', 'kadid10k', 'agiqa3k', 'live', 'csiq', 'tid2013', 'livec'].map(defaultPreset),
    ).toEqual(['seed', 'seed', 'seed', 'seed', 'none', 'none', 'none', 'none']);
  });
});
