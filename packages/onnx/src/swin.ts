/**
 * The Swin Transformer backbone as an ONNX graph (timm arithmetic, features only: patch embedding and four stages).
 *
 * Layout: the residual stream of a stage is [1, B·L, C] with each image's tokens in the order of the current block's
 * windows (see windows.ts), so window partition, cyclic shift and window merge collapse into one Gather between blocks
 * and one per patch merging. Every linear layer is a MatMul and a bias Add. The leading 1 keeps onnxruntime from
 * fusing the two into a Gemm, whose CPU kernel first broadcasts the bias into the output and then accumulates into
 * it: with outputs of tens of MB at batch 8 that was the slower of the two (fastest rounds 57.3 vs 55.3 ms per crop
 * for SMART-IQA-tiny at batch 8, 57.7 vs 56.5 at batch 1). Attention runs as two batched MatMuls over
 * [B, windows, heads, N, ·] with the relative-position bias, plus the shift mask, as one constant initializer per
 * block.
 */
import type { SwinBackboneConfig } from '@iqa-bench/model';
import { swinStageGeometry } from '@iqa-bench/model/swin';
import type { GraphBuilder } from './graph.js';
import type { ParamReader } from './params.js';
import { transposed } from './tensor.js';
import {
  mergeIndices,
  rasterOrder,
  relativePositionIndex,
  reorderIndices,
  shiftMask,
  windowOrder,
} from './windows.js';

/** A stage map as the residual stream holds it: [B, side², channels] in token order `order`. */
export interface TokenMap {
  value: string;
  order: Int32Array;
  side: number;
  channels: number;
}

/** LayerNorm eps of timm's Swin (torch's default). */
const LN_EPS = 1e-5;

export function layerNorm(g: GraphBuilder, p: ParamReader, x: string, name: string, c: number): string {
  const w = g.float(`${name}.weight`, p.get(`${name}.weight`, [c]), [c]);
  const b = g.float(`${name}.bias`, p.get(`${name}.bias`, [c]), [c]);
  return g.op1('LayerNormalization', [x, w, b], { axis: -1, epsilon: { float: LN_EPS } }, name);
}

/** Exact GELU: the Gelu operator from opset 20 on, else x·0.5·(1 + erf(x/√2)), which onnxruntime fuses into one op. */
export function gelu(g: GraphBuilder, x: string, name: string): string {
  if (g.opset >= 20) return g.op1('Gelu', [x], {}, name);
  const d = g.op1('Div', [x, g.scalar(Math.SQRT2, 'sqrt2')], {}, `${name}/div`);
  const e = g.op1('Erf', [d], {}, `${name}/erf`);
  const a = g.op1('Add', [e, g.scalar(1, 'one')], {}, `${name}/add`);
  const m = g.op1('Mul', [x, a], {}, `${name}/mul`);
  return g.op1('Mul', [m, g.scalar(0.5, 'half')], {}, name);
}

/** torch Linear `name` ([out, in] weight, optional bias) on the last axis of x. */
function torchLinear(
  g: GraphBuilder,
  p: ParamReader,
  x: string,
  name: string,
  inF: number,
  outF: number,
  bias = true,
): string {
  const w = g.float(`${name}.weight`, transposed(p.get(`${name}.weight`, [outF, inF]), outF, inF), [
    inF,
    outF,
  ]);
  const b = bias ? g.float(`${name}.bias`, p.get(`${name}.bias`, [outF]), [outF]) : null;
  return g.linear(x, w, b, name);
}

/** The block's attention bias [heads, N, N] (+ the shift mask: [windows, heads, N, N]) from its bias table. */
function attentionBias(
  table: Float32Array,
  heads: number,
  window: number,
  mask: Float32Array | null,
): Float32Array {
  const n = window * window;
  const idx = relativePositionIndex(window);
  const bias = new Float32Array(heads * n * n);
  for (let h = 0; h < heads; h++)
    for (let ij = 0; ij < n * n; ij++) bias[h * n * n + ij] = table[idx[ij] * heads + h];
  if (!mask) return bias;
  const windows = mask.length / (n * n);
  const out = new Float32Array(windows * heads * n * n);
  for (let w = 0; w < windows; w++)
    for (let h = 0; h < heads; h++)
      for (let ij = 0; ij < n * n; ij++)
        out[(w * heads + h) * n * n + ij] = bias[h * n * n + ij] + mask[w * n * n + ij];
  return out;
}

