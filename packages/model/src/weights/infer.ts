/**
 * Architecture inference from a HyperNet state dict's keys and shapes (the original saves only
 * `model_hyper.state_dict()`: no config, no wrapper key), for any embed dim, depths, heads, window and head sizes, not
 * only the presets:
 * - backbone: `swin.backbone.*` (Swin) or `res.*` (ResNet); Swin embed dim and patch from `patch_embed.proj.weight`,
 *   depths from the block indices in `layers_i`, heads from each stage's `relative_position_bias_table` [(2w-1)^2, heads],
 *   window from stage 0's table, MLP ratio from `mlp.fc1`; ResNet blocks from `res.layer{i}.{k}`, width from layer1.
 * - input size: 32 x featureSize (the side of the last stage map, from the generator shapes).
 * - fusion: `multiscale_attention.*` present -> attention; else `conv1.0.weight` in-channels = sum of stage channels ->
 *   concat, = last stage channels -> single.
 * - head: LDA / HyperNet / TargetNet sizes from the generator shapes.
 * Rates (drop path, dropout) are not stored in weights: they come from `opts`, else from the preset with the same
 * architecture (e.g. smart-iqa-tiny: 0.2 / 0.3), else 0.
 */
import type { ModelConfig, ResNetBackboneConfig, SwinBackboneConfig } from '../config.js';
import { PRESET_NAMES, presetConfig } from '../presets.js';
import { fileError } from './errors.js';

/** What inference reads: names and PyTorch shapes (a StateDict qualifies; so does a safetensors header). */
export type ShapeMap = ReadonlyMap<string, { readonly shape: readonly number[] }>;

export interface InferOptions {
  /** Not stored in weights. Default: the matching preset's, else 0. */
  dropPathRate?: number;
  /** Not stored in weights. Default: the matching preset's, else 0. */
  dropoutRate?: number;
  /** Not stored in weights. Default: the matching preset's, else 0.5 (the original's fixed value). */
  attentionDropout?: number;
  /** Names the file in errors. */
  source?: string;
}

class Shapes {
  constructor(
    private readonly sd: ShapeMap,
    private readonly source: string,
  ) {}

  get(key: string, rank: number): readonly number[] {
    const t = this.sd.get(key);
    if (!t) this.fail(`missing '${key}'`);
    if (t.shape.length !== rank)
      this.fail(`'${key}' has shape [${t.shape.join(',')}], expected rank ${rank}`);
    return t.shape;
  }

  has(key: string): boolean {
    return this.sd.has(key);
  }

  fail(msg: string): never {
    throw fileError(this.source, null, `cannot infer the architecture: ${msg}`);
  }

  /** Number of consecutive indices k with some key starting `${prefix}${k}.` (0, 1, 2, ... with no gap). */
  count(prefix: string): number {
    const seen = new Set<number>();
    for (const k of this.sd.keys()) {
      if (!k.startsWith(prefix)) continue;
      const m = /^(\d+)\./.exec(k.slice(prefix.length));
      if (m) seen.add(Number(m[1]));
    }
    for (let i = 0; i < seen.size; i++) {
      if (!seen.has(i))
        this.fail(
          `'${prefix}*' has indices ${[...seen].sort((a, b) => a - b).join(',')}, expected 0..${seen.size - 1}`,
        );
    }
    return seen.size;
  }
}

function integerSqrt(n: number): number | null {
  const r = Math.round(Math.sqrt(n));
  return r * r === n ? r : null;
}

function inferSwin(s: Shapes, imgSize: number): SwinBackboneConfig {
  const p = 'swin.backbone.';
  const [embedDim, inCh, patchSize, patchW] = s.get(`${p}patch_embed.proj.weight`, 4);
  if (inCh !== 3 || patchSize !== patchW)
    s.fail(`patch_embed.proj.weight is [${embedDim},${inCh},${patchSize},${patchW}], expected [C,3,p,p]`);
  const depths = [0, 1, 2, 3].map((i) => s.count(`${p}layers_${i}.blocks.`)) as SwinBackboneConfig['depths'];
  if (depths.some((d) => d === 0))
    s.fail(`every stage needs at least one block, found depths [${depths.join(',')}]`);
  if (s.has(`${p}layers_4.blocks.0.norm1.weight`)) s.fail('more than 4 Swin stages');
  const numHeads = [0, 1, 2, 3].map(
    (i) => s.get(`${p}layers_${i}.blocks.0.attn.relative_position_bias_table`, 2)[1],
  ) as SwinBackboneConfig['numHeads'];
  const table = s.get(`${p}layers_0.blocks.0.attn.relative_position_bias_table`, 2)[0];
  const side = integerSqrt(table);
  if (side === null || side % 2 !== 1)
    s.fail(`relative_position_bias_table has ${table} rows, expected (2w-1)^2`);
  const windowSize = (side + 1) / 2;
  const mlpRatio = s.get(`${p}layers_0.blocks.0.mlp.fc1.weight`, 2)[0] / embedDim;
  for (let i = 0; i < 4; i++) {
    const c = s.get(`${p}layers_${i}.blocks.0.norm1.weight`, 1)[0];
    if (c !== embedDim * 2 ** i) s.fail(`stage ${i} has ${c} channels, expected ${embedDim * 2 ** i}`);
  }
  return { kind: 'swin', embedDim, depths, numHeads, windowSize, patchSize, imgSize, mlpRatio };
}

