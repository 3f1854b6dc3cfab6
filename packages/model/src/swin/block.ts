/**
 * One Swin Transformer block (timm `SwinTransformerBlock`) on raster tokens [B·H·W, C]:
 *   x = x + DropPath(reverse(WindowAttention(partition(roll(LN1(x), -shift))), +shift))
 *   x = x + DropPath(MLP(LN2(x))),  MLP = Linear(C→rC) → exact GELU → Linear(rC→C).
 * Odd blocks of a stage roll the map by half a window (the shift) so that windows straddle the previous block's
 * borders; the shift mask keeps attention within regions that were adjacent before the roll.
 *
 * Parameters, under `<prefix>` (timm: `layers_{s}.blocks.{j}`), in state-dict order: `norm1.weight`, `norm1.bias`,
 * the attention's (`attn.*`, window-attention.ts), `norm2.weight`, `norm2.bias`, `mlp.fc1.weight` (torch [rC, C],
 * stored transposed), `mlp.fc1.bias`, `mlp.fc2.weight` (torch [C, rC], stored transposed), `mlp.fc2.bias`.
 *
 * The LayerNorm affines, the q scale and GELU's 1/√2 are folded into the neighbouring weights (exact up to float
 * rounding): LN(x)·W + b = x̂·(γ⊙W) + (β·W + b), and with u the fc1 output scaled by 1/√2,
 * fc2(GELU) = (u + u·erf(u))·(W2/√2) + b2. The folded weights are cached for inference and derived in the graph (so
 * gradients reach γ, β, W) under a tape.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../backbone.js';
import { runBlock } from '../block-memory.js';
import { DerivedCache } from '../derived.js';
import type { Initializer } from '../init.js';
import { windowPartition, windowReverse } from '../ops/kernels.js';
import { linear } from '../ops/linear.js';
import { dropPath, geluGate, normalize } from '../ops/nn.js';
import type { ParamStore } from '../params.js';
import { foldBias, foldWeight } from './fold.js';
import {
  WindowAttention,
  type WindowAttentionOptions,
  type WindowAttentionParams,
} from './window-attention.js';

/** The block's parameter tensors (those a forward reads: under activation checkpointing, the checkpoint's inputs). */
export interface SwinBlockParams {
  norm1w: tf.Tensor1D;
  norm1b: tf.Tensor1D;
  attn: WindowAttentionParams;
  norm2w: tf.Tensor1D;
  norm2b: tf.Tensor1D;
  fc1W: tf.Tensor2D;
  fc1B: tf.Tensor1D;
  fc2W: tf.Tensor2D;
  fc2B: tf.Tensor1D;
}

export interface SwinBlockOptions extends Omit<WindowAttentionOptions, 'mask'> {
  /** Map side (square). */
  size: number;
  /** Roll of the map before partitioning (0: regular windows). */
  shift: number;
  /** Shift mask of the stage (used when shift > 0). */
  mask: tf.Tensor3D | null;
  /** MLP hidden width over C. */
  mlpRatio: number;
  /** Stochastic-depth rate of this block. */
  dropPath: number;
}

export class SwinBlock {
  readonly params: SwinBlockParams;
  readonly attn: WindowAttention;
  readonly shift: number;
  readonly dropPath: number;
  private readonly size: number;
  private readonly dim: number;
  private readonly window: number;
  private readonly derived = new DerivedCache();

  /** Registers the parameters under `prefix` (timm init: LayerNorm 1, 0; MLP weights N(0, 0.02²), biases 0). */
  constructor(store: ParamStore, prefix: string, init: Initializer, opts: SwinBlockOptions) {
    const { dim: c, size, shift, window } = opts;
    this.size = size;
    this.dim = c;
    this.window = window;
    this.shift = shift;
    this.dropPath = opts.dropPath;
    const name = (n: string): string => `${prefix}.${n}`;
    const hidden = Math.round(opts.mlpRatio * c);
    const linearWeight = (n: string, shape: [number, number]): tf.Tensor2D =>
      store.add(name(n), init.normal(name(n), shape, 0.02), { layout: 'linear' }) as tf.Tensor2D;
    const ones = (n: string, size: number): tf.Tensor1D =>
      store.add(name(n), init.ones([size])) as tf.Tensor1D;
    const zeros = (n: string, size: number): tf.Tensor1D =>
      store.add(name(n), init.zeros([size])) as tf.Tensor1D;
    const norm1w = ones('norm1.weight', c);
    const norm1b = zeros('norm1.bias', c);
    this.attn = new WindowAttention(store, name('attn'), init, {
      ...opts,
      mask: shift > 0 ? opts.mask : null,
    });
    this.params = {
      norm1w,
      norm1b,
      attn: this.attn.params,
      norm2w: ones('norm2.weight', c),
      norm2b: zeros('norm2.bias', c),
      fc1W: linearWeight('mlp.fc1.weight', [c, hidden]),
      fc1B: zeros('mlp.fc1.bias', hidden),
      fc2W: linearWeight('mlp.fc2.weight', [hidden, c]),
      fc2B: zeros('mlp.fc2.bias', c),
    };
  }