export function swinGraph(
  g: GraphBuilder,
  p: ParamReader,
  cfg: SwinBackboneConfig,
  prefix: string,
  image: string,
): TokenMap[] {
  const geo = swinStageGeometry(cfg);
  const P = (n: string): string => `${prefix}.${n}`;
  const ps = cfg.patchSize;
  const c0 = geo[0].dim;
  const side0 = geo[0].size;

  // Patch embedding: Conv(k = s = patch) → [B, C, side, side] → tokens [B·L, C] in raster order → LayerNorm; the first
  // block's Gather puts them in its windows. The NCHW → NHWC Transpose moves one axis, which onnxruntime does fast (a
  // 6-D Transpose straight into window order took 1.1 ms per crop, a Gather 0.04 ms). The stream is [1, B·L, C]: see
  // the file's comment for why not 2-D.
  const pw = g.float(P('patch_embed.proj.weight'), p.get(P('patch_embed.proj.weight'), [c0, 3, ps, ps]), [
    c0,
    3,
    ps,
    ps,
  ]);
  const pb = g.float(P('patch_embed.proj.bias'), p.get(P('patch_embed.proj.bias'), [c0]), [c0]);
  let x = g.op1('Conv', [image, pw, pb], { kernel_shape: [ps, ps], strides: [ps, ps] }, 'patch_embed/conv');
  x = g.reshape(g.transpose(x, [0, 2, 3, 1], 'patch_embed/tokens'), [1, -1, c0], 'patch_embed/flat');
  x = layerNorm(g, p, x, P('patch_embed.norm'), c0);
  let order = rasterOrder(side0 * side0);
  /** Gathers stream positions `idx` (shape `dims`) of every image: [B·L, C] → [B, ...dims, C]. */
  const gatherTokens = (
    t: string,
    L: number,
    ch: number,
    idx: Int32Array,
    dims: number[],
    name: string,
  ): string => g.gather(g.reshape(t, [-1, L, ch], `${name}/images`), idx, dims, 1, name);

  const maps: TokenMap[] = [];
  geo.forEach((s, si) => {
    const { dim: c, heads, size: side, window: ws } = s;
    const L = side * side;
    const n = ws * ws;
    const nW = L / n;
    const hd = c / heads;
    const lp = (name: string): string => P(`layers_${si}.${name}`);
    if (si > 0) {
      // Patch merging: gather the 2×2 neighbours of every merged token (already in the first block's window order).
      const prev = maps[si - 1];
      const next = windowOrder(side, ws, 0);
      const idx = mergeIndices(prev.side, prev.order, next);
      const cin = 4 * prev.channels;
      let m = gatherTokens(x, prev.side ** 2, prev.channels, idx, [L, 4], lp('downsample/gather'));
      m = g.reshape(m, [1, -1, cin], lp('downsample/concat'));
      m = layerNorm(g, p, m, lp('downsample.norm'), cin);
      x = torchLinear(g, p, m, lp('downsample.reduction'), cin, c, false);
      order = next;
    }
    const hid = Math.round(cfg.mlpRatio * c);
    const tableRows = (2 * ws - 1) ** 2;
    const scale = 1 / Math.sqrt(hd);
    for (let j = 0; j < s.depth; j++) {
      const bp = (name: string): string => lp(`blocks.${j}.${name}`);
      const shift = j % 2 === 1 ? s.shift : 0;
      const want = windowOrder(side, ws, shift);
      const idx = reorderIndices(order, want);
      if (idx) x = g.reshape(gatherTokens(x, L, c, idx, [L], bp('windows')), [1, -1, c], bp('windows/flat'));
      order = want;

      // Attention. q, k and v as three products (q scaled by head_dim^-0.5, as timm scales q before q·kᵀ), each
      // transposed straight into its layout: q, v [B, windows, heads, N, head_dim], kᵀ [B, windows, heads, head_dim, N].
      const ln1 = layerNorm(g, p, x, bp('norm1'), c);
      const wAll = transposed(p.get(bp('attn.qkv.weight'), [3 * c, c]), 3 * c, c); // [C, 3C]
      const bAll = p.get(bp('attn.qkv.bias'), [3 * c]);
      const [q, k, v] = ['q', 'k', 'v'].map((part, i) => {
        const f = i === 0 ? scale : 1;
        const w = new Float32Array(c * c);
        for (let r = 0; r < c; r++)
          for (let col = 0; col < c; col++) w[r * c + col] = wAll[r * 3 * c + i * c + col] * f;
        const b = Float32Array.from(bAll.subarray(i * c, (i + 1) * c), (v) => v * f);
        const y = g.linear(
          ln1,
          g.float(bp(`attn.${part}.weight`), w, [c, c]),
          g.float(bp(`attn.${part}.bias`), b, [c]),
          bp(`attn.${part}`),
        );
        const heads5 = g.reshape(y, [-1, nW, n, heads, hd], bp(`attn/${part}_heads`));
        return g.transpose(heads5, part === 'k' ? [0, 1, 3, 4, 2] : [0, 1, 3, 2, 4], bp(`attn/${part}_t`));
      });
      let a = g.op1('MatMul', [q, k], {}, bp('attn/qk'));
      const mask = shift > 0 ? shiftMask(side, ws, shift) : null;
      const table = p.get(bp('attn.relative_position_bias_table'), [tableRows, heads]);
      const bias = attentionBias(table, heads, ws, mask);
      const biasDims = mask ? [nW, heads, n, n] : [heads, n, n];
      a = g.op1('Add', [a, g.float(bp('attn.bias'), bias, biasDims)], {}, bp('attn/bias'));
      a = g.op1('Softmax', [a], { axis: -1 }, bp('attn/softmax'));
      let o = g.op1('MatMul', [a, v], {}, bp('attn/av'));
      o = g.reshape(g.transpose(o, [0, 1, 3, 2, 4], bp('attn/merge_heads')), [1, -1, c], bp('attn/tokens'));
      o = torchLinear(g, p, o, bp('attn.proj'), c, c);
      x = g.op1('Add', [x, o], {}, bp('residual1'));

      // MLP
      const ln2 = layerNorm(g, p, x, bp('norm2'), c);
      let h = torchLinear(g, p, ln2, bp('mlp.fc1'), c, hid);
      h = gelu(g, h, bp('mlp/gelu'));
      h = torchLinear(g, p, h, bp('mlp.fc2'), hid, c);
      x = g.op1('Add', [x, h], {}, bp('residual2'));
    }
    maps.push({ value: g.reshape(x, [-1, L, c], lp('tokens')), order, side, channels: c });
  });
  return maps;
}
