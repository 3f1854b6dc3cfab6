/**
 * What building and running a model costs, computed from its ModelConfig alone (nothing is allocated), so that a
 * config read from a file can be refused before a model is built from it.
 *
 * - params: exact size of the model's ParamStore (parameters and buffers, what a checkpoint stores).
 * - bufferBytes: other tensors the model keeps: Swin's relative-position one-hot matrices and shifted-window masks
 *   (built with the model), and the inference caches filled by the first forward, counted as one more copy of the
 *   weights (folded LayerNorm / BatchNorm weights, q/k/v slices) plus each Swin block's bias in attention layout.
 * - activationBytes: an estimate (upper-leaning) of the float32 activations alive at once during a batch-1 eval
 *   forward at the configured input size: the input, the four stage maps the head reads, and the largest layer's
 *   input, intermediates and output (a Swin block's q/k/v, attention scores before and after softmax and MLP hidden
 *   layer; a bottleneck's three convs and its shortcut) or the head's maps and generated TargetNet weights. On
 *   tfjs's cpu backend the measured peak of smart-iqa-micro, smart-iqa-tiny and hyperiqa-resnet50 is 0.75-0.97
 *   times this estimate.
 */
import type { ModelConfig, ResNetBackboneConfig, SwinBackboneConfig } from './config.js';
import { RESNET_EXPANSION } from './resnet/bottleneck.js';
import { resnetParamCount, resnetStageSizes } from './resnet/backbone.js';
import { swinStageGeometry } from './swin/geometry.js';

export interface ModelCost {
  /** Elements of the model's ParamStore (trainable parameters and buffers). */
  params: number;
  /** Bytes of the ParamStore (every entry is 4 bytes per element). */
  paramBytes: number;
  /** Other tensors the model keeps (see the module comment). */
  bufferBytes: number;
  /** Estimated peak of the activations of a batch-1 eval forward. */
  activationBytes: number;
  /** paramBytes + bufferBytes + activationBytes. */
  totalBytes: number;
}

/**
 * Bounds on a model built from a file (weights, TF.js model.json, stored config). Raise them (e.g. the `limits` option
 * of loadCheckpoint / loadTfjsModel) only for files you trust.
 */
export interface ModelCostLimits {
  /** Most ParamStore elements (default 1e9; smart-iqa-base, the largest preset, has 8.8e7). */
  maxParams: number;
  /** Most estimated bytes, ModelCost.totalBytes (default 4 GiB; smart-iqa-base at 224 x 224 needs 0.74 GiB). */
  maxModelBytes: number;
}

export const DEFAULT_MODEL_COST_LIMITS: Readonly<ModelCostLimits> = Object.freeze({
  maxParams: 1e9,
  maxModelBytes: 4 * 2 ** 30,
});

const F32 = 4;

/** The four stage channel counts the head receives. */
function stageChannels(config: ModelConfig): number[] {
  const b = config.backbone;
  return [0, 1, 2, 3].map((i) =>
    b.kind === 'swin' ? b.embedDim * 2 ** i : RESNET_EXPANSION * b.baseWidth * 2 ** i,
  );
}

interface Part {
  params: number;
  /** Elements of kept non-parameter tensors (not counting the cache copy of the weights). */
  buffers: number;
  /** Elements kept across the forward (stage maps). */
  kept: number;
  /** Largest transient set of elements of one layer. */
  peak: number;
}

function swinCost(cfg: SwinBackboneConfig): Part {
  const geo = swinStageGeometry(cfg);
  const c0 = cfg.embedDim;
  const p0 = cfg.imgSize / cfg.patchSize;
  let params = cfg.patchSize * cfg.patchSize * 3 * c0 + c0 + 2 * c0;
  let buffers = 0;
  let kept = 0;
  // Patch embedding: the conv output and its LayerNorm.
  let peak = 2 * p0 * p0 * c0;
  geo.forEach((g, s) => {
    const tokens = g.size * g.size;
    const n = g.window * g.window;
    const hid = Math.round(cfg.mlpRatio * g.dim);
    if (s > 0) {
      const cin = 4 * geo[s - 1].dim;
      params += 2 * cin + cin * g.dim;
      peak = Math.max(peak, tokens * (2 * cin + g.dim));
    }
    const table = (2 * g.window - 1) ** 2;
    const block = 4 * g.dim + table * g.heads + 4 * g.dim * g.dim + 4 * g.dim + 2 * g.dim * hid + hid + g.dim;
    params += g.depth * block;
    // Relative-position one-hot [(2w-1)^2, w^4] per stage, the shifted-window mask [nW, n, n] when the odd blocks
    // shift, and each block's cached bias in attention layout: [heads, n, n], with the mask [nW, heads, n, n].
    const nW = tokens / n;
    const shifted = g.shift > 0 ? Math.floor(g.depth / 2) : 0;
    buffers += table * n * n;
    if (shifted > 0) buffers += nW * n * n;
    buffers += (g.depth - shifted + shifted * nW) * g.heads * n * n;
    // A block runs in one tidy scope, so its intermediates live until it ends: the input and LayerNorms, q/k/v and
    // their window-partitioned copies, the attention output and projection, residual sums (~14 maps of its width),
    // scores [heads, tokens, n] with bias, softmax and a transpose (~4), the MLP hidden layer and GELU's parts (~4).
    peak = Math.max(peak, tokens * (14 * g.dim + 4 * g.heads * n + 4 * hid));
    kept += tokens * g.dim;
  });
  return { params, buffers, kept, peak };
}

