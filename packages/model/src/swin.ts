/**
 * Swin Transformer backbone with timm's arithmetic, features only (seed-spec §1.2): patch embedding, four stages of
 * (PatchMerging at the start of stages 1-3, then blocks), no final norm. Any embed dim / depths / heads works.
 *
 * Activations stay token-major 2-D ([B·H·W, C], raster order) so that every linear layer is one 2-D product; a stage
 * map is a reshape away from NHWC. Parameters are registered under `<prefix>.…` with timm `features_only` names
 * (`patch_embed.proj.weight`, `layers_0.blocks.0.attn.qkv.weight`, …) in state-dict order.
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone, ForwardContext, StageFeatures } from './backbone.js';
import { runBlock } from './block-memory.js';
import type { SwinBackboneConfig } from './config.js';
import { Initializer } from './init.js';
import { DerivedCache, recordingGradients } from './derived.js';
import {
  type AttentionImpl,
  attentionBias,
  defaultAttentionImpl,
  resolveAttentionImpl,
  relativePositionOneHotT,
  shiftWindowMask,
  windowAttention,
} from './ops/attention.js';
import { sliceRows, windowPartition, windowReverse } from './ops/kernels.js';
import { permute } from './ops/layout.js';
import { linear, matMul2d } from './ops/linear.js';
import { dropPath, geluGate, layerNorm, normalize } from './ops/nn.js';
import type { ParamStore } from './params.js';

/** Geometry of one stage (timm: the window is clamped to the map and the shift is 0 when the map fits one window). */
export interface SwinStageGeometry {
  dim: number;
  heads: number;
  depth: number;
  /** Map side (square). */
  size: number;
  window: number;
  /** Shift of the odd blocks (0 when size <= window). */
  shift: number;
}

export function swinStageGeometry(cfg: SwinBackboneConfig): SwinStageGeometry[] {
  validateSwinConfig(cfg);
  const base = cfg.imgSize / cfg.patchSize;
  return cfg.depths.map((depth, i) => {
    const size = base / 2 ** i;
    const window = Math.min(cfg.windowSize, size);
    const shift = size <= cfg.windowSize ? 0 : Math.floor(cfg.windowSize / 2);
    return { dim: cfg.embedDim * 2 ** i, heads: cfg.numHeads[i], depth, size, window, shift };
  });
}

export function validateSwinConfig(cfg: SwinBackboneConfig): void {
  const fail = (msg: string): never => {
    throw new Error(`Swin config: ${msg}`);
  };
  if (cfg.imgSize % cfg.patchSize !== 0)
    fail(`imgSize ${cfg.imgSize} is not a multiple of patchSize ${cfg.patchSize}`);
  const base = cfg.imgSize / cfg.patchSize;
  if (base % 8 !== 0) fail(`imgSize/patchSize = ${base} must be divisible by 8 (three 2x patch mergings)`);
  if (cfg.depths.length !== 4 || cfg.numHeads.length !== 4) fail('depths and numHeads need 4 entries');
  for (let i = 0; i < 4; i++) {
    const dim = cfg.embedDim * 2 ** i;
    const size = base / 2 ** i;
    if (!(cfg.depths[i] >= 1)) fail(`depths[${i}] must be >= 1`);
    if (dim % cfg.numHeads[i] !== 0)
      fail(`stage ${i}: dim ${dim} is not divisible by ${cfg.numHeads[i]} heads`);
    const win = Math.min(cfg.windowSize, size);
    if (size % win !== 0) fail(`stage ${i}: map ${size}x${size} is not a multiple of window ${win}`);
  }
}

/** γ ⊙ W (rows scaled by the LayerNorm weight), times f. */
function foldWeight(gamma: tf.Tensor1D, w: tf.Tensor2D, f: number): tf.Tensor2D {
  return tf.tidy(() => {
    const g = tf.reshape(gamma, [-1, 1]);
    return tf.mul(w, f === 1 ? g : tf.mul(g, f)) as tf.Tensor2D;
  });
}

