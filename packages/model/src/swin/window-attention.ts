/**
 * Swin's window attention (timm `WindowAttention`): multi-head self-attention inside each window of N = w·w tokens,
 * softmax(q·kᵀ·d^-½ + relative-position bias [+ shift mask])·v, then the output projection. q, k and v come from one
 * Linear(C→3C); the bias of a token pair is a learned per-head entry of a [(2w-1)², heads] table, indexed by the pair's
 * offset (dy + w-1)·(2w-1) + (dx + w-1) inside the window.
 *
 * Parameters, under `<prefix>` (timm: `layers_{s}.blocks.{j}.attn`): `relative_position_bias_table` [(2w-1)², heads],
 * `qkv.weight` (torch [3C, C], stored [C, 3C]), `qkv.bias` [3C], `proj.weight` (torch [C, C], stored transposed),
 * `proj.bias` [C]. timm's `relative_position_index` buffer is not stored: the bias is the table times a constant one-hot
 * matrix built from the window size (ops/attention.ts).
 *
 * The block's LayerNorm affine and the q scale d^-½ are folded into the q, k, v weights (see fold.ts), so the unit
 * takes the normalised tokens and the LayerNorm's γ, β. The folded weights and the bias are derived tensors: cached for
 * inference, computed in the graph under a gradient tape.
 */
import * as tf from '@tensorflow/tfjs';
import { DerivedCache, recordingGradients } from '../derived.js';
import type { Initializer } from '../init.js';
import {
  type AttentionImpl,
  attentionBias,
  resolveAttentionImpl,
  windowAttention,
} from '../ops/attention.js';
import { sliceRows } from '../ops/kernels.js';
import { linear, matMul2d } from '../ops/linear.js';
import type { ParamStore } from '../params.js';
import { foldBias, foldWeight } from './fold.js';

/** The unit's parameter tensors (those a forward reads: under activation checkpointing, the checkpoint's inputs). */
export interface WindowAttentionParams {
  table: tf.Tensor2D;
  qkvW: tf.Tensor2D;
  qkvB: tf.Tensor1D;
  projW: tf.Tensor2D;
  projB: tf.Tensor1D;
}

/** A LayerNorm's affine part: γ and β. */
export interface NormAffine {
  weight: tf.Tensor1D;
  bias: tf.Tensor1D;
}

export interface WindowAttentionOptions {
  dim: number;
  heads: number;
  /** Window side w. */
  window: number;
  /** Shift mask [windows per image, N, N] of a shifted block (0 within a region, -100 across), or null. */
  mask: tf.Tensor3D | null;
  /** Transposed one-hot of the relative-position index, [(2w-1)², N·N] (shared by the blocks of a stage). */
  onehotT: tf.Tensor2D;
  /** Formulation of the per-(window, head) products. */
  impl: AttentionImpl;
  /** Inference with `dw`: (window, head) groups per attention chunk (whole images per chunk, at least one). */
  chunkGroups: number;
}

export class WindowAttention {
  readonly params: WindowAttentionParams;
  private readonly opts: WindowAttentionOptions;
  private readonly derived = new DerivedCache();

  /** Registers the parameters under `prefix` (timm init: table and weights N(0, 0.02²), biases 0). */
  constructor(store: ParamStore, prefix: string, init: Initializer, opts: WindowAttentionOptions) {
    this.opts = opts;
    const { dim: c, heads, window: w } = opts;
    const name = (n: string): string => `${prefix}.${n}`;
    const linearWeight = (n: string, shape: [number, number]): tf.Tensor2D =>
      store.add(name(n), init.normal(name(n), shape, 0.02), { layout: 'linear' }) as tf.Tensor2D;
    const zeros = (n: string, size: number): tf.Tensor1D =>
      store.add(name(n), init.zeros([size])) as tf.Tensor1D;
    const table = 'relative_position_bias_table';
    this.params = {
      table: store.add(name(table), init.normal(name(table), [(2 * w - 1) ** 2, heads], 0.02)) as tf.Tensor2D,
      qkvW: linearWeight('qkv.weight', [c, 3 * c]),
      qkvB: zeros('qkv.bias', 3 * c),
      projW: linearWeight('proj.weight', [c, c]),
      projB: zeros('proj.bias', c),
    };
  }