function resnetCost(cfg: ResNetBackboneConfig): Part {
  const { trainable, buffers: bn } = resnetParamCount(cfg);
  const sizes = resnetStageSizes(cfg.imgSize);
  const base = cfg.baseWidth;
  const stemSide = Math.ceil(cfg.imgSize / 2);
  // Stem: the 7x7 conv output and the max-pooled map.
  let peak = stemSide * stemSide * base + sizes[0] * sizes[0] * base;
  let kept = 0;
  let cin = base;
  let side = sizes[0];
  cfg.layers.forEach((blocks, i) => {
    const width = base * 2 ** i;
    const cout = RESNET_EXPANSION * width;
    const out = sizes[i] * sizes[i];
    for (let k = 0; k < blocks; k++) {
      const inTokens = side * side;
      // conv1 at the input resolution, conv2 (strided) and conv3 at the output, the shortcut and the sum.
      peak = Math.max(peak, inTokens * (cin + width) + out * (width + 3 * cout));
      cin = cout;
      side = sizes[i];
    }
    kept += out * cout;
  });
  return { params: trainable + bn, buffers: 0, kept, peak };
}

function headCost(config: ModelConfig): Part {
  const h = config.head;
  const [c0, c1, c2, c3] = stageChannels(config);
  const fs = h.featureSize;
  let params = 0;
  let peak = 0;
  const linear = (inF: number, outF: number): number => inF * outF + outF;
  // LDA 1-3: 1x1 conv (no bias) on the stage map, pooled to (2^(3-i))^2 cells, then a linear layer.
  [c0, c1, c2].forEach((cin, i) => {
    const convOut = h.ldaOut * 2 ** i;
    const pooled = 2 ** (3 - i);
    params += cin * convOut + linear(convOut * pooled * pooled, h.ldaOut);
    const side = fs * pooled;
    peak += side * side * convOut;
  });
  const lda4Out = h.targetInSize - 3 * h.ldaOut;
  if (lda4Out <= 0)
    throw new Error(`head.targetInSize ${h.targetInSize} must exceed 3 * head.ldaOut = ${3 * h.ldaOut}`);
  params += linear(c3, lda4Out);
  const cin = config.fusion === 'single' ? c3 : c0 + c1 + c2 + c3;
  if (config.fusion === 'attention') params += linear(c3, h.attentionHidden) + linear(h.attentionHidden, 4);
  const widths = [cin, h.conv1Hidden[0], h.conv1Hidden[1], h.hyperInChannels];
  for (let i = 0; i < 3; i++) params += linear(widths[i], widths[i + 1]);
  peak += fs * fs * widths.reduce((a, b) => a + b, 0);
  const sizes = [h.targetInSize, ...h.targetFc];
  const hin = h.hyperInChannels;
  for (let l = 0; l < 4; l++) {
    const convOut = (sizes[l] * sizes[l + 1]) / (fs * fs);
    if (!Number.isInteger(convOut))
      throw new Error(
        `head: TargetNet layer ${l + 1} (${sizes[l]} -> ${sizes[l + 1]}) has ${sizes[l] * sizes[l + 1]} weights, ` +
          `not a multiple of head.featureSize^2 = ${fs * fs}`,
      );
    params += 9 * hin * convOut + convOut + linear(hin, sizes[l + 1]);
    // The generated TargetNet weights and biases.
    peak += sizes[l] * sizes[l + 1] + sizes[l + 1];
  }
  params += linear(hin, sizes[4]) + linear(hin, 1);
  return { params, buffers: 0, kept: 0, peak };
}

/**
 * The cost of `config` (see the module comment). The config must be valid (validateModelConfig); configs the
 * builders would refuse throw here too.
 */
export function estimateModelCost(config: ModelConfig): ModelCost {
  const bb = config.backbone.kind === 'swin' ? swinCost(config.backbone) : resnetCost(config.backbone);
  const head = headCost(config);
  const params = bb.params + head.params;
  const paramBytes = F32 * params;
  const bufferBytes = F32 * (bb.buffers + params);
  const input = config.backbone.imgSize ** 2 * 3;
  const activationBytes = F32 * (input + bb.kept + Math.max(bb.peak, head.peak));
  return {
    params,
    paramBytes,
    bufferBytes,
    activationBytes,
    totalBytes: paramBytes + bufferBytes + activationBytes,
  };
}

function gib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Why `cost` is over `limits`, or null when it is within them. The text names the limit and the option that raises it.
 */
export function costOverLimit(
  cost: ModelCost,
  limits: Partial<ModelCostLimits> = {},
): { limit: keyof ModelCostLimits; message: string } | null {
  const lim = { ...DEFAULT_MODEL_COST_LIMITS, ...limits };
  if (cost.params > lim.maxParams) {
    return {
      limit: 'maxParams',
      message:
        `the model would have ${cost.params.toExponential(3)} parameters, over the limit maxParams = ` +
        `${lim.maxParams.toExponential(3)}; if the file is trusted, raise the limit (option limits.maxParams)`,
    };
  }
  if (cost.totalBytes > lim.maxModelBytes) {
    return {
      limit: 'maxModelBytes',
      message:
        `the model would need about ${gib(cost.totalBytes)} (weights ${gib(cost.paramBytes)}, kept buffers ` +
        `${gib(cost.bufferBytes)}, batch-1 activations ${gib(cost.activationBytes)}), over the limit maxModelBytes = ` +
        `${gib(lim.maxModelBytes)}; if the file is trusted, raise the limit (option limits.maxModelBytes)`,
    };
  }
  return null;
}
