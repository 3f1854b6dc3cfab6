/**
 * The HyperIQA ResNet backbone (seed-spec §1.8): torchvision v1.5 layout, NHWC.
 *
 * conv1 7×7/2 (no bias) → BN → ReLU → MaxPool 3/2 pad 1 → layer1..4 of Bottleneck blocks
 * (1×1 → 3×3 carrying the stride → 1×1 to 4·width, BN after each; downsample = 1×1 conv with the stride + BN on the
 * first block of a stage when the stride or width changes), no avgpool, no fc. Returns the four stage maps.
 *
 * Parameters are registered under `<prefix>.` (HyperIQA: `res.`) with torchvision's names in state-dict order:
 * `conv1.weight`, `bn1.{weight,bias,running_mean,running_var,num_batches_tracked}`,
 * `layer{i}.{k}.{conv1,bn1,conv2,bn2,conv3,bn3}.*`, `layer{i}.0.downsample.{0.weight,1.*}`. Conv weights use the
 * `conv` layout ([kh,kw,in,out]); `num_batches_tracked` (int64 in torch) is an int32 scalar buffer.
 *
 * Training mode (`ctx.training`) normalises with batch statistics and updates the BN running statistics once per
 * forward, also under activation checkpointing (the recomputation in the backward pass does not count again), and
 * not at all with `ctx.updateStats` false.
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone, ForwardContext, StageFeatures } from './backbone.js';
import { runBlock } from './block-memory.js';
import { DerivedCache, recordingGradients } from './derived.js';
import type { ResNetBackboneConfig } from './config.js';
import { Initializer } from './init.js';
import { type BatchNormParams, batchNorm, registerBatchNorm } from './ops/batchnorm.js';
import { conv2d, convOutSize } from './ops/conv.js';
import { maxPool2d } from './ops/pooling.js';
import type { ParamStore } from './params.js';

/** BatchNorm eps (torch default). */
const BN_EPS = 1e-5;

/** Bottleneck expansion: a stage of width w outputs 4·w channels. */
export const RESNET_EXPANSION = 4;

export interface ResNetBackboneOptions {
  /** Initialisation seed (§1.9 init; pretrained weights normally overwrite it). */
  seed: number;
  /** false: zero-filled parameters (weights are loaded next; skips drawing 23.5M random values). Default true. */
  randomInit?: boolean;
  /**
   * Compute the gradient with respect to the input image (default false: nothing upstream of the stem is trainable,
   * so the stem's input gradient, the costliest backward conv, is skipped and reported as zeros).
   */
  inputGradient?: boolean;
}

interface Bottleneck {
  conv1: tf.Tensor4D;
  bn1: BatchNormParams;
  conv2: tf.Tensor4D;
  bn2: BatchNormParams;
  conv3: tf.Tensor4D;
  bn3: BatchNormParams;
  stride: number;
  downsample: { conv: tf.Tensor4D; bn: BatchNormParams } | null;
  /** `layer{i}.{k}`: key of the block's cached folded weights. */
  key: string;
}

export function validateResNetConfig(cfg: ResNetBackboneConfig): void {
  const fail = (msg: string): never => {
    throw new Error(`ResNet config: ${msg}`);
  };
  if (cfg.kind !== 'resnet') fail(`kind must be 'resnet', got '${String(cfg.kind)}'`);
  if (!Array.isArray(cfg.layers) || cfg.layers.length !== 4)
    fail('layers needs 4 entries (blocks per stage)');
  cfg.layers.forEach((n, i) => {
    if (!Number.isInteger(n) || n < 1) fail(`layers[${i}] must be a positive integer, got ${n}`);
  });
  if (!Number.isInteger(cfg.baseWidth) || cfg.baseWidth < 1)
    fail(`baseWidth must be a positive integer, got ${cfg.baseWidth}`);
  if (!Number.isInteger(cfg.imgSize) || cfg.imgSize < 32)
    fail(`imgSize must be an integer >= 32, got ${cfg.imgSize}`);
}

/** Spatial sides of the four stage maps for a square input (224 → 56, 28, 14, 7). */
export function resnetStageSizes(imgSize: number): [number, number, number, number] {
  const stem = convOutSize(convOutSize(imgSize, 7, 2, 3), 3, 2, 1);
  const s2 = convOutSize(stem, 3, 2, 1);
  const s3 = convOutSize(s2, 3, 2, 1);
  return [stem, s2, s3, convOutSize(s3, 3, 2, 1)];
}

