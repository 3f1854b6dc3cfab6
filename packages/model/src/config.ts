/**
 * Architecture configuration shared by every part of @iqa-bench/model (builders, weight import,
 * architecture inference from checkpoints, presets) and stored in safetensors metadata.
 * Field meanings follow the original's `HyperNet(lda_out_channels, hyper_in_channels, target_in_size, target_fc1_size,
 * …, feature_size)` (`smart_iqa/models/smart_iqa.py`) and timm's Swin arguments.
 */

/** Swin Transformer backbone (timm `features_only`: patch_embed + 4 stages, no final norm). */
export interface SwinBackboneConfig {
  kind: 'swin';
  /** Channels after patch embedding (C0); stage i has embedDim * 2^i channels. */
  embedDim: number;
  /** Blocks per stage, e.g. [2, 2, 6, 2] for Swin-T. */
  depths: [number, number, number, number];
  /** Attention heads per stage, e.g. [3, 6, 12, 24]. */
  numHeads: [number, number, number, number];
  /** Window side (7). */
  windowSize: number;
  /** Patch side (4). */
  patchSize: number;
  /** Input side (224); timm builds with strict_img_size. */
  imgSize: number;
  /** MLP hidden = mlpRatio * C (4). */
  mlpRatio: number;
}

/** torchvision-v1.5-layout ResNet backbone (Bottleneck blocks, stride in the 3x3 conv). */
export interface ResNetBackboneConfig {
  kind: 'resnet';
  /** Bottleneck blocks per stage, [3, 4, 6, 3] for ResNet-50. */
  layers: [number, number, number, number];
  /** Width of the first stage before expansion (64). Stage outputs are 4 * width * 2^i. */
  baseWidth: number;
  imgSize: number;
}

export type BackboneConfig = SwinBackboneConfig | ResNetBackboneConfig;

/** How the four stage maps feed the HyperNet's conv1 stack. */
export type FusionMode = 'single' | 'concat' | 'attention';

/** Sizes of the HyperIQA head: LDA, HyperNet 1x1 stack, generators and TargetNet. */
export interface HyperHeadConfig {
  /** LDA output size of stages 1-3 (16); lda4 gives targetInSize - 3 * ldaOut. */
  ldaOut: number;
  /** Channels of the HyperNet feature H (112). */
  hyperInChannels: number;
  /** TargetNet input size (224). */
  targetInSize: number;
  /** TargetNet hidden sizes (112, 56, 28, 14). */
  targetFc: [number, number, number, number];
  /** Spatial side of the last stage map (7). */
  featureSize: number;
  /** Hidden widths of the conv1 1x1 stack before hyperInChannels (SMART [512, 256]; ResNet [1024, 512]). */
  conv1Hidden: [number, number];
  /** Hidden width of the attention MLP (256). */
  attentionHidden: number;
}

export interface ModelConfig {
  /** 'smart-iqa' (Swin backbone) or 'hyperiqa' (ResNet-50 original). */
  arch: 'smart-iqa' | 'hyperiqa';
  backbone: BackboneConfig;
  fusion: FusionMode;
  head: HyperHeadConfig;
  /** Stochastic-depth rate of the last Swin block (linear schedule from 0). */
  dropPathRate: number;
  /** Dropout on H and after TargetNet layers 1-3 (SMART only; the original HyperIQA has none). */
  dropoutRate: number;
  /** Dropout inside the attention MLP (fixed 0.5 in the original). */
  attentionDropout: number;
}
