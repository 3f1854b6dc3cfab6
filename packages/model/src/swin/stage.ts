/**
 * One Swin stage (timm `SwinTransformerStage`): an optional patch merging (stages 1-3), then `depth` blocks at one
 * resolution, the odd ones with shifted windows.
 *
 * Parameters, under `<prefix>` (timm features_only: `layers_{s}`): the merging's as `downsample.*`, listed before the
 * blocks', then the blocks' as `blocks.{j}.*`.
 *
 * The stage owns the constants its blocks share (timm keeps them as non-persistent buffers of every block): the shift
 * mask [windows per image, N, N] and the one-hot matrix that turns a relative-position table into the bias.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../backbone.js';
import type { Initializer } from '../init.js';
import { relativePositionOneHotT, shiftWindowMask, type AttentionImpl } from '../ops/attention.js';
import type { ParamStore } from '../params.js';
import { SwinBlock } from './block.js';
import type { SwinStageGeometry } from './geometry.js';
import { PatchMerging } from './patch-merging.js';

export interface SwinStageOptions {
  geometry: SwinStageGeometry;
  /** Merge 2×2 tokens first (stages 1-3): the input map is twice as large with half the channels. */
  downsample: boolean;
  /** MLP hidden width over C. */
  mlpRatio: number;
  /** Stochastic-depth rate of each block, in order. */
  dropPath: readonly number[];
  impl: AttentionImpl;
  /** Inference with `dw`: (window, head) groups per attention chunk. */
  chunkGroups: number;
}

export class SwinStage {
  readonly geometry: SwinStageGeometry;
  readonly downsample: PatchMerging | null;
  readonly blocks: SwinBlock[];
  /** Shift mask (null when no block of the stage shifts). */
  private readonly mask: tf.Tensor3D | null;
  private readonly onehotT: tf.Tensor2D;

  /** Registers the parameters under `prefix`, in state-dict order. */
  constructor(store: ParamStore, prefix: string, init: Initializer, opts: SwinStageOptions) {
    const geo = opts.geometry;
    this.geometry = geo;
    if (opts.dropPath.length !== geo.depth)
      throw new Error(`SwinStage: ${opts.dropPath.length} drop-path rates for ${geo.depth} blocks`);
    const name = (n: string): string => `${prefix}.${n}`;
    this.downsample = opts.downsample
      ? new PatchMerging(store, name('downsample'), init, { inDim: geo.dim / 2, outSize: geo.size })
      : null;
    const n = geo.window * geo.window;
    const windows = (geo.size / geo.window) ** 2;
    this.mask =
      geo.shift > 0 && geo.depth > 1
        ? tf.tensor3d(shiftWindowMask(geo.size, geo.size, geo.window, geo.shift), [windows, n, n])
        : null;
    this.onehotT = relativePositionOneHotT(geo.window);
    this.blocks = [];
    for (let j = 0; j < geo.depth; j++) {
      this.blocks.push(
        new SwinBlock(store, name(`blocks.${j}`), init, {
          dim: geo.dim,
          heads: geo.heads,
          window: geo.window,
          size: geo.size,
          shift: j % 2 === 1 ? geo.shift : 0,
          mask: this.mask,
          onehotT: this.onehotT,
          mlpRatio: opts.mlpRatio,
          dropPath: opts.dropPath[j],
          impl: opts.impl,
          chunkGroups: opts.chunkGroups,
        }),
      );
    }
  }

  /**
   * x: raster tokens [batch·H·W, C] of the previous stage (or the patch embedding); returns this stage's tokens
   * [batch·size·size, dim]. With `blockMemory: 'tidy'` every intermediate, x included, is disposed as soon as the next
   * unit has run.
   */
  forward(x: tf.Tensor2D, batch: number, ctx: ForwardContext): tf.Tensor2D {
    let t = x;
    const units = [...(this.downsample ? [this.downsample] : []), ...this.blocks];
    for (const unit of units) {
      const prev = t;
      t = unit.forward(prev, batch, ctx);
      if (ctx.blockMemory === 'tidy') prev.dispose();
    }
    return t;
  }

  /** Frees the stage's constants and its units' derived tensors (the parameters live in the ParamStore). */
  dispose(): void {
    this.downsample?.dispose();
    for (const b of this.blocks) b.dispose();
    this.mask?.dispose();
    this.onehotT.dispose();
  }
}