export class ResNetBackbone implements Backbone {
  readonly stageChannels: [number, number, number, number];
  private readonly stem: { conv: tf.Tensor4D; bn: BatchNormParams };
  private readonly stages: Bottleneck[][];
  private readonly inputGradient: boolean;
  /** Eval-mode conv weights with their BatchNorm folded in (see convBn). */
  private readonly folded = new DerivedCache();

  constructor(
    store: ParamStore,
    readonly config: ResNetBackboneConfig,
    prefix: string,
    opts: ResNetBackboneOptions,
  ) {
    validateResNetConfig(config);
    const init = new Initializer(opts.seed, opts.randomInit ?? true);
    this.inputGradient = opts.inputGradient ?? false;
    const p = (name: string): string => (prefix ? `${prefix}.${name}` : name);
    // §1.9: every conv N(0, √(2 / (k·k·out_channels))); BN weight 1, bias 0 (registerBatchNorm).
    const convW = (name: string, k: number, cin: number, cout: number): tf.Tensor4D =>
      store.add(p(name), init.normal(p(name), [k, k, cin, cout], Math.sqrt(2 / (k * k * cout))), {
        layout: 'conv',
      }) as tf.Tensor4D;
    const base = config.baseWidth;
    this.stem = { conv: convW('conv1.weight', 7, 3, base), bn: registerBatchNorm(store, p('bn1'), base) };
    let cin = base;
    this.stages = config.layers.map((blocks, i) => {
      const width = base * 2 ** i;
      const cout = width * RESNET_EXPANSION;
      const stage: Bottleneck[] = [];
      for (let k = 0; k < blocks; k++) {
        const stride = k === 0 && i > 0 ? 2 : 1;
        const n = `layer${i + 1}.${k}`;
        const block: Bottleneck = {
          conv1: convW(`${n}.conv1.weight`, 1, cin, width),
          bn1: registerBatchNorm(store, p(`${n}.bn1`), width),
          conv2: convW(`${n}.conv2.weight`, 3, width, width),
          bn2: registerBatchNorm(store, p(`${n}.bn2`), width),
          conv3: convW(`${n}.conv3.weight`, 1, width, cout),
          bn3: registerBatchNorm(store, p(`${n}.bn3`), cout),
          stride,
          downsample: null,
          key: n,
        };
        if (stride !== 1 || cin !== cout) {
          block.downsample = {
            conv: convW(`${n}.downsample.0.weight`, 1, cin, cout),
            bn: registerBatchNorm(store, p(`${n}.downsample.1`), cout),
          };
        }
        stage.push(block);
        cin = cout;
      }
      return stage;
    });
    const ch = [0, 1, 2, 3].map((i) => base * 2 ** i * RESNET_EXPANSION);
    this.stageChannels = [ch[0], ch[1], ch[2], ch[3]];
  }

  forward(x: tf.Tensor4D, ctx: ForwardContext): StageFeatures {
    const [, h, w, c] = x.shape;
    const size = this.config.imgSize;
    if (x.rank !== 4 || h !== size || w !== size || c !== 3) {
      throw new Error(
        `ResNetBackbone: expected input [B,${size},${size},3] (NHWC), got [${x.shape.join(',')}]`,
      );
    }
    const { conv, bn } = this.stem;
    let t = tf.tidy(() => {
      const y = this.convBn(
        'stem',
        x,
        conv,
        bn,
        2,
        3,
        true,
        ctx.training,
        ctx.updateStats ?? true,
        this.inputGradient,
      );
      return maxPool2d(y, 3, 2, 1);
    });
    const feats: tf.Tensor4D[] = [];
    for (const stage of this.stages) {
      for (const block of stage) {
        const prev = t;
        t = this.runBottleneck(block, prev, ctx);
        // Inference with per-block tidy: a block output that is not a stage map is dead once the next block ran.
        // (Under a tape or with checkpointing the backward pass still needs it; the caller's tidy frees it.)
        if (ctx.blockMemory === 'tidy' && !feats.includes(prev)) prev.dispose();
      }
      feats.push(t);
    }
    return [feats[0], feats[1], feats[2], feats[3]];
  }