function inferResNet(s: Shapes, imgSize: number): ResNetBackboneConfig {
  const layers = [1, 2, 3, 4].map((i) => s.count(`res.layer${i}.`)) as ResNetBackboneConfig['layers'];
  if (layers.some((d) => d === 0))
    s.fail(`every ResNet stage needs at least one block, found [${layers.join(',')}]`);
  const baseWidth = s.get('res.layer1.0.conv1.weight', 4)[0];
  return { kind: 'resnet', layers, baseWidth, imgSize };
}

/** Infers the ModelConfig of a HyperNet state dict (PyTorch keys and layouts). */
export function inferConfig(sd: ShapeMap, opts: InferOptions = {}): ModelConfig {
  const s: Shapes = new Shapes(sd, opts.source ?? 'state dict');
  const isSwin = s.has('swin.backbone.patch_embed.proj.weight');
  const isResNet = s.has('res.conv1.weight');
  if (isSwin === isResNet) {
    s.fail(
      isSwin
        ? 'both Swin and ResNet keys'
        : "neither 'swin.backbone.patch_embed.proj.weight' nor 'res.conv1.weight' (not a HyperNet state dict)",
    );
  }
  const lda = isSwin ? 'swin.' : 'res.';
  const ldaOut = s.get(`${lda}lda1_fc.weight`, 2)[0];
  const targetInSize = 3 * ldaOut + s.get(`${lda}lda4_fc.weight`, 2)[0];
  const conv1Hidden: [number, number] = [s.get('conv1.0.weight', 4)[0], s.get('conv1.2.weight', 4)[0]];
  const hyperInChannels = s.get('conv1.4.weight', 4)[0];
  const targetFc = [1, 2, 3, 4].map(
    (i) => s.get(`fc${i}b_fc.weight`, 2)[0],
  ) as ModelConfig['head']['targetFc'];
  const fc1w = s.get('fc1w_conv.weight', 4)[0];
  const featureSize = integerSqrt((targetInSize * targetFc[0]) / fc1w);
  if (featureSize === null)
    s.fail(`fc1w_conv has ${fc1w} channels, not ${targetInSize} x ${targetFc[0]} / featureSize^2`);
  // The last stage map is featureSize wide: the input is 32 x featureSize (patch 4 then 3 mergings; ResNet stride 32).
  const backbone = isSwin ? inferSwin(s, 32 * featureSize) : inferResNet(s, 32 * featureSize);
  const stageChannels =
    backbone.kind === 'swin'
      ? [0, 1, 2, 3].map((i) => backbone.embedDim * 2 ** i)
      : [0, 1, 2, 3].map((i) => 4 * backbone.baseWidth * 2 ** i);

  const attention = [...sd.keys()].some((k) => k.includes('multiscale_attention'));
  const cin = s.get('conv1.0.weight', 4)[1];
  const sum = stageChannels.reduce((a, b) => a + b, 0);
  let fusion: ModelConfig['fusion'];
  if (attention) fusion = 'attention';
  else if (cin === sum) fusion = 'concat';
  else if (cin === stageChannels[3]) fusion = 'single';
  else
    s.fail(
      `conv1.0.weight takes ${cin} channels: neither the last stage (${stageChannels[3]}) nor all stages (${sum})`,
    );
  if (attention && cin !== sum)
    s.fail(`attention fusion needs conv1.0.weight to take ${sum} channels, it takes ${cin}`);
  const attentionHidden = attention ? s.get('multiscale_attention.attention_net.0.weight', 2)[0] : 256;

  const arch: Omit<ModelConfig, keyof Rates> = {
    arch: isSwin ? 'smart-iqa' : 'hyperiqa',
    backbone,
    fusion,
    head: { ldaOut, hyperInChannels, targetInSize, targetFc, featureSize, conv1Hidden, attentionHidden },
  };
  const rates = presetRates(arch) ?? { dropPathRate: 0, dropoutRate: 0, attentionDropout: 0.5 };
  return {
    ...arch,
    dropPathRate: opts.dropPathRate ?? rates.dropPathRate,
    dropoutRate: opts.dropoutRate ?? rates.dropoutRate,
    attentionDropout: opts.attentionDropout ?? rates.attentionDropout,
  };
}

type Rates = Pick<ModelConfig, 'dropPathRate' | 'dropoutRate' | 'attentionDropout'>;

/** The rates of the preset whose architecture (everything but the rates) is `arch`. */
function presetRates(arch: Omit<ModelConfig, keyof Rates>): Rates | null {
  const key = (c: Omit<ModelConfig, keyof Rates>): string =>
    JSON.stringify([c.arch, c.backbone, c.fusion, c.head]);
  for (const name of PRESET_NAMES) {
    const p = presetConfig(name);
    if (key(p) === key(arch)) return p;
  }
  return null;
}
