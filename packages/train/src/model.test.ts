import { describe, expect, it } from 'vitest';
import { parseTrainConfig } from './config.js';
import { modelConfigOf } from './model.js';

const cfg = (model: unknown) => parseTrainConfig({ dataset: { kind: 'kadid10k', root: '/d' }, model });

describe('modelConfigOf', () => {
  it('applies rate, fusion and architecture overrides to the preset', () => {
    const mc = modelConfigOf(
      cfg({
        preset: 'hyperiqa-resnet50',
        dropoutRate: 0.1,
        backbone: { layers: [1, 1, 1, 1], baseWidth: 8 },
        head: { ldaOut: 4, targetFc: [14, 14, 7, 7] },
      }),
    );
    expect(mc.backbone).toEqual({ kind: 'resnet', layers: [1, 1, 1, 1], baseWidth: 8, imgSize: 224 });
    expect(mc.head).toMatchObject({
      ldaOut: 4,
      targetFc: [14, 14, 7, 7],
      hyperInChannels: 112,
      targetInSize: 224,
    });
    expect(mc.dropoutRate).toBe(0.1);
    const swin = modelConfigOf(
      cfg({ preset: 'smart-iqa-tiny', fusion: 'concat', backbone: { depths: [1, 1, 2, 1] } }),
    );
    expect(swin.fusion).toBe('concat');
    expect(swin.backbone).toMatchObject({ kind: 'swin', embedDim: 96, depths: [1, 1, 2, 1] });
  });

  it("the model's input side is patches.size: the backbone's imgSize and the head's featureSize follow it", () => {
    const at = (size: number) =>
      modelConfigOf(
        parseTrainConfig({
          dataset: { kind: 'kadid10k', root: '/d' },
          model: { preset: 'hyperiqa-resnet50' },
          patches: { size },
        }),
      );
    expect(at(224).backbone.imgSize).toBe(224);
    expect(at(224).head.featureSize).toBe(7);
    expect(at(128).backbone.imgSize).toBe(128);
    expect(at(128).head.featureSize).toBe(4);
    expect(() => at(100)).toThrow(
      "patches.size: the model's input side must be a multiple of 32 (its last stage has stride 32), got 100",
    );
  });

  it('names what does not fit', () => {
    expect(() => modelConfigOf(cfg({ preset: 'smart-iqa-nano' }))).toThrow(
      /model\.preset: expected one of smart-iqa-tiny, .*got 'smart-iqa-nano'/,
    );
    expect(() => modelConfigOf(cfg({ preset: 'smart-iqa-micro', backbone: { baseWidth: 8 } }))).toThrow(
      "model.backbone: baseWidth do not apply to the swin backbone of 'smart-iqa-micro'",
    );
  });
});
