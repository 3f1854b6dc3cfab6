/**
 * The ResNet-50 bottleneck block (torchvision v1.5 `Bottleneck`): 1×1 conv to the stage width → 3×3 conv carrying the
 * stride → 1×1 conv to 4·width, a BatchNorm after each and ReLU after the first two; the shortcut is the input, or a
 * 1×1 conv with the stride + BatchNorm (`downsample`) where the stride or the width changes; ReLU after the sum.
 *
 * Parameters, under `<prefix>` (torchvision: `layer{i}.{k}`), in state-dict order: `conv1.weight`, `bn1.*`,
 * `conv2.weight`, `bn2.*`, `conv3.weight`, `bn3.*`, then `downsample.0.weight` and `downsample.1.*` when present. Conv
 * weights are stored as tfjs filters [kh, kw, in, out]; `bn*` are `{weight,bias,running_mean,running_var,
 * num_batches_tracked}`.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../backbone.js';
import { runBlock } from '../block-memory.js';
import { DerivedCache } from '../derived.js';
import type { Initializer } from '../init.js';
import { type BatchNormParams, registerBatchNorm } from '../ops/batchnorm.js';
import type { ParamStore } from '../params.js';
import { type ConvBnStep, convBn, registerConvWeight } from './conv-bn.js';

/** Bottleneck expansion: a stage of width w outputs 4·w channels. */
export const RESNET_EXPANSION = 4;

export interface BottleneckOptions {
  inChannels: number;
  /** Width of the 1×1 and 3×3 convs; the block outputs RESNET_EXPANSION·width channels. */
  width: number;
  stride: number;
}

export class Bottleneck {
  readonly stride: number;
  private readonly conv1: tf.Tensor4D;
  private readonly bn1: BatchNormParams;
  private readonly conv2: tf.Tensor4D;
  private readonly bn2: BatchNormParams;
  private readonly conv3: tf.Tensor4D;
  private readonly bn3: BatchNormParams;
  private readonly downsample: { conv: tf.Tensor4D; bn: BatchNormParams } | null = null;
  /** Eval-mode conv weights with their BatchNorm folded in. */
  private readonly folded = new DerivedCache();

  /** Registers the parameters under `prefix` (convs N(0, 2/(k·k·out)), BatchNorm γ 1, β 0). */
  constructor(store: ParamStore, prefix: string, init: Initializer, opts: BottleneckOptions) {
    const { inChannels: cin, width, stride } = opts;
    const cout = width * RESNET_EXPANSION;
    const name = (n: string): string => `${prefix}.${n}`;
    this.stride = stride;
    this.conv1 = registerConvWeight(store, init, name('conv1.weight'), 1, cin, width);
    this.bn1 = registerBatchNorm(store, name('bn1'), width);
    this.conv2 = registerConvWeight(store, init, name('conv2.weight'), 3, width, width);
    this.bn2 = registerBatchNorm(store, name('bn2'), width);
    this.conv3 = registerConvWeight(store, init, name('conv3.weight'), 1, width, cout);
    this.bn3 = registerBatchNorm(store, name('bn3'), cout);
    if (stride !== 1 || cin !== cout) {
      this.downsample = {
        conv: registerConvWeight(store, init, name('downsample.0.weight'), 1, cin, cout),
        bn: registerBatchNorm(store, name('downsample.1'), cout),
      };
    }
  }

  /**
   * x: NHWC [B, H, W, inChannels]; returns [B, H/stride, W/stride, 4·width], with the memory policy of `ctx`
   * (block-memory.ts). Training mode updates the BatchNorm running statistics on the first evaluation only: a
   * checkpointed block is evaluated again in the backward pass, with the same batch statistics.
   */
  forward(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const params: tf.Tensor[] = [
      this.conv1,
      this.bn1.weight,
      this.bn1.bias,
      this.conv2,
      this.bn2.weight,
      this.bn2.bias,
      this.conv3,
      this.bn3.weight,
      this.bn3.bias,
    ];
    const ds = this.downsample;
    if (ds) params.push(ds.conv, ds.bn.weight, ds.bn.bias);
    let evaluations = 0;
    return runBlock(ctx, x, params, (xi, ps, c) => {
      evaluations += 1;
      const updateStats = evaluations === 1 && (ctx.updateStats ?? true);
      const [w1, g1, b1, w2, g2, b2, w3, g3, b3, wd, gd, bd] = ps;
      // BN reads its statistics from the store variables but must differentiate through the γ/β passed in `ps`.
      const bnWith = (p: BatchNormParams, g: tf.Tensor, beta: tf.Tensor): BatchNormParams => ({
        ...p,
        weight: g,
        bias: beta,
      });
      const step = (stride: number, pad: number, relu: boolean): ConvBnStep => ({
        stride,
        pad,
        relu,
        training: c.training,
        updateStats,
      });
      const x4 = xi as tf.Tensor4D;
      const f = this.folded;
      let out = convBn(f, '1', x4, w1, bnWith(this.bn1, g1, b1), step(1, 0, true));
      out = convBn(f, '2', out, w2, bnWith(this.bn2, g2, b2), step(this.stride, 1, true));
      out = convBn(f, '3', out, w3, bnWith(this.bn3, g3, b3), step(1, 0, false));
      let identity = x4;
      if (ds) identity = convBn(f, 'ds', x4, wd, bnWith(ds.bn, gd, bd), step(this.stride, 0, false));
      return tf.relu(tf.add(out, identity));
    }) as tf.Tensor4D;
  }

  /** Frees the folded weights (the parameters live in the ParamStore). */
  dispose(): void {
    this.folded.dispose();
  }
}
