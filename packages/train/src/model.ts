/** The trainer's view of an @iqa-bench/model IqaModel, and model construction from a config. */
import {
  createModel,
  isPresetName,
  loadBackboneWeights,
  presetConfig,
  PRESET_NAMES,
  saveSafetensors,
  type IqaModel,
  type ModelConfig,
} from '@iqa-bench/model';
import { ConfigError, type TrainConfig } from './config.js';
import type { TrainableModel } from './trainer/types.js';

/** The preset of `cfg.model` with the config's overrides applied; its input side is `cfg.patches.size`. */
export function modelConfigOf(cfg: TrainConfig): ModelConfig {
  if (!isPresetName(cfg.model.preset)) {
    throw new ConfigError(
      `model.preset: expected one of ${PRESET_NAMES.join(', ')}, got '${cfg.model.preset}'`,
      ['model.preset'],
    );
  }
  const mc = presetConfig(cfg.model.preset);
  if (cfg.model.dropPathRate !== null) mc.dropPathRate = cfg.model.dropPathRate;
  if (cfg.model.dropoutRate !== null) mc.dropoutRate = cfg.model.dropoutRate;
  if (cfg.model.fusion !== null) mc.fusion = cfg.model.fusion;
  const bb = cfg.model.backbone;
  const swinKeys = ['embedDim', 'depths', 'numHeads', 'windowSize', 'mlpRatio'] as const;
  const resnetKeys = ['layers', 'baseWidth'] as const;
  const wrong = (mc.backbone.kind === 'swin' ? resnetKeys : swinKeys).filter((k) => bb[k] !== undefined);
  if (wrong.length > 0) {
    throw new ConfigError(
      `model.backbone: ${wrong.join(', ')} do not apply to the ${mc.backbone.kind} backbone of '${cfg.model.preset}'`,
      wrong.map((k) => `model.backbone.${k}`),
    );
  }
  const defined = <T extends object>(o: T): Partial<T> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  Object.assign(mc.backbone, defined(bb));
  Object.assign(mc.head, defined(cfg.model.head));
  // The model's input side is the patch side: both backbones end at stride 32, so the head's featureSize follows.
  const side = cfg.patches.size;
  if (side !== mc.backbone.imgSize) {
    if (side % 32 !== 0) {
      throw new ConfigError(
        `patches.size: the model's input side must be a multiple of 32 (its last stage has stride 32), got ${side}`,
        ['patches.size'],
      );
    }
    mc.backbone.imgSize = side;
    mc.head.featureSize = side / 32;
  }
  return mc;
}

/** Wraps an IqaModel: named variables in state-dict order, seeded training forward, safetensors weights. */
export function asTrainable(model: IqaModel): TrainableModel {
  return {
    params: model.params.list().map((e) => ({ name: e.name, variable: e.variable, trainable: e.trainable })),
    score(x, ctx) {
      const out = model.forward(x, {
        training: ctx.training,
        seeds: ctx.seeds,
        blockMemory: ctx.blockMemory,
        updateStats: ctx.updateStats,
      });
      // Under a gradient tape the attention weights are part of the graph: leave them to the enclosing scope.
      if (!ctx.training) out.attention?.dispose();
      return out.score;
    },
    saveWeights: (path) => saveSafetensors(path, model.params, model.config),
    dispose: () => model.dispose(),
  };
}

/** Builds round `seed`'s model per the config (seeded init, optional ImageNet backbone weights). */
export async function buildModel(cfg: TrainConfig, seed: number): Promise<TrainableModel> {
  const model = createModel(modelConfigOf(cfg), { seed });
  if (cfg.model.initWeights !== null) {
    try {
      await loadBackboneWeights(model, cfg.model.initWeights);
    } catch (err) {
      model.dispose();
      throw err;
    }
  }
  return asTrainable(model);
}
