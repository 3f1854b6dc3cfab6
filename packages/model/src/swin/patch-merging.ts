/**
 * Swin's patch merging (timm `PatchMerging`), the 2× downsampling at the start of stages 1-3: each 2×2 neighbourhood
 * of tokens is concatenated on channels in the order (row 0, col 0), (row 1, col 0), (row 0, col 1), (row 1, col 1),
 * normalised with LayerNorm(4C) and reduced by Linear(4C→2C) without bias.
 *
 * Parameters, under `<prefix>` (timm: `layers_{s}.downsample`): `norm.weight` [4C], `norm.bias` [4C],
 * `reduction.weight` (torch [2C, 4C], stored transposed as [4C, 2C]).
 *
 * The LayerNorm affine is folded into the reduction (fold.ts): its β becomes the bias the reduction does not have.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../backbone.js';
import { runBlock } from '../block-memory.js';
import { DerivedCache } from '../derived.js';
import type { Initializer } from '../init.js';
import { permute } from '../ops/layout.js';
import { linear, matMul2d } from '../ops/linear.js';
import { normalize } from '../ops/nn.js';
import type { ParamStore } from '../params.js';
import { foldWeight } from './fold.js';

export interface PatchMergingOptions {
  /** Input channels C (the output has 2C). */
  inDim: number;
  /** Side of the output map (half the input's). */
  outSize: number;
}

export class PatchMerging {
  readonly inDim: number;
  readonly outDim: number;
  readonly outSize: number;
  private readonly normW: tf.Tensor1D;
  private readonly normB: tf.Tensor1D;
  private readonly reduction: tf.Tensor2D;
  private readonly derived = new DerivedCache();

  /** Registers the parameters under `prefix` (timm init: LayerNorm 1, 0; reduction N(0, 0.02²)). */
  constructor(store: ParamStore, prefix: string, init: Initializer, opts: PatchMergingOptions) {
    this.inDim = opts.inDim;
    this.outDim = 2 * opts.inDim;
    this.outSize = opts.outSize;
    const name = (n: string): string => `${prefix}.${n}`;
    const cat = 4 * opts.inDim;
    this.normW = store.add(name('norm.weight'), init.ones([cat])) as tf.Tensor1D;
    this.normB = store.add(name('norm.bias'), init.zeros([cat])) as tf.Tensor1D;
    this.reduction = store.add(
      name('reduction.weight'),
      init.normal(name('reduction.weight'), [cat, this.outDim], 0.02),
      { layout: 'linear' },
    ) as tf.Tensor2D;
  }

  /**
   * x: raster tokens [batch·2s·2s, C] of a 2s×2s map; returns [batch·s·s, 2C], with the memory policy of `ctx`
   * (block-memory.ts).
   */
  forward(x: tf.Tensor2D, batch: number, ctx: ForwardContext): tf.Tensor2D {
    const s = this.outSize;
    return runBlock(ctx, x, [this.normW, this.normB, this.reduction], (xi, [nw, nb, red]) => {
      const c = xi.shape[1] as number;
      // [B, s, 2 (row), s, 2 (col), C] → [B, s, s, col, row, C]: the channel order of the file comment.
      const g = permute(tf.reshape(xi, [batch, s, 2, s, 2, c]), [0, 1, 3, 4, 2, 5]);
      const flat = tf.reshape(g, [batch * s * s, 4 * c]) as tf.Tensor2D;
      const w = this.derived.get('w', [red, nw], () =>
        foldWeight(nw as tf.Tensor1D, red as tf.Tensor2D, 1),
      ) as tf.Tensor2D;
      const bias = this.derived.get('b', [red, nb], () =>
        // + 0: a fresh rank-1 buffer (wasm's fused matmul checks the rank its bias data was created with)
        tf.tidy(() =>
          tf.add(tf.reshape(matMul2d(tf.reshape(nb, [1, -1]) as tf.Tensor2D, red as tf.Tensor2D), [-1]), 0),
        ),
      ) as tf.Tensor1D;
      return linear(normalize(flat), w, bias);
    }) as tf.Tensor2D;
  }

  /** Frees the derived tensors (the parameters live in the ParamStore). */
  dispose(): void {
    this.derived.dispose();
  }
}