/** (β·W + b) times f: the LayerNorm bias pushed through the linear layer. */
function foldBias(beta: tf.Tensor1D, w: tf.Tensor2D, b: tf.Tensor1D, f: number): tf.Tensor1D {
  return tf.tidy(() => {
    const y = tf.add(tf.reshape(matMul2d(tf.reshape(beta, [1, -1]) as tf.Tensor2D, w), [-1]), b);
    return (f === 1 ? y : tf.mul(y, f)) as tf.Tensor1D;
  });
}

/** Drop-path rate of every block: linspace(0, rate, total blocks), in order (timm). */
export function dropPathSchedule(depths: readonly number[], rate: number): number[] {
  const total = depths.reduce((a, b) => a + b, 0);
  return Array.from({ length: total }, (_, i) => (total === 1 ? 0 : (rate * i) / (total - 1)));
}

interface BlockParams {
  norm1w: tf.Tensor1D;
  norm1b: tf.Tensor1D;
  table: tf.Tensor2D;
  qkvW: tf.Tensor2D;
  qkvB: tf.Tensor1D;
  projW: tf.Tensor2D;
  projB: tf.Tensor1D;
  norm2w: tf.Tensor1D;
  norm2b: tf.Tensor1D;
  fc1W: tf.Tensor2D;
  fc1B: tf.Tensor1D;
  fc2W: tf.Tensor2D;
  fc2B: tf.Tensor1D;
}
const BLOCK_KEYS: (keyof BlockParams)[] = [
  'norm1w',
  'norm1b',
  'table',
  'qkvW',
  'qkvB',
  'projW',
  'projB',
  'norm2w',
  'norm2b',
  'fc1W',
  'fc1B',
  'fc2W',
  'fc2B',
];

interface Block {
  /** `s.j`: key of the block's derived tensors. */
  key: string;
  params: BlockParams;
  shift: number;
  dropPath: number;
}

interface Stage {
  geo: SwinStageGeometry;
  merge: { normW: tf.Tensor1D; normB: tf.Tensor1D; reduction: tf.Tensor2D } | null;
  blocks: Block[];
  /** [nW, N, N] shift mask (null when the stage never shifts). */
  mask: tf.Tensor3D | null;
  /** Transposed one-hot [(2w-1)², N·N] for the relative-position bias. */
  onehotT: tf.Tensor2D;
}

export interface SwinBackboneOptions {
  /** Stochastic-depth rate of the last block. */
  dropPathRate: number;
  /** Initialisation seed (timm's init; pretrained weights normally overwrite it). */
  seed: number;
  /** false: zero-filled parameters (weights are loaded next). Default true. */
  randomInit?: boolean;
  /** Attention formulation; default: the fastest for the active backend. */
  attentionImpl?: AttentionImpl;
  /** Inference: (window, head) groups per attention chunk (default 384; whole images per chunk, at least one). */
  attentionChunkGroups?: number;
}

export class SwinBackbone implements Backbone {
  readonly stageChannels: [number, number, number, number];
  readonly geometry: SwinStageGeometry[];
  private readonly patch: { w: tf.Tensor4D; b: tf.Tensor1D; normW: tf.Tensor1D; normB: tf.Tensor1D };
  private readonly stages: Stage[];
  private readonly impl: AttentionImpl;
  private readonly derived = new DerivedCache();
  private readonly chunkGroups: number;

