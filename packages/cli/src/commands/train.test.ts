import { describe, expect, it } from 'vitest';
import { suggestPreset } from './train.js';

describe('suggestPreset', () => {
  it('the preset a name most likely means: the longest shared start, at most 2 characters left out, no tie', () => {
    expect(suggestPreset('smart-iqa-tin')).toBe('smart-iqa-tiny');
    expect(suggestPreset('Smart_IQA_Bas')).toBe('smart-iqa-base');
    expect(suggestPreset('smart-iqa-tinyy')).toBe('smart-iqa-tiny');
    expect(suggestPreset('resnet5')).toBe('hyperiqa-resnet50'); // its backbone's torchvision name
    expect(suggestPreset('swin_tiny_patch4')).toBe('smart-iqa-tiny'); // the start of its backbone's timm name
    expect(suggestPreset('smart-iqa-tinx-large')).toBeUndefined(); // too much of it left out
    expect(suggestPreset('smart-iqa-')).toBeUndefined(); // tiny, small, base, micro alike
    expect(suggestPreset('vgg16')).toBeUndefined();
  });
});
