/**
 * Swin's patch embedding (timm `PatchEmbed`): the image cut into non-overlapping p×p patches, each projected to C
 * channels (a Conv2d(3→C, kernel p, stride p) with bias), then LayerNorm(C). One patch is one token.
 *
 * Parameters, under `<prefix>` (timm: `patch_embed`): `proj.weight` (torch [C,3,p,p], stored as the tfjs filter
 * [p,p,3,C]), `proj.bias` [C], `norm.weight` [C], `norm.bias` [C].
 */
import * as tf from '@tensorflow/tfjs';
import type { Initializer } from '../init.js';
import { permute } from '../ops/layout.js';
import { linear } from '../ops/linear.js';
import { layerNorm } from '../ops/nn.js';
import type { ParamStore } from '../params.js';

export interface PatchEmbedOptions {
  /** Patch side p (4 in every Swin preset). */
  patchSize: number;
  /** Output channels C. */
  dim: number;
}

export class PatchEmbed {
  readonly patchSize: number;
  readonly dim: number;
  private readonly projW: tf.Tensor4D;
  private readonly projB: tf.Tensor1D;
  private readonly normW: tf.Tensor1D;
  private readonly normB: tf.Tensor1D;

  /** Registers the parameters under `prefix` (PyTorch init: the conv's default U(±1/√fan_in); LayerNorm 1, 0). */
  constructor(store: ParamStore, prefix: string, init: Initializer, opts: PatchEmbedOptions) {
    const { patchSize: p, dim } = opts;
    this.patchSize = p;
    this.dim = dim;
    const name = (n: string): string => `${prefix}.${n}`;
    const fanIn = 3 * p * p;
    this.projW = store.add(
      name('proj.weight'),
      init.torchDefault(name('proj.weight'), [p, p, 3, dim], fanIn),
      {
        layout: 'conv',
      },
    ) as tf.Tensor4D;
    this.projB = store.add(
      name('proj.bias'),
      init.torchDefault(name('proj.bias'), [dim], fanIn),
    ) as tf.Tensor1D;
    this.normW = store.add(name('norm.weight'), init.ones([dim])) as tf.Tensor1D;
    this.normB = store.add(name('norm.bias'), init.zeros([dim])) as tf.Tensor1D;
  }

  /**
   * x: NHWC [B, H, W, 3] with H and W multiples of p. Returns the tokens [B·(H/p)·(W/p), C] in raster order. The
   * convolution is one 2-D product: [B, H/p, p, W/p, p, 3] → [B·(H/p)·(W/p), p·p·3] (kh, kw, channel order, the
   * filter's) times the filter viewed as [p·p·3, C].
   */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    const [b, h, w] = x.shape;
    const p = this.patchSize;
    const rows = h / p;
    const cols = w / p;
    return tf.tidy(() => {
      const patches = permute(tf.reshape(x, [b, rows, p, cols, p, 3]), [0, 1, 3, 2, 4, 5]);
      const w2 = tf.reshape(this.projW, [p * p * 3, this.dim]) as tf.Tensor2D;
      const emb = linear(tf.reshape(patches, [b * rows * cols, p * p * 3]) as tf.Tensor2D, w2, this.projB);
      return layerNorm(emb, this.normW, this.normB);
    });
  }
}