  constructor(
    store: ParamStore,
    readonly config: SwinBackboneConfig,
    prefix: string,
    opts: SwinBackboneOptions,
  ) {
    this.geometry = swinStageGeometry(config);
    this.impl = opts.attentionImpl ?? defaultAttentionImpl();
    this.chunkGroups = opts.attentionChunkGroups ?? 384;
    const init = new Initializer(opts.seed, opts.randomInit ?? true);
    const p = (name: string): string => `${prefix}.${name}`;
    const dims = this.geometry.map((g) => g.dim);
    this.stageChannels = [dims[0], dims[1], dims[2], dims[3]];
    const ps = config.patchSize;
    const c0 = dims[0];
    const fanPatch = 3 * ps * ps;
    // patch_embed.proj: Conv2d(3→C0, k=ps, s=ps); stored [kh,kw,in,out] = [ps,ps,3,C0] and used as [ps·ps·3, C0].
    const pw = store.add(
      p('patch_embed.proj.weight'),
      init.torchDefault(p('patch_embed.proj.weight'), [ps, ps, 3, c0], fanPatch),
      {
        layout: 'conv',
      },
    );
    const pb = store.add(
      p('patch_embed.proj.bias'),
      init.torchDefault(p('patch_embed.proj.bias'), [c0], fanPatch),
    );
    this.patch = {
      w: pw as tf.Tensor4D,
      b: pb as tf.Tensor1D,
      normW: store.add(p('patch_embed.norm.weight'), init.ones([c0])) as tf.Tensor1D,
      normB: store.add(p('patch_embed.norm.bias'), init.zeros([c0])) as tf.Tensor1D,
    };
    const schedule = dropPathSchedule(config.depths, opts.dropPathRate);
    let blockIndex = 0;
    this.stages = this.geometry.map((geo, s) => {
      const lp = (name: string): string => p(`layers_${s}.${name}`);
      let merge: Stage['merge'] = null;
      if (s > 0) {
        const cin = 4 * dims[s - 1];
        merge = {
          normW: store.add(lp('downsample.norm.weight'), init.ones([cin])) as tf.Tensor1D,
          normB: store.add(lp('downsample.norm.bias'), init.zeros([cin])) as tf.Tensor1D,
          reduction: store.add(
            lp('downsample.reduction.weight'),
            init.normal(lp('downsample.reduction.weight'), [cin, geo.dim], 0.02),
            {
              layout: 'linear',
            },
          ) as tf.Tensor2D,
        };
      }
      const blocks: Block[] = [];
      for (let j = 0; j < geo.depth; j++) {
        const bp = (name: string): string => lp(`blocks.${j}.${name}`);
        const c = geo.dim;
        const hid = Math.round(config.mlpRatio * c);
        const tableSize = (2 * geo.window - 1) ** 2;
        const lin = (name: string, shape: [number, number]): tf.Tensor2D =>
          store.add(bp(name), init.normal(bp(name), shape, 0.02), { layout: 'linear' }) as tf.Tensor2D;
        const zeros = (name: string, n: number): tf.Tensor1D =>
          store.add(bp(name), init.zeros([n])) as tf.Tensor1D;
        const params: BlockParams = {
          norm1w: store.add(bp('norm1.weight'), init.ones([c])) as tf.Tensor1D,
          norm1b: zeros('norm1.bias', c),
          table: store.add(
            bp('attn.relative_position_bias_table'),
            init.normal(bp('attn.relative_position_bias_table'), [tableSize, geo.heads], 0.02),
          ) as tf.Tensor2D,
          qkvW: lin('attn.qkv.weight', [c, 3 * c]),
          qkvB: zeros('attn.qkv.bias', 3 * c),
          projW: lin('attn.proj.weight', [c, c]),
          projB: zeros('attn.proj.bias', c),
          norm2w: store.add(bp('norm2.weight'), init.ones([c])) as tf.Tensor1D,
          norm2b: zeros('norm2.bias', c),
          fc1W: lin('mlp.fc1.weight', [c, hid]),
          fc1B: zeros('mlp.fc1.bias', hid),
          fc2W: lin('mlp.fc2.weight', [hid, c]),
          fc2B: zeros('mlp.fc2.bias', c),
        };
        blocks.push({
          key: `${s}.${j}`,
          params,
          shift: j % 2 === 1 ? geo.shift : 0,
          dropPath: schedule[blockIndex++],
        });
      }
      const n = geo.window * geo.window;
      const nW = (geo.size / geo.window) ** 2;
      const mask =
        geo.shift > 0 && geo.depth > 1
          ? tf.tensor3d(shiftWindowMask(geo.size, geo.size, geo.window, geo.shift), [nW, n, n])
          : null;
      return { geo, merge, blocks, mask, onehotT: relativePositionOneHotT(geo.window) };
    });
  }