  /** The parameters in registration order, and back (for activation checkpointing's list of inputs). */
  static list(p: WindowAttentionParams): tf.Tensor[] {
    return [p.table, p.qkvW, p.qkvB, p.projW, p.projB];
  }

  static fromList(ts: readonly tf.Tensor[]): WindowAttentionParams {
    const [table, qkvW, qkvB, projW, projB] = ts;
    return {
      table: table as tf.Tensor2D,
      qkvW: qkvW as tf.Tensor2D,
      qkvB: qkvB as tf.Tensor1D,
      projW: projW as tf.Tensor2D,
      projB: projB as tf.Tensor1D,
    };
  }

  /**
   * x: LayerNorm-normalised tokens (without the affine part, which is `norm`) in window order, [batch·nW·N, C]
   * (windows row-major per image, tokens row-major per window). Returns the projected attention output in the same
   * order. Inference with `dw` runs the attention in whole-image chunks of at most `chunkGroups` (window, head)
   * groups: the depthwise products and layout moves run 2x faster when their operands stay in cache.
   */
  forward(x: tf.Tensor2D, p: WindowAttentionParams, norm: NormAffine, batch: number): tf.Tensor2D {
    const { dim: c, heads, window: w, mask, onehotT } = this.opts;
    const cache = this.derived;
    const scale = 1 / Math.sqrt(c / heads);
    // q, k, v as separate [C, C] products with the LayerNorm affine folded in (q also scaled by head_dim^-0.5).
    const qkv = [0, 1, 2].map((i) => {
      const f = i === 0 ? scale : 1;
      const wi = cache.get(`w${i}`, [p.qkvW, norm.weight], () =>
        foldWeight(norm.weight, tf.slice(p.qkvW, [0, i * c], [c, c]), f),
      ) as tf.Tensor2D;
      const bi = cache.get(`b${i}`, [p.qkvW, p.qkvB, norm.bias], () =>
        foldBias(norm.bias, tf.slice(p.qkvW, [0, i * c], [c, c]), tf.slice(p.qkvB, [i * c], [c]), f),
      ) as tf.Tensor1D;
      return { w: wi, b: bi };
    });
    const n = w * w;
    const impl = resolveAttentionImpl(this.opts.impl, c / heads, n);
    const layout = impl === 'dw' ? 'dw' : 'bmm';
    const bias = cache.get(`bias.${layout}`, [p.table], () =>
      attentionBias(matMul2d(tf.transpose(p.table), onehotT), mask, impl),
    ) as tf.Tensor4D;
    const windows = x.shape[0] / (batch * n);
    const perImage = windows * heads;
    const imagesPerChunk =
      recordingGradients() || impl !== 'dw'
        ? batch
        : Math.max(1, Math.floor(this.opts.chunkGroups / perImage));
    const parts: tf.Tensor2D[] = [];
    for (let i0 = 0; i0 < batch; i0 += imagesPerChunk) {
      const bc = Math.min(imagesPerChunk, batch - i0);
      const rows = bc === batch ? x : sliceRows(x, i0 * windows * n, bc * windows * n);
      const [q, k, v] = qkv.map((l) => linear(rows, l.w, l.b));
      parts.push(windowAttention({ q, k, v, bias, batch: bc, windows, heads, impl }));
    }
    const att = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
    return linear(att, p.projW, p.projB);
  }

  /** Frees the derived tensors (the parameters live in the ParamStore; the mask and one-hot belong to the stage). */
  dispose(): void {
    this.derived.dispose();
  }
}