  private runBottleneck(b: Bottleneck, x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const params: tf.Tensor[] = [
      b.conv1,
      b.bn1.weight,
      b.bn1.bias,
      b.conv2,
      b.bn2.weight,
      b.bn2.bias,
      b.conv3,
    ];
    params.push(b.bn3.weight, b.bn3.bias);
    if (b.downsample) params.push(b.downsample.conv, b.downsample.bn.weight, b.downsample.bn.bias);
    // The running statistics are updated on the first evaluation of this block only: a checkpointed block is evaluated
    // again in the backward pass, with the same batch statistics.
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
      const key = (name: string): string => `${b.key}.${name}`;
      const x4 = xi as tf.Tensor4D;
      let out = this.convBn(key('1'), x4, w1, bnWith(b.bn1, g1, b1), 1, 0, true, c.training, updateStats);
      out = this.convBn(key('2'), out, w2, bnWith(b.bn2, g2, b2), b.stride, 1, true, c.training, updateStats);
      out = this.convBn(key('3'), out, w3, bnWith(b.bn3, g3, b3), 1, 0, false, c.training, updateStats);
      let identity = x4;
      if (b.downsample) {
        const bnD = bnWith(b.downsample.bn, gd, bd);
        identity = this.convBn(key('ds'), x4, wd, bnD, b.stride, 0, false, c.training, updateStats);
      }
      return tf.relu(tf.add(out, identity));
    }) as tf.Tensor4D;
  }

  /**
   * conv (no bias) → BatchNorm → optional ReLU. Pure inference (eval mode, no gradient being recorded) folds the
   * BatchNorm into the convolution — w·γ/√(var+ε) and β − mean·γ/√(var+ε), cached until a weight or statistic
   * changes — and runs one fused XNNPACK convolution with bias and ReLU; otherwise the separate differentiable ops.
   */
  private convBn(
    key: string,
    x: tf.Tensor4D,
    w: tf.Tensor,
    bn: BatchNormParams,
    stride: number,
    pad: number,
    relu: boolean,
    training: boolean,
    updateStats: boolean,
    inputGrad = true,
  ): tf.Tensor4D {
    if (training || recordingGradients()) {
      const y = batchNorm(conv2d(x, w as tf.Tensor4D, null, stride, pad, { inputGrad }), bn, training, {
        updateStats,
      });
      return relu ? tf.relu(y) : y;
    }
    const deps = [w, bn.weight, bn.bias, bn.runningMean, bn.runningVar];
    const scale = (): tf.Tensor => tf.mul(bn.weight, tf.rsqrt(tf.add(bn.runningVar, BN_EPS)));
    const filter = this.folded.get(`${key}.w`, deps, () => tf.mul(w, scale())) as tf.Tensor4D;
    const bias = this.folded.get(`${key}.b`, deps, () => tf.sub(bn.bias, tf.mul(bn.runningMean, scale())));
    return tf.fused.conv2d({
      x,
      filter,
      strides: stride,
      pad: [
        [0, 0],
        [pad, pad],
        [pad, pad],
        [0, 0],
      ],
      bias,
      activation: relu ? 'relu' : 'linear',
    });
  }

  /** Frees the cached folded weights (the parameters live in the ParamStore). */
  dispose(): void {
    this.folded.dispose();
  }
}

/** Builds the backbone and registers its parameters in `store` under `prefix` (HyperIQA: 'res'). */
export function createResNetBackbone(
  store: ParamStore,
  cfg: ResNetBackboneConfig,
  prefix: string,
  opts: ResNetBackboneOptions,
): ResNetBackbone {
  return new ResNetBackbone(store, cfg, prefix, opts);
}

/** Parameter count (trainable: conv weights, BN γ/β; buffers excluded) computed from the shapes alone. */
export function resnetParamCount(cfg: ResNetBackboneConfig): { trainable: number; buffers: number } {
  validateResNetConfig(cfg);
  const base = cfg.baseWidth;
  let trainable = 7 * 7 * 3 * base + 2 * base;
  let buffers = 2 * base + 1;
  const bn = (ch: number): void => {
    trainable += 2 * ch;
    buffers += 2 * ch + 1;
  };
  let cin = base;
  cfg.layers.forEach((blocks, i) => {
    const width = base * 2 ** i;
    const cout = width * RESNET_EXPANSION;
    for (let k = 0; k < blocks; k++) {
      const stride = k === 0 && i > 0 ? 2 : 1;
      trainable += cin * width + 9 * width * width + width * cout;
      bn(width);
      bn(width);
      bn(cout);
      if (stride !== 1 || cin !== cout) {
        trainable += cin * cout;
        bn(cout);
      }
      cin = cout;
    }
  });
  return { trainable, buffers };
}