  forward(x: tf.Tensor4D, ctx: ForwardContext): StageFeatures {
    const [b, h, w, ch] = x.shape;
    const { imgSize, patchSize: ps } = this.config;
    if (h !== imgSize || w !== imgSize || ch !== 3) {
      throw new Error(`SwinBackbone: expected input [B,${imgSize},${imgSize},3] (NHWC), got [${x.shape}]`);
    }
    const feats: tf.Tensor4D[] = [];
    // Patch embedding as one product: [B, H/ps, ps, W/ps, ps, 3] → [B·H/ps·W/ps, ps·ps·3] (kh, kw, c order).
    const side = imgSize / ps;
    let t: tf.Tensor2D = tf.tidy(() => {
      const patches = permute(tf.reshape(x, [b, side, ps, side, ps, 3]), [0, 1, 3, 2, 4, 5]);
      const w2 = tf.reshape(this.patch.w, [ps * ps * 3, this.stageChannels[0]]) as tf.Tensor2D;
      const emb = linear(
        tf.reshape(patches, [b * side * side, ps * ps * 3]) as tf.Tensor2D,
        w2,
        this.patch.b,
      );
      return layerNorm(emb, this.patch.normW, this.patch.normB);
    });
    for (const stage of this.stages) {
      const { geo } = stage;
      if (stage.merge) {
        const m = stage.merge;
        const prev = t;
        const key = `${geo.dim}.merge`;
        t = runBlock(ctx, prev, [m.normW, m.normB, m.reduction], (xi, [nw, nb, red]) => {
          const s2 = geo.size;
          const c = xi.shape[1] as number;
          // [B, H/2, 2(dr), W/2, 2(dc), C] → [B, H/2, W/2, dc, dr, C]: channel order x0,x1,x2,x3 = (r0c0),(r1c0),(r0c1),(r1c1).
          const g = permute(tf.reshape(xi, [b, s2, 2, s2, 2, c]), [0, 1, 3, 4, 2, 5]);
          const flat = tf.reshape(g, [b * s2 * s2, 4 * c]) as tf.Tensor2D;
          // LN's affine folded into the reduction (no bias in torch; β·W becomes one)
          const w = this.derived.get(`${key}.w`, [red, nw], () =>
            foldWeight(nw as tf.Tensor1D, red as tf.Tensor2D, 1),
          ) as tf.Tensor2D;
          const bias = this.derived.get(`${key}.b`, [red, nb], () =>
            // + 0: a fresh rank-1 buffer (wasm's fused matmul checks the rank its bias data was created with)
            tf.tidy(() =>
              tf.add(
                tf.reshape(matMul2d(tf.reshape(nb, [1, -1]) as tf.Tensor2D, red as tf.Tensor2D), [-1]),
                0,
              ),
            ),
          ) as tf.Tensor1D;
          return linear(normalize(flat), w, bias);
        }) as tf.Tensor2D;
        if (ctx.blockMemory === 'tidy') prev.dispose();
      }
      for (const block of stage.blocks) {
        const prev = t;
        t = runBlock(
          ctx,
          prev,
          BLOCK_KEYS.map((k) => block.params[k]),
          (xi, ps2, c2) => {
            const bp = Object.fromEntries(BLOCK_KEYS.map((k, i) => [k, ps2[i]])) as unknown as BlockParams;
            return this.block(xi as tf.Tensor2D, bp, stage, block, b, c2);
          },
        ) as tf.Tensor2D;
        if (ctx.blockMemory === 'tidy') prev.dispose();
      }
      feats.push(tf.reshape(t, [b, geo.size, geo.size, geo.dim]));
    }
    if (ctx.blockMemory === 'tidy') t.dispose();
    return feats as StageFeatures;
  }

