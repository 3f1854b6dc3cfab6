/**
 * Swin Transformer backbone with timm's arithmetic, features only (timm `features_only=True`, the wrapper the
 * original uses): patch embedding, then four stages (patch merging at the start of stages 1-3, then blocks), and no
 * final norm: the four stage maps come out as they leave their stages. Any embed dim / depths / heads / window works.
 *
 * Activations stay token-major 2-D ([B·H·W, C], raster order) so that every linear layer is one 2-D product; a stage
 * map is a reshape away from NHWC.
 *
 * Parameters, under `<prefix>` (HyperIQA: `swin.backbone`), with the names of timm's features_only wrapper in
 * state-dict order: `patch_embed.*` (patch-embed.ts), then per stage `layers_{s}.downsample.*` (patch-merging.ts) and
 * `layers_{s}.blocks.{j}.*` (block.ts, window-attention.ts). timm-keys.ts maps timm's own checkpoints onto them.
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone, ForwardContext, StageFeatures } from '../backbone.js';
import type { SwinBackboneConfig } from '../config.js';
import { Initializer } from '../init.js';
import { type AttentionImpl, defaultAttentionImpl } from '../ops/attention.js';
import type { ParamStore } from '../params.js';
import { dropPathSchedule, swinStageGeometry, type SwinStageGeometry } from './geometry.js';
import { PatchEmbed } from './patch-embed.js';
import { SwinStage } from './stage.js';

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
  private readonly patchEmbed: PatchEmbed;
  private readonly stages: SwinStage[];

  constructor(
    store: ParamStore,
    readonly config: SwinBackboneConfig,
    prefix: string,
    opts: SwinBackboneOptions,
  ) {
    this.geometry = swinStageGeometry(config);
    const impl = opts.attentionImpl ?? defaultAttentionImpl();
    const chunkGroups = opts.attentionChunkGroups ?? 384;
    const init = new Initializer(opts.seed, opts.randomInit ?? true);
    const name = (n: string): string => `${prefix}.${n}`;
    const dims = this.geometry.map((g) => g.dim);
    this.stageChannels = [dims[0], dims[1], dims[2], dims[3]];
    this.patchEmbed = new PatchEmbed(store, name('patch_embed'), init, {
      patchSize: config.patchSize,
      dim: dims[0],
    });
    const schedule = dropPathSchedule(config.depths, opts.dropPathRate);
    let first = 0;
    this.stages = this.geometry.map((geometry, s) => {
      const dropPath = schedule.slice(first, first + geometry.depth);
      first += geometry.depth;
      return new SwinStage(store, name(`layers_${s}`), init, {
        geometry,
        downsample: s > 0,
        mlpRatio: config.mlpRatio,
        dropPath,
        impl,
        chunkGroups,
      });
    });
  }

  forward(x: tf.Tensor4D, ctx: ForwardContext): StageFeatures {
    const [b, h, w, ch] = x.shape;
    const { imgSize } = this.config;
    if (h !== imgSize || w !== imgSize || ch !== 3) {
      throw new Error(`SwinBackbone: expected input [B,${imgSize},${imgSize},3] (NHWC), got [${x.shape}]`);
    }
    const feats: tf.Tensor4D[] = [];
    let t = this.patchEmbed.forward(x);
    for (const stage of this.stages) {
      const { size, dim } = stage.geometry;
      t = stage.forward(t, b, ctx);
      feats.push(tf.reshape(t, [b, size, size, dim]));
    }
    if (ctx.blockMemory === 'tidy') t.dispose();
    return feats as StageFeatures;
  }

  dispose(): void {
    for (const s of this.stages) s.dispose();
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
