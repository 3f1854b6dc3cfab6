/**
 * Named model configurations: the original's (SMART-IQA Tiny / Small / Base on timm's Swin-T/S/B with the
 * paper's drop-path and dropout rates; HyperIQA on ResNet-50; the head HyperNet(16, 112, 224, 112, 56,
 * 28, 14, 7)) and a micro configuration that runs every code path of SMART-IQA in milliseconds (tests, CI).
 */
import type { HyperHeadConfig, ModelConfig, SwinBackboneConfig } from './config.js';

export const PRESET_NAMES = [
  'smart-iqa-tiny',
  'smart-iqa-small',
  'smart-iqa-base',
  'hyperiqa-resnet50',
  'smart-iqa-micro',
] as const;
/** A model preset's name (not to be confused with @iqa-bench/data's resize presets). */
export type ModelPresetName = (typeof PRESET_NAMES)[number];

/** The original head: HyperNet(16, 112, 224, 112, 56, 28, 14, 7). */
const ORIGINAL_HEAD: HyperHeadConfig = {
  ldaOut: 16,
  hyperInChannels: 112,
  targetInSize: 224,
  targetFc: [112, 56, 28, 14],
  featureSize: 7,
  conv1Hidden: [512, 256],
  attentionHidden: 256,
};

function swin(
  embedDim: number,
  depths: SwinBackboneConfig['depths'],
  numHeads: SwinBackboneConfig['numHeads'],
): SwinBackboneConfig {
  return { kind: 'swin', embedDim, depths, numHeads, windowSize: 7, patchSize: 4, imgSize: 224, mlpRatio: 4 };
}

function smart(backbone: SwinBackboneConfig, dropPathRate: number, dropoutRate: number): ModelConfig {
  return {
    arch: 'smart-iqa',
    backbone,
    fusion: 'attention',
    head: {
      ...ORIGINAL_HEAD,
      targetFc: [...ORIGINAL_HEAD.targetFc],
      conv1Hidden: [...ORIGINAL_HEAD.conv1Hidden],
    },
    dropPathRate,
    dropoutRate,
    attentionDropout: 0.5,
  };
}

/** A fresh copy of a preset's configuration. */
export function presetConfig(name: ModelPresetName): ModelConfig {
  switch (name) {
    case 'smart-iqa-tiny':
      return smart(swin(96, [2, 2, 6, 2], [3, 6, 12, 24]), 0.2, 0.3);
    case 'smart-iqa-small':
      return smart(swin(96, [2, 2, 18, 2], [3, 6, 12, 24]), 0.25, 0.35);
    case 'smart-iqa-base':
      return smart(swin(128, [2, 2, 18, 2], [4, 8, 16, 32]), 0.3, 0.4);
    case 'hyperiqa-resnet50':
      return {
        arch: 'hyperiqa',
        backbone: { kind: 'resnet', layers: [3, 4, 6, 3], baseWidth: 64, imgSize: 224 },
        fusion: 'single',
        head: { ...ORIGINAL_HEAD, targetFc: [...ORIGINAL_HEAD.targetFc], conv1Hidden: [1024, 512] },
        dropPathRate: 0,
        dropoutRate: 0,
        attentionDropout: 0.5,
      };
    case 'smart-iqa-micro':
      // Swin with dims 16/32/64/128 and two blocks per stage (shifted windows in stages 0-2), a small head whose
      // TargetNet sizes keep every generated weight count a multiple of 7² (28→14→14→7→7→1).
      return {
        arch: 'smart-iqa',
        backbone: swin(16, [2, 2, 2, 2], [1, 2, 4, 8]),
        fusion: 'attention',
        head: {
          ldaOut: 4,
          hyperInChannels: 16,
          targetInSize: 28,
          targetFc: [14, 14, 7, 7],
          featureSize: 7,
          conv1Hidden: [32, 24],
          attentionHidden: 16,
        },
        dropPathRate: 0.2,
        dropoutRate: 0.3,
        attentionDropout: 0.5,
      };
    default: {
      const never: never = name;
      throw new Error(`unknown preset '${String(never)}'; expected one of ${PRESET_NAMES.join(', ')}`);
    }
  }
}

export function isPresetName(s: string): s is ModelPresetName {
  return (PRESET_NAMES as readonly string[]).includes(s);
}
