/**
 * The architecture config stored next to weights (safetensors `__metadata__`, tfjs `userDefinedMetadata`), so that a
 * weights file alone rebuilds its model. Parsed defensively with a schema: every field is typed and bounded, unknown
 * fields are refused; checkModelConfig adds the builders' cross-field rules and the cost limits, and is what every
 * config from a file passes before a model is built from it.
 */
import * as z from 'zod';
import type { ModelConfig } from '../config.js';
import type { ModelCostLimits } from '../config-cost.js';
import { costOverLimit, estimateModelCost } from '../config-cost.js';
import { validateModelConfig } from '../model.js';
import { fileError, ModelFileError, schemaError } from './errors.js';
import { parseStructuredText, TextFileError } from '@iqa-bench/core/text';

/** safetensors `__metadata__` key holding the ModelConfig JSON. */
export const CONFIG_METADATA_KEY = 'iqa_bench_config';

/**
 * Inclusive bounds of every numeric field of a ModelConfig (mlpRatio: above the lower bound). Far outside what the
 * presets (Swin-T/S/B, ResNet-50 and the original head) and the micro test configs use, and small enough that no
 * field alone can ask for an absurd model; the cost limits (ModelCostLimits) bound the combination.
 */
export const MODEL_CONFIG_BOUNDS = {
  embedDim: [1, 1024],
  depth: [1, 64],
  numHeads: [1, 256],
  windowSize: [1, 64],
  patchSize: [1, 64],
  imgSize: [32, 4096],
  mlpRatio: [0, 16],
  resnetBlocks: [1, 64],
  baseWidth: [1, 512],
  ldaOut: [1, 4096],
  hyperInChannels: [1, 4096],
  targetInSize: [1, 16384],
  targetFc: [1, 4096],
  featureSize: [1, 128],
  conv1Hidden: [1, 8192],
  attentionHidden: [1, 8192],
} as const satisfies Record<string, readonly [number, number]>;

type Bounded = keyof typeof MODEL_CONFIG_BOUNDS;
const int = (k: Bounded): z.ZodInt => z.int().min(MODEL_CONFIG_BOUNDS[k][0]).max(MODEL_CONFIG_BOUNDS[k][1]);
const quad = (k: Bounded) => z.tuple([int(k), int(k), int(k), int(k)]);
const rate = z.number().min(0).lt(1);

const swinSchema = z.strictObject({
  kind: z.literal('swin'),
  embedDim: int('embedDim'),
  depths: quad('depth'),
  numHeads: quad('numHeads'),
  windowSize: int('windowSize'),
  patchSize: int('patchSize'),
  imgSize: int('imgSize'),
  mlpRatio: z.number().gt(MODEL_CONFIG_BOUNDS.mlpRatio[0]).max(MODEL_CONFIG_BOUNDS.mlpRatio[1]),
});

const resnetSchema = z.strictObject({
  kind: z.literal('resnet'),
  layers: quad('resnetBlocks'),
  baseWidth: int('baseWidth'),
  imgSize: int('imgSize'),
});

/** The schema of a ModelConfig (types and bounds of every field; arch and backbone kind must agree). */
export const modelConfigSchema = z
  .strictObject({
    arch: z.enum(['smart-iqa', 'hyperiqa']),
    backbone: z.discriminatedUnion('kind', [swinSchema, resnetSchema]),
    fusion: z.enum(['single', 'concat', 'attention']),
    head: z.strictObject({
      ldaOut: int('ldaOut'),
      hyperInChannels: int('hyperInChannels'),
      targetInSize: int('targetInSize'),
      targetFc: quad('targetFc'),
      featureSize: int('featureSize'),
      conv1Hidden: z.tuple([int('conv1Hidden'), int('conv1Hidden')]),
      attentionHidden: int('attentionHidden'),
    }),
    dropPathRate: rate,
    dropoutRate: rate,
    attentionDropout: rate,
  })
  .superRefine((c, ctx) => {
    const want = c.arch === 'smart-iqa' ? 'swin' : 'resnet';
    if (c.backbone.kind !== want)
      ctx.addIssue({
        code: 'custom',
        path: ['backbone', 'kind'],
        message: `expected '${want}' for arch '${c.arch}'`,
        input: c.backbone.kind,
      });
  });

/**
 * Validates an untrusted value as a ModelConfig (types and bounds; returns a fresh object). `field` is where the
 * config sits in the file (e.g. 'userDefinedMetadata.iqaBench.config'), prefixed to the fields errors name.
 */
export function parseModelConfig(value: unknown, source = 'model config', field = ''): ModelConfig {
  const r = modelConfigSchema.safeParse(value, { reportInput: true });
  if (!r.success) throw schemaError(source, r.error, field, 'model config field');
  return r.data satisfies ModelConfig;
}

/**
 * Everything a config from a file passes before a model is built from it: the schema (parseModelConfig), the
 * builders' cross-field rules (validateModelConfig, TargetNet sizes) and the cost estimate against `limits`
 * (DEFAULT_MODEL_COST_LIMITS unless raised). Throws a ModelFileError naming `source` and the field or limit.
 */
export function checkModelConfig(
  value: unknown,
  source: string,
  limits: Partial<ModelCostLimits> = {},
  field = '',
): ModelConfig {
  const config = parseModelConfig(value, source, field);
  const where = field || 'model config';
  let cost;
  try {
    validateModelConfig(config);
    cost = estimateModelCost(config);
  } catch (err) {
    if (err instanceof ModelFileError) throw err;
    throw fileError(source, where, err instanceof Error ? err.message : String(err), { cause: err });
  }
  const over = costOverLimit(cost, limits);
  if (over) throw fileError(source, where, over.message, { limit: over.limit });
  return config;
}

/** The config from safetensors metadata, or null when the file carries none. */
export function configFromMetadata(
  metadata: Record<string, string>,
  source = 'metadata',
): ModelConfig | null {
  const raw = metadata[CONFIG_METADATA_KEY];
  if (raw === undefined) return null;
  let value: unknown;
  try {
    value = parseStructuredText(raw, { file: source, format: 'json', maxItems: 1024 });
  } catch (err) {
    const why = err instanceof TextFileError ? err.reason : 'not valid JSON';
    throw fileError(source, `metadata '${CONFIG_METADATA_KEY}'`, why, { cause: err });
  }
  return parseModelConfig(value, `${source} (metadata '${CONFIG_METADATA_KEY}')`);
}

/** safetensors metadata for a model: its config, and `format: pt` (tensors are in PyTorch layout). */
export function configMetadata(config: ModelConfig): Record<string, string> {
  return { format: 'pt', [CONFIG_METADATA_KEY]: JSON.stringify(parseModelConfig(config)) };
}