  /** Runs the block on x [batch·H·W, C] with the memory policy of `ctx` (block-memory.ts). */
  forward(x: tf.Tensor2D, batch: number, ctx: ForwardContext): tf.Tensor2D {
    const p = this.params;
    const list = [
      p.norm1w,
      p.norm1b,
      ...WindowAttention.list(p.attn),
      p.norm2w,
      p.norm2b,
      p.fc1W,
      p.fc1B,
      p.fc2W,
      p.fc2B,
    ];
    return runBlock(ctx, x, list, (xi, ps, c) =>
      this.run(xi as tf.Tensor2D, bind(ps), batch, c),
    ) as tf.Tensor2D;
  }

  private run(x: tf.Tensor2D, p: SwinBlockParams, batch: number, ctx: ForwardContext): tf.Tensor2D {
    const { size, dim: c, window: w, shift } = this;
    const windows = windowPartition(tf.reshape(normalize(x), [batch, size, size, c]), w, shift); // [B·nW·N, C]
    const attended = this.attn.forward(windows, p.attn, { weight: p.norm1w, bias: p.norm1b }, batch);
    const a = windowReverse(attended, batch, size, size, w, shift);
    const y = tf.add(
      x,
      dropPath(tf.reshape(a, [batch * size * size, c]), this.dropPath, batch, ctx),
    ) as tf.Tensor2D;
    return tf.add(y, dropPath(this.mlp(normalize(y), p), this.dropPath, batch, ctx));
  }

  /** fc2(GELU(fc1(LN2 affine(x̂)))) on normalised tokens x̂, with the folds of the file comment. */
  private mlp(x: tf.Tensor2D, p: SwinBlockParams): tf.Tensor2D {
    const cache = this.derived;
    const fc1W = cache.get('fc1w', [p.fc1W, p.norm2w], () =>
      foldWeight(p.norm2w, p.fc1W, Math.SQRT1_2),
    ) as tf.Tensor2D;
    const fc1B = cache.get('fc1b', [p.fc1W, p.fc1B, p.norm2b], () =>
      foldBias(p.norm2b, p.fc1W, p.fc1B, Math.SQRT1_2),
    ) as tf.Tensor1D;
    const fc2W = cache.get('fc2w', [p.fc2W], () => tf.mul(p.fc2W, Math.SQRT1_2)) as tf.Tensor2D;
    const u = linear(x, fc1W, fc1B); // GELU input / √2
    return linear(geluGate(u), fc2W, p.fc2B);
  }

  /** Frees the derived tensors (the parameters live in the ParamStore). */
  dispose(): void {
    this.attn.dispose();
    this.derived.dispose();
  }
}

/** The parameters from the list forward() hands to runBlock (same order). */
function bind(ts: readonly tf.Tensor[]): SwinBlockParams {
  const [norm1w, norm1b] = ts;
  const [norm2w, norm2b, fc1W, fc1B, fc2W, fc2B] = ts.slice(7);
  return {
    norm1w: norm1w as tf.Tensor1D,
    norm1b: norm1b as tf.Tensor1D,
    attn: WindowAttention.fromList(ts.slice(2, 7)),
    norm2w: norm2w as tf.Tensor1D,
    norm2b: norm2b as tf.Tensor1D,
    fc1W: fc1W as tf.Tensor2D,
    fc1B: fc1B as tf.Tensor1D,
    fc2W: fc2W as tf.Tensor2D,
    fc2B: fc2B as tf.Tensor1D,
  };
}
