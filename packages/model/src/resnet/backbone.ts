/**
 * The HyperIQA ResNet backbone: torchvision's ResNet v1.5 layout (the stride in the 3×3 conv), NHWC, without avgpool
 * and fc. Stem (stem.ts) → layer1..4 of bottleneck blocks (bottleneck.ts; the first block of layers 2-4 has stride 2)
 * → the four stage maps.
 *
 * Parameters are registered under `<prefix>.` (HyperIQA: `res.`) with torchvision's names in state-dict order:
 * `conv1.weight`, `bn1.*`, then `layer{i}.{k}.*`; torchvision-keys.ts maps torchvision's own checkpoints onto them.
 * `num_batches_tracked` (int64 in torch) is an int32 scalar buffer.
 *
 * Training mode (`ctx.training`) normalises with batch statistics and updates the BatchNorm running statistics once per
 * forward, also under activation checkpointing (the recomputation in the backward pass does not count again), and
 * not at all with `ctx.updateStats` false.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Backbone, ForwardContext, StageFeatures } from '../backbone.js';
import type { ResNetBackboneConfig } from '../config.js';
import { Initializer } from '../init.js';
import { convOutSize } from '../ops/conv.js';
import type { ParamStore } from '../params.js';
import { Bottleneck, RESNET_EXPANSION } from './bottleneck.js';
import { ResNetStem } from './stem.js';

export interface ResNetBackboneOptions {
  /** Initialisation seed (every conv N(0, 2/(k·k·out)), BatchNorm γ 1, β 0; pretrained weights normally overwrite it). */
  seed: number;
  /** false: zero-filled parameters (weights are loaded next; skips drawing 23.5M random values). Default true. */
  randomInit?: boolean;
  /**
   * Compute the gradient with respect to the input image (default false: nothing upstream of the stem is trainable,
   * so the stem's input gradient, the costliest backward conv, is skipped and reported as zeros).
   */
  inputGradient?: boolean;
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
  private readonly stem: ResNetStem;
  private readonly stages: Bottleneck[][];

  constructor(
    store: ParamStore,
    readonly config: ResNetBackboneConfig,
    prefix: string,
    opts: ResNetBackboneOptions,
  ) {
    validateResNetConfig(config);
    const init = new Initializer(opts.seed, opts.randomInit ?? true);
    const name = (n: string): string => (prefix ? `${prefix}.${n}` : n);
    const base = config.baseWidth;
    this.stem = new ResNetStem(store, prefix, init, base, opts.inputGradient ?? false);
    let cin = base;
    this.stages = config.layers.map((blocks, i) => {
      const width = base * 2 ** i;
      const stage: Bottleneck[] = [];
      for (let k = 0; k < blocks; k++) {
        const stride = k === 0 && i > 0 ? 2 : 1;
        stage.push(
          new Bottleneck(store, name(`layer${i + 1}.${k}`), init, { inChannels: cin, width, stride }),
        );
        cin = width * RESNET_EXPANSION;
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
    let t = this.stem.forward(x, ctx);
    const feats: tf.Tensor4D[] = [];
    for (const stage of this.stages) {
      for (const block of stage) {
        const prev = t;
        t = block.forward(prev, ctx);
        // Inference with per-block tidy: a block output that is not a stage map is dead once the next block ran.
        // (Under a tape or with checkpointing the backward pass still needs it; the caller's tidy frees it.)
        if (ctx.blockMemory === 'tidy' && !feats.includes(prev)) prev.dispose();
      }
      feats.push(t);
    }
    return [feats[0], feats[1], feats[2], feats[3]];
  }

  /** Frees the cached folded weights (the parameters live in the ParamStore). */
  dispose(): void {
    this.stem.dispose();
    for (const stage of this.stages) for (const block of stage) block.dispose();
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
