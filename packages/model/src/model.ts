/**
 * The full model: backbone (Swin for SMART-IQA, ResNet-50 for the original HyperIQA) + HyperIQA head, with its
 * parameters in one ParamStore keyed by the PyTorch state-dict names in state-dict order.
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone, BlockMemory, ForwardContext, SeedSource, StageFeatures } from './backbone.js';
import type { ModelConfig } from './config.js';
import { HyperHead, type TargetParams } from './head.js';
import type { AttentionImpl } from './ops/attention.js';
import { ParamStore } from './params.js';
import { isPresetName, presetConfig, type ModelPresetName } from './presets.js';
import { createResNetBackbone, validateResNetConfig } from './resnet/backbone.js';
import { createSwinBackbone } from './swin/backbone.js';
import { validateSwinConfig } from './swin/geometry.js';

export interface CreateModelOptions {
  /** Initialisation seed (required: every random draw flows from an explicit seed). */
  seed: number;
  /** Swin attention formulation; default: the fastest for the active backend. */
  attentionImpl?: AttentionImpl;
  /** Swin inference: (window, head) groups per attention chunk (default 384, whole images per chunk). */
  attentionChunkGroups?: number;
  /**
   * false: skip the random initialisation (randomly initialised tensors start at zero; use when loading weights right
   * after: drawing Swin-B's 89M random values takes seconds). Default true.
   */
  randomInit?: boolean;
}

export interface ForwardOptions {
  /** Training mode: dropout and drop path active (needs `seeds`). Default false. */
  training?: boolean;
  /** Non-zero integer seeds for the dropout / drop-path masks, drawn in a fixed order. */
  seeds?: SeedSource;
  /** Default: 'tidy' in eval, 'none' in training (use 'checkpoint' to trade compute for memory). */
  blockMemory?: BlockMemory;
  /**
   * Training mode: update the BatchNorm running statistics (default true). Pass false for a second forward over the
   * same batch, so that one optimizer step updates them once, as one PyTorch forward does.
   */
  updateStats?: boolean;
  /** Also return the four NHWC stage maps. */
  returnFeatures?: boolean;
  /** Also return the TargetNet input and generated weights. */
  returnTarget?: boolean;
}

export interface ModelOutput {
  /** [B] predicted quality. */
  score: tf.Tensor1D;
  /** [B, 4] attention fusion weights (attention fusion only, else null). */
  attention: tf.Tensor2D | null;
  features?: StageFeatures;
  target?: TargetParams;
}

export function validateModelConfig(config: ModelConfig): void {
  const fail = (msg: string): never => {
    throw new Error(`model config: ${msg}`);
  };
  if (config.arch === 'smart-iqa' && config.backbone.kind !== 'swin')
    fail(`arch 'smart-iqa' needs a swin backbone, got '${config.backbone.kind}'`);
  if (config.arch === 'hyperiqa' && config.backbone.kind !== 'resnet')
    fail(`arch 'hyperiqa' needs a resnet backbone, got '${config.backbone.kind}'`);
  if (!['single', 'concat', 'attention'].includes(config.fusion))
    fail(`fusion must be single|concat|attention, got '${config.fusion}'`);
  for (const [k, v] of [
    ['dropPathRate', config.dropPathRate],
    ['dropoutRate', config.dropoutRate],
    ['attentionDropout', config.attentionDropout],
  ] as const) {
    if (!(v >= 0 && v < 1)) fail(`${k} must be in [0, 1), got ${v}`);
  }
  if (config.backbone.kind === 'swin') validateSwinConfig(config.backbone);
  else validateResNetConfig(config.backbone);
  const bb = config.backbone;
  const stageSide = bb.imgSize / 32;
  if (stageSide !== config.head.featureSize) {
    fail(
      `head.featureSize ${config.head.featureSize} must equal the last stage side imgSize/32 = ${stageSide}`,
    );
  }
}

function outputTensors(o: ModelOutput): tf.Tensor[] {
  const ts: tf.Tensor[] = [o.score];
  if (o.attention) ts.push(o.attention);
  if (o.features) ts.push(...o.features);
  if (o.target) ts.push(o.target.input, ...o.target.weights, ...o.target.biases);
  return ts;
}

export class IqaModel {
  constructor(
    readonly config: ModelConfig,
    readonly params: ParamStore,
    readonly backbone: Backbone,
    readonly head: HyperHead,
  ) {}

