/**
 * Published complexity figures at 224x224 that measurements are checked against, and the comparison itself.
 *
 * Sources:
 * - The original's own measurement (`complexity/complexity_results_*.md`, `TABLE_COMPLEXITY.tex`): parameters by
 *   `sum(p.numel() for p in model.parameters())` (buffers excluded) and ptflops `get_model_complexity_info` MACs of
 *   the HyperNet forward only (no TargetNet).
 * - ImageNet classifiers with their heads: torchvision's model docs (exact parameter counts; "GFLOPS" = GMACs) and the
 *   Swin paper / timm model cards (4.5 / 8.7 / 15.4 GMACs; ResNet-50 4.1 GMACs).
 */
import { presetConfig } from '@iqa-bench/model';
import type { ModelConfig } from '@iqa-bench/model';

/** The four published models; the names are `@iqa-bench/model`'s preset names. */
export const REFERENCE_MODELS = [
  'smart-iqa-tiny',
  'smart-iqa-small',
  'smart-iqa-base',
  'hyperiqa-resnet50',
] as const;
export type ReferenceModel = (typeof REFERENCE_MODELS)[number];

export interface ModelReference {
  /** `sum(p.numel())` of the original HyperNet (buffers excluded). */
  readonly params: number;
  /** The original's ptflops figure (MACs, labelled GMac / "FLOPs"), HyperNet only. */
  readonly ptflopsMacs: number;
  /** The original's thop figure (MACs) when it reported one. */
  readonly thopMacs: number | null;
  /** The ImageNet classifier whose feature extractor is the backbone. */
  readonly classifier: {
    readonly name: string;
    /** Exact parameter count of the classifier (torchvision). */
    readonly params: number;
    readonly paramsSource: string;
    /** Published MACs of the classifier at 224x224, with their precision as published. */
    readonly macs: number;
    readonly macsSource: string;
    /** The classifier head that the IQA backbone drops: parameters and MACs, from its shapes. */
    readonly head: { readonly params: number; readonly macs: number; readonly description: string };
  };
}

/** Swin: final LayerNorm(C) + Linear(C -> 1000); ResNet: global average pool + Linear(2048 -> 1000). */
function swinHead(c: number) {
  return {
    params: 2 * c + c * 1000 + 1000,
    macs: c * 1000,
    description: `final LayerNorm(${c}) + Linear(${c}->1000): ${2 * c + c * 1000 + 1000} params, ${c * 1000} MACs (average-pool and LayerNorm are not MACs)`,
  };
}

export const MODEL_REFERENCES: Readonly<Record<ReferenceModel, ModelReference>> = {
  'smart-iqa-tiny': {
    params: 29_521_479,
    ptflopsMacs: 4.47e9,
    thopMacs: 4.463e9,
    classifier: {
      name: 'Swin-T',
      params: 28_288_354,
      paramsSource: 'torchvision swin_t (28,288,354; timm 28.3M)',
      macs: 4.49e9,
      macsSource: 'torchvision swin_t 4.49 GFLOPS (= GMACs; Swin paper / timm: 4.5G)',
      head: swinHead(768),
    },
  },
  'smart-iqa-small': {
    params: 50_839_383,
    ptflopsMacs: 8.65e9,
    thopMacs: 8.636e9,
    classifier: {
      name: 'Swin-S',
      params: 49_606_258,
      paramsSource: 'torchvision swin_s (49,606,258; timm 49.6M)',
      macs: 8.74e9,
      macsSource: 'torchvision swin_s 8.74 GFLOPS (= GMACs; Swin paper: 8.7G)',
      head: swinHead(768),
    },
  },
  'smart-iqa-base': {
    params: 89_111_941,
    ptflopsMacs: 15.28e9,
    thopMacs: 15.278e9,
    classifier: {
      name: 'Swin-B',
      params: 87_768_224,
      paramsSource: 'torchvision swin_b (87,768,224; timm 87.8M)',
      macs: 15.43e9,
      macsSource: 'torchvision swin_b 15.43 GFLOPS (= GMACs; Swin paper: 15.4G)',
      head: swinHead(1024),
    },
  },
  'hyperiqa-resnet50': {
    params: 27_375_369,
    ptflopsMacs: 4.33e9,
    thopMacs: null,
    classifier: {
      name: 'ResNet-50',
      params: 25_557_032,
      paramsSource: 'torchvision resnet50 (25,557,032; timm 25.6M)',
      macs: 4.09e9,
      macsSource: 'torchvision resnet50 4.09 GFLOPS (= GMACs; timm: 4.1 GMACs)',
      head: {
        params: 2048 * 1000 + 1000,
        macs: 2048 * 1000,
        description: 'global average pool + Linear(2048->1000): 2,049,000 params, 2,048,000 MACs',
      },
    },
  },
};

/** JSON with object keys sorted, so that equal configurations compare equal whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * The published model a configuration is (same backbone, fusion and head as the preset; dropout rates do not change
 * the complexity), or null.
 */
export function referenceFor(config: ModelConfig): ReferenceModel | null {
  const architecture = (c: ModelConfig) => canonical([c.arch, c.backbone, c.fusion, c.head]);
  const target = architecture(config);
  return REFERENCE_MODELS.find((name) => architecture(presetConfig(name)) === target) ?? null;
}