  /**
   * One Swin block on raster tokens x [B·H·W, C]. The LayerNorm affines, the q scale and GELU's 1/√2 are folded into
   * the neighbouring weights (exact up to float rounding): LN(x)·W + b = x̂·(γ⊙W) + (β·W + b), and with u the fc1 output
   * scaled by 1/√2, fc2(GELU) = (u + u·erf(u))·(W2/√2) + b2. The folded weights are cached for inference and derived
   * in the graph (so gradients reach γ, β, W) under a tape.
   */
  private block(
    x: tf.Tensor2D,
    p: BlockParams,
    stage: Stage,
    block: Block,
    b: number,
    ctx: ForwardContext,
  ): tf.Tensor2D {
    const { size, dim: c, window: ws, heads } = stage.geo;
    const shift = block.shift;
    const nW = (size / ws) ** 2;
    const cache = this.derived;
    const key = block.key;
    const scale = 1 / Math.sqrt(c / heads);
    // q, k, v as separate [C, C] products with LN1's affine folded in (q also scaled by head_dim^-0.5).
    const qkv = [0, 1, 2].map((i) => {
      const f = i === 0 ? scale : 1;
      const w = cache.get(`${key}.w${i}`, [p.qkvW, p.norm1w], () =>
        foldWeight(p.norm1w, tf.slice(p.qkvW, [0, i * c], [c, c]), f),
      ) as tf.Tensor2D;
      const bb = cache.get(`${key}.b${i}`, [p.qkvW, p.qkvB, p.norm1b], () =>
        foldBias(p.norm1b, tf.slice(p.qkvW, [0, i * c], [c, c]), tf.slice(p.qkvB, [i * c], [c]), f),
      ) as tf.Tensor1D;
      return { w, b: bb };
    });
    const n = ws * ws;
    const impl = resolveAttentionImpl(this.impl, c / heads, n);
    const layout = impl === 'dw' ? 'dw' : 'bmm';
    const bias = cache.get(`${key}.bias.${layout}`, [p.table], () =>
      attentionBias(matMul2d(tf.transpose(p.table), stage.onehotT), shift ? stage.mask : null, impl),
    ) as tf.Tensor4D;
    const fc1W = cache.get(`${key}.fc1w`, [p.fc1W, p.norm2w], () =>
      foldWeight(p.norm2w, p.fc1W, Math.SQRT1_2),
    ) as tf.Tensor2D;
    const fc1B = cache.get(`${key}.fc1b`, [p.fc1W, p.fc1B, p.norm2b], () =>
      foldBias(p.norm2b, p.fc1W, p.fc1B, Math.SQRT1_2),
    ) as tf.Tensor1D;
    const fc2W = cache.get(`${key}.fc2w`, [p.fc2W], () => tf.mul(p.fc2W, Math.SQRT1_2)) as tf.Tensor2D;

    const hw = windowPartition(tf.reshape(normalize(x), [b, size, size, c]), ws, shift); // [B·nW·N, C]
    // Inference with `dw` splits the attention into whole-image chunks of at most `chunkGroups` (window, head) groups:
    // the depthwise products and layout moves run 2x faster when their operands stay in cache.
    const perImage = nW * heads;
    const imagesPerChunk =
      recordingGradients() || impl !== 'dw' ? b : Math.max(1, Math.floor(this.chunkGroups / perImage));
    const parts: tf.Tensor2D[] = [];
    for (let i0 = 0; i0 < b; i0 += imagesPerChunk) {
      const bc = Math.min(imagesPerChunk, b - i0);
      const rows = bc === b ? hw : sliceRows(hw, i0 * nW * n, bc * nW * n);
      const [q, k, v] = qkv.map((l) => linear(rows, l.w, l.b));
      parts.push(windowAttention({ q, k, v, bias, batch: bc, windows: nW, heads, impl }));
    }
    const att = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
    const a = windowReverse(linear(att, p.projW, p.projB), b, size, size, ws, shift);
    let y = tf.add(x, dropPath(tf.reshape(a, [b * size * size, c]), block.dropPath, b, ctx)) as tf.Tensor2D;
    const u = linear(normalize(y), fc1W, fc1B); // GELU input / √2
    const m = linear(geluGate(u), fc2W, p.fc2B);
    y = tf.add(y, dropPath(m, block.dropPath, b, ctx));
    return y;
  }

  dispose(): void {
    for (const s of this.stages) {
      s.mask?.dispose();
      s.onehotT.dispose();
    }
    this.derived.dispose();
  }
}

/** Registers a Swin backbone's parameters in `store` under `prefix` and returns it. */
export function createSwinBackbone(
  store: ParamStore,
  cfg: SwinBackboneConfig,
  prefix: string,
  opts: SwinBackboneOptions,
): SwinBackbone {
  return new SwinBackbone(store, cfg, prefix, opts);
}