  /**
   * Forward pass on x: NHWC float32 [B, 224, 224, 3], RGB, ImageNet-normalised. In eval mode the result holds only the
   * returned tensors (dispose them); under a gradient tape (training) call it inside tf.variableGrads / tf.grads.
   */
  forward(x: tf.Tensor4D, opts: ForwardOptions = {}): ModelOutput {
    const training = opts.training ?? false;
    if (
      training &&
      !opts.seeds &&
      (this.config.dropoutRate > 0 || this.config.dropPathRate > 0 || this.config.attentionDropout > 0)
    ) {
      throw new Error('IqaModel.forward: training mode needs opts.seeds (dropout and drop path are seeded)');
    }
    const ctx: ForwardContext = {
      training,
      seeds: opts.seeds,
      blockMemory: opts.blockMemory ?? (training ? 'none' : 'tidy'),
      updateStats: opts.updateStats ?? true,
    };
    const run = (): ModelOutput => {
      const feats = this.backbone.forward(x, ctx);
      const out = this.head.forward(feats, ctx);
      const res: ModelOutput = { score: out.score, attention: out.attention };
      if (opts.returnFeatures) res.features = feats;
      if (opts.returnTarget) res.target = out.target;
      return res;
    };
    // Under a tape the intermediates must live until the backward pass; otherwise keep only the outputs.
    if (training) return run();
    let res: ModelOutput | undefined;
    tf.tidy(() => {
      res = run();
      return outputTensors(res);
    });
    return res as ModelOutput;
  }

  /** Eval-mode scores [B] (per-block tf.tidy: only block outputs stay alive). */
  predict(x: tf.Tensor4D): tf.Tensor1D {
    const out = this.forward(x);
    out.attention?.dispose();
    return out.score;
  }

  /**
   * The HyperNet alone in eval mode (backbone, LDA, fusion, HyperNet stack and generators; no TargetNet): the
   * generated TargetNet parameters for x. What the original's complexity scripts timed.
   */
  hyperNet(x: tf.Tensor4D): TargetParams {
    let target: TargetParams | undefined;
    tf.tidy(() => {
      const ctx: ForwardContext = { training: false, blockMemory: 'tidy' };
      target = this.head.hyperNet(this.backbone.forward(x, ctx), ctx).target;
      return [target.input, ...target.weights, ...target.biases];
    });
    return target as TargetParams;
  }

  /**
   * Value and gradients of `lossOfScores(score(x))` with respect to every trainable parameter, keyed by PyTorch name
   * (state-dict order). `ctx.blockMemory: 'checkpoint'` recomputes each block in the backward pass (activation
   * checkpointing: the same gradients for a fraction of the memory). Intermediate tensors are freed; the caller owns
   * the returned gradients.
   */
  lossGradients(
    x: tf.Tensor4D,
    ctx: ForwardContext,
    lossOfScores: (scores: tf.Tensor1D) => tf.Scalar,
  ): { loss: number; scores: Float32Array; grads: Map<string, tf.Tensor> } {
    const entries = this.params.list().filter((e) => e.trainable);
    let scores: Float32Array = new Float32Array(0);
    const { value, grads } = tf.variableGrads(
      () => {
        const out = this.forward(x, {
          training: ctx.training,
          seeds: ctx.seeds,
          blockMemory: ctx.blockMemory ?? 'none',
        });
        scores = out.score.dataSync() as Float32Array;
        return lossOfScores(out.score);
      },
      entries.map((e) => e.variable),
    );
    const loss = value.dataSync()[0];
    value.dispose();
    const byName = new Map<string, tf.Tensor>();
    for (const e of entries) {
      const g = grads[e.variable.name];
      if (g) byName.set(e.name, g);
    }
    return { loss, scores, grads: byName };
  }

  dispose(): void {
    this.backbone.dispose?.();
    this.params.dispose();
  }
}

/**
 * Builds a model from a preset name or a configuration, initialised from `opts.seed` (the original's initialisation:
 * see init.ts and each part's constructor).
 */
export function createModel(
  configOrPreset: ModelConfig | ModelPresetName,
  opts: CreateModelOptions,
): IqaModel {
  let config: ModelConfig;
  if (typeof configOrPreset === 'string') {
    if (!isPresetName(configOrPreset))
      throw new Error(`createModel: unknown preset '${configOrPreset as string}'`);
    config = presetConfig(configOrPreset);
  } else {
    config = structuredClone(configOrPreset);
  }
  validateModelConfig(config);
  const store = new ParamStore(config.arch);
  let backbone: Backbone;
  let ldaPrefix: string;
  try {
    if (config.backbone.kind === 'swin') {
      ldaPrefix = 'swin';
      backbone = createSwinBackbone(store, config.backbone, 'swin.backbone', {
        dropPathRate: config.dropPathRate,
        seed: opts.seed,
        attentionImpl: opts.attentionImpl,
        attentionChunkGroups: opts.attentionChunkGroups,
        randomInit: opts.randomInit,
      });
    } else {
      ldaPrefix = 'res';
      backbone = createResNetBackbone(store, config.backbone, 'res', {
        seed: opts.seed,
        randomInit: opts.randomInit,
      });
    }
    const head = new HyperHead(store, config.head, {
      ldaPrefix,
      stageChannels: backbone.stageChannels,
      fusion: config.fusion,
      dropoutRate: config.dropoutRate,
      attentionDropout: config.attentionDropout,
      seed: opts.seed,
      randomInit: opts.randomInit,
    });
    return new IqaModel(config, store, backbone, head);
  } catch (e) {
    store.dispose();
    throw e;
  }
}
