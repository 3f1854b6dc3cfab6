/**
 * The architecture config stored next to weights (safetensors `__metadata__`, tfjs `userDefinedMetadata`), so that a
 * weights file alone rebuilds its model. Parsed defensively: every field is checked, unknown fields are refused.
 */
import type { ModelConfig } from '../config.js';

/** safetensors `__metadata__` key holding the ModelConfig JSON. */
export const CONFIG_METADATA_KEY = 'iqa_bench_config';

type Obj = Record<string, unknown>;
type Quad = [number, number, number, number];

class Checker {
  constructor(private readonly source: string) {}

  fail(path: string, expected: string, got: unknown): never {
    const shown = JSON.stringify(got);
    throw new Error(
      `${this.source}: model config field '${path}': expected ${expected}, got ${shown === undefined ? 'nothing' : shown.slice(0, 60)}`,
    );
  }

  obj(v: unknown, path: string, keys: string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'an object', v);
    const extra = Object.keys(v).filter((k) => !keys.includes(k));
    if (extra.length > 0) this.fail(`${path}.${extra[0]}`, 'no such field', (v as Obj)[extra[0]]);
    return v as Obj;
  }

  int(v: unknown, path: string, min = 1): number {
    if (!Number.isSafeInteger(v) || (v as number) < min) this.fail(path, `an integer >= ${min}`, v);
    return v as number;
  }

  positive(v: unknown, path: string): number {
    if (typeof v !== 'number' || !(v > 0 && Number.isFinite(v))) this.fail(path, 'a positive number', v);
    return v;
  }

  rate(v: unknown, path: string): number {
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) this.fail(path, 'a number in [0, 1)', v);
    return v;
  }

  ints(v: unknown, path: string, n: number): number[] {
    if (!Array.isArray(v) || v.length !== n) this.fail(path, `a list of ${n} integers`, v);
    return v.map((x, i) => this.int(x, `${path}[${i}]`));
  }

  oneOf<T extends string>(v: unknown, path: string, options: readonly T[]): T {
    if (!options.includes(v as T)) this.fail(path, options.map((o) => `'${o}'`).join(' | '), v);
    return v as T;
  }
}

/** Validates an untrusted value as a ModelConfig (returns a fresh object). */
export function parseModelConfig(value: unknown, source = 'model config'): ModelConfig {
  const c = new Checker(source);
  const root = c.obj(value, 'config', [
    'arch',
    'backbone',
    'fusion',
    'head',
    'dropPathRate',
    'dropoutRate',
    'attentionDropout',
  ]);
  const arch = c.oneOf(root.arch, 'arch', ['smart-iqa', 'hyperiqa'] as const);
  const kind = c.oneOf((root.backbone as Obj | null)?.kind, 'backbone.kind', ['swin', 'resnet'] as const);
  let backbone: ModelConfig['backbone'];
  if (kind === 'swin') {
    const b = c.obj(root.backbone, 'backbone', [
      'kind',
      'embedDim',
      'depths',
      'numHeads',
      'windowSize',
      'patchSize',
      'imgSize',
      'mlpRatio',
    ]);
    backbone = {
      kind,
      embedDim: c.int(b.embedDim, 'backbone.embedDim'),
      depths: c.ints(b.depths, 'backbone.depths', 4) as Quad,
      numHeads: c.ints(b.numHeads, 'backbone.numHeads', 4) as Quad,
      windowSize: c.int(b.windowSize, 'backbone.windowSize'),
      patchSize: c.int(b.patchSize, 'backbone.patchSize'),
      imgSize: c.int(b.imgSize, 'backbone.imgSize'),
      mlpRatio: c.positive(b.mlpRatio, 'backbone.mlpRatio'),
    };
  } else {
    const b = c.obj(root.backbone, 'backbone', ['kind', 'layers', 'baseWidth', 'imgSize']);
    backbone = {
      kind,
      layers: c.ints(b.layers, 'backbone.layers', 4) as Quad,
      baseWidth: c.int(b.baseWidth, 'backbone.baseWidth'),
      imgSize: c.int(b.imgSize, 'backbone.imgSize'),
    };
  }
  if ((arch === 'smart-iqa') !== (kind === 'swin'))
    c.fail('backbone.kind', arch === 'smart-iqa' ? "'swin' for smart-iqa" : "'resnet' for hyperiqa", kind);
  const h = c.obj(root.head, 'head', [
    'ldaOut',
    'hyperInChannels',
    'targetInSize',
    'targetFc',
    'featureSize',
    'conv1Hidden',
    'attentionHidden',
  ]);
  return {
    arch,
    backbone,
    fusion: c.oneOf(root.fusion, 'fusion', ['single', 'concat', 'attention'] as const),
    head: {
      ldaOut: c.int(h.ldaOut, 'head.ldaOut'),
      hyperInChannels: c.int(h.hyperInChannels, 'head.hyperInChannels'),
      targetInSize: c.int(h.targetInSize, 'head.targetInSize'),
      targetFc: c.ints(h.targetFc, 'head.targetFc', 4) as Quad,
      featureSize: c.int(h.featureSize, 'head.featureSize'),
      conv1Hidden: c.ints(h.conv1Hidden, 'head.conv1Hidden', 2) as [number, number],
      attentionHidden: c.int(h.attentionHidden, 'head.attentionHidden'),
    },
    dropPathRate: c.rate(root.dropPathRate, 'dropPathRate'),
    dropoutRate: c.rate(root.dropoutRate, 'dropoutRate'),
    attentionDropout: c.rate(root.attentionDropout, 'attentionDropout'),
  };
}

/** The config from safetensors metadata, or null when the file carries none. */
export function configFromMetadata(
  metadata: Record<string, string>,
  source = 'metadata',
): ModelConfig | null {
  const raw = metadata[CONFIG_METADATA_KEY];
  if (raw === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(`${source}: metadata '${CONFIG_METADATA_KEY}' is not valid JSON`);
  }
  return parseModelConfig(value, `${source} (metadata '${CONFIG_METADATA_KEY}')`);
}

/** safetensors metadata for a model: its config, and `format: pt` (tensors are in PyTorch layout). */
export function configMetadata(config: ModelConfig): Record<string, string> {
  return { format: 'pt', [CONFIG_METADATA_KEY]: JSON.stringify(parseModelConfig(config)) };
}
