import type { ModelPresetName } from '@iqa-bench/model';

/**
 * What `iqa-bench models` lists about each preset, besides what its config says (input size, fusion): the backbone by
 * the name timm / torchvision give it, and the parameters and multiply-accumulates @iqa-bench/complexity counts for it
 * (constants: counting a Swin-B forward takes seconds; models.test.ts checks every one against the counting).
 */
export interface PresetFacts {
  /** The backbone as the paper names it. */
  backbone: string;
  /** timm's (Swin) or torchvision's (ResNet) name of the backbone: the ImageNet weights a training run starts from. */
  backboneName: string | null;
  /** Parameters (ParamStore elements, buffers excluded), @iqa-bench/complexity's countParameters. */
  params: number;
  /** MACs of one 224 × 224 image through the whole model (HyperNet and TargetNet), complexity's ops.whole.macs. */
  macs: number;
  /** Other names the preset answers to (besides the backbone's name). */
  aliases: readonly string[];
}

export const PRESET_FACTS: Readonly<Record<ModelPresetName, PresetFacts>> = {
  'smart-iqa-tiny': {
    backbone: 'Swin-T',
    backboneName: 'swin_tiny_patch4_window7_224',
    params: 29_521_479,
    macs: 4_582_210_086,
    aliases: ['swin-t', 'smart-tiny'],
  },
  'smart-iqa-small': {
    backbone: 'Swin-S',
    backboneName: 'swin_small_patch4_window7_224',
    params: 50_839_383,
    macs: 8_832_518_694,
    aliases: ['swin-s', 'smart-small'],
  },
  'smart-iqa-base': {
    backbone: 'Swin-B',
    backboneName: 'swin_base_patch4_window7_224',
    params: 89_111_941,
    macs: 15_539_303_974,
    aliases: ['swin-b', 'smart-base'],
  },
  'hyperiqa-resnet50': {
    backbone: 'ResNet-50',
    backboneName: 'resnet50',
    params: 27_375_369,
    macs: 4_290_966_054,
    aliases: ['resnet-50', 'hyperiqa'],
  },
  'smart-iqa-micro': {
    backbone: 'Swin (embed 16, for tests)',
    backboneName: null,
    params: 597_543,
    macs: 103_883_574,
    aliases: ['micro'],
  },
};

/** Lower case, `-` and `_` alike: `Swin_Tiny_Patch4_Window7_224` and `swin-tiny-patch4-window7-224` match. */
function fold(name: string): string {
  return name.trim().toLowerCase().replace(/_/g, '-');
}

/** The preset a name means: a preset name, its backbone's timm / torchvision name, or an alias; undefined otherwise. */
export function resolvePreset(name: string): ModelPresetName | undefined {
  const key = fold(name);
  for (const [preset, facts] of Object.entries(PRESET_FACTS) as [ModelPresetName, PresetFacts][]) {
    const names = [preset, ...(facts.backboneName ? [facts.backboneName] : []), ...facts.aliases];
    if (names.some((n) => fold(n) === key)) return preset;
  }
  return undefined;
}

/** Every name `resolvePreset` accepts for a preset, the preset's own first. */
export function presetNames(preset: ModelPresetName): string[] {
  const f = PRESET_FACTS[preset];
  return [preset, ...(f.backboneName ? [f.backboneName] : []), ...f.aliases];
}
