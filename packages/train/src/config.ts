/**
 * The training configuration: one typed, validated object that holds everything a run depends on.
 *
 * - `parseTrainConfig(input, source)` validates a plain object (e.g. parsed JSON/YAML), fills defaults and returns the
 *   resolved config. Errors name every offending field and what was expected.
 * - `readTrainConfigFile(path)` reads a `.json`, `.yaml` or `.yml` file as plain data within bounds (size, nesting,
 *   aliases); `loadTrainConfig(path)` reads and validates it.
 * - `fromOriginalFlags(flags)` maps the PyTorch original's `train_smart_iqa.py` / `train_hyperiqa.py` argparse flags
 *   onto a config, reproducing what those scripts actually ran.
 *
 * Defaults are the *honest* ones (validation split for model selection, eta_min relative to each group's LR, ...);
 * the original's quirks are explicit options, never defaults.
 */
import { FileError } from '@iqa-bench/core/fs';
import { readStructuredFileSync } from '@iqa-bench/core/fs';
import { TextFileError } from '@iqa-bench/core/text';
import * as z from 'zod';
import { fieldPath } from '@iqa-bench/core/text';

const positive = () => z.number().positive();
const nonNegative = () => z.number().nonnegative();
const posInt = () => z.number().int().positive();
const nonNegInt = () => z.number().int().nonnegative();

const datasetSchema = z.strictObject({
  /** Adapter key of @iqa-bench/data (`kadid10k`, `koniq10k`, `livec`, `csv`, ...). */
  kind: z.enum(['koniq10k', 'spaq', 'kadid10k', 'agiqa3k', 'livec', 'live', 'csiq', 'tid2013', 'csv']),
  /** Dataset root folder. */
  root: z.string().min(1),
  /** Options of @iqa-bench/data's loadDataset (label column, image folder, csv columns, layout). */
  load: z
    .strictObject({
      layout: z.enum(['official', 'json']).optional(),
      label: z.string().min(1).optional(),
      imageDir: z.string().min(1).optional(),
      file: z.string().min(1).optional(),
      imageColumn: z.string().min(1).optional(),
      refColumn: z.string().min(1).optional(),
      direction: z.enum(['higher-better', 'lower-better']).optional(),
    })
    .default({}),
  /** Split manifest (JSON written by @iqa-bench/data). Takes precedence over `shippedSplit` and `split`. */
  splitManifest: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe('a split manifest (iqa-bench datasets split); else a seeded random split'),
  /** A split the dataset ships (`official` for KonIQ's set column, `seed-json` for the original's JSON files). */
  shippedSplit: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe('a split the dataset ships (official, seed-json)'),
  /**
   * Seeded random split (reference-disjoint for reference-based datasets), redrawn every round:
   * `train` and `val` fractions of the images, the rest is the test part.
   */
  split: z
    .strictObject({
      train: z.number().gt(0).lt(1).default(0.7),
      val: z.number().min(0).lt(1).default(0.1),
    })
    .default({ train: 0.7, val: 0.1 }),
  /**
   * Which part selects the best epoch and drives early stopping. `val` (a part carved from training) is the honest
   * default; `test` is what the original did (it has no validation split: the test set picks the epoch).
   */
  selectOn: z.enum(['val', 'test']).default('val').describe('the part that selects the best epoch'),
  /** Train on the [0, 1] normalised score (1 = best) or on the native scale (as the original). */
  labels: z
    .enum(['native', 'normalized'])
    .default('normalized')
    .describe('train on native or [0, 1] normalised scores'),
  /** Resize preset of @iqa-bench/data: `native` (short side 384), `seed` (the original's 512x384 (H, W) quirk), `none`. */
  preprocess: z.enum(['native', 'seed', 'none']).default('native').describe('resize preset'),
});

const modelSchema = z.strictObject({
  /** Preset of @iqa-bench/model (`smart-iqa-tiny`, `hyperiqa-resnet50`, `smart-iqa-micro`, ...). */
  preset: z
    .string()
    .min(1)
    .describe(
      'model preset (smart-iqa-tiny, smart-iqa-small, smart-iqa-base, hyperiqa-resnet50, smart-iqa-micro)',
    ),
  /** Overrides of the preset (null: the preset's value). */
  dropPathRate: z.number().min(0).lt(1).nullable().default(null),
  dropoutRate: z.number().min(0).lt(1).nullable().default(null),
  fusion: z.enum(['single', 'concat', 'attention']).nullable().default(null),
  /**
   * Architecture overrides of the preset's backbone (Swin: embedDim, depths, numHeads, windowSize, mlpRatio; ResNet:
   * layers, baseWidth) and head sizes, for small models built through the very same code. Validated by
   * @iqa-bench/model when the model is built.
   */
  backbone: z
    .strictObject({
      embedDim: posInt().optional(),
      depths: z.tuple([posInt(), posInt(), posInt(), posInt()]).optional(),
      numHeads: z.tuple([posInt(), posInt(), posInt(), posInt()]).optional(),
      windowSize: posInt().optional(),
      mlpRatio: positive().optional(),
      layers: z.tuple([posInt(), posInt(), posInt(), posInt()]).optional(),
      baseWidth: posInt().optional(),
    })
    .default({}),
  head: z
    .strictObject({
      ldaOut: posInt().optional(),
      hyperInChannels: posInt().optional(),
      targetInSize: posInt().optional(),
      targetFc: z.tuple([posInt(), posInt(), posInt(), posInt()]).optional(),
      conv1Hidden: z.tuple([posInt(), posInt()]).optional(),
      attentionHidden: posInt().optional(),
    })
    .default({}),
  /**
   * ImageNet backbone weights to start from (timm Swin / torchvision ResNet-50 state dict, .pth or .safetensors; the
   * head keeps its seeded initialisation). null: everything from the seeded initialisation.
   */
  initWeights: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe(
      'ImageNet backbone weights (timm Swin / torchvision ResNet .pth or .safetensors) or a checkpoint',
    ),
});

const optimizerSchema = z.strictObject({
  /** `adamw`: decoupled weight decay (SMART-IQA). `adam`: L2 added to the gradient (the original HyperIQA). */
  kind: z
    .enum(['adamw', 'adam'])
    .default('adamw')
    .describe('adamw (decoupled decay) or adam (L2, original HyperIQA)'),
  /** LR of the backbone group (backbone + LDA heads). */
  lr: positive().default(1e-4).describe('backbone learning rate'),
  /** Every other parameter trains at lr x lrRatio. */
  lrRatio: positive().default(10).describe('head learning rate = lr × ratio'),
  weightDecay: nonNegative().default(2e-4).describe('weight decay'),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
  eps: positive().default(1e-8),
  /** Global L2 gradient-norm clipping as torch clip_grad_norm_ (null: off). */
  clipGradNorm: positive().nullable().default(1.0),
  /** ParamStore name prefixes of the backbone group (the original: everything inside `swin` / `res`). */
  backbonePrefixes: z.array(z.string().min(1)).min(1).default(['swin.', 'res.']),
});

const scheduleSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('cosine'),
    /** Period in epochs (null: the number of epochs). */
    tMax: posInt().nullable().default(null),
    /** eta_min: a fraction of each group's base LR (`relative`) or an absolute LR for every group (`absolute`). */
    etaMin: nonNegative().default(0),
    /**
     * `relative` (default): group eta_min = etaMin x group base LR, so every group decays.
     * `absolute`: torch CosineAnnealingLR exactly, one eta_min for all groups. With eta_min above a group's base LR
     * that group's LR rises: the original's quirk (eta_min 1e-6 above SMART-IQA's backbone LR of 5e-7), reproducible
     * only by choosing this explicitly.
     * `absolute-clamped`: one absolute eta_min, clamped to each group's base LR (never rises).
     */
    etaMinMode: z.enum(['relative', 'absolute', 'absolute-clamped']).default('relative'),
    warmupSteps: nonNegInt().default(0),
  }),
  z.strictObject({
    kind: z.literal('step'),
    stepSize: posInt().default(6),
    gamma: positive().default(0.1),
    /** Which groups decay: `all` (original HyperIQA/ResNet) or `head` only (original SMART-IQA). */
    groups: z.enum(['all', 'head']).default('all'),
    warmupSteps: nonNegInt().default(0),
  }),
  z.strictObject({
    kind: z.literal('constant'),
    warmupSteps: nonNegInt().default(0),
  }),
]);

const lossSchema = z.strictObject({
  /**
   * Primary loss. `plcc` is 1 - Pearson (the original calls it `srcc`; `srcc` is accepted as an alias and resolved to
   * `plcc`). `spearman` is a true differentiable Spearman surrogate (soft ranks). `rank` and `fidelity` are the
   * original's pairwise losses.
   */
  kind: z
    .enum(['l1', 'l2', 'plcc', 'srcc', 'rank', 'fidelity', 'spearman'])
    .default('l1')
    .transform((k) => (k === 'srcc' ? 'plcc' : k))
    .describe('loss (srcc is an alias of plcc)'),
  /** Fidelity: p_gt = sigmoid((y_i - y_j) / labelScale). The original uses 1 (raw label differences). */
  fidelityLabelScale: positive().default(1),
  /** Fidelity: p_pred = sigmoid(1.702 (p_i - p_j) / (sqrt(2) sigma)). The original uses 0.1. */
  fidelitySigma: positive().default(0.1),
  /** Spearman surrogate: temperature of the pairwise sigmoid on standardised predictions. */
  spearmanTemperature: positive().default(0.1),
  /** Weight of the extra margin-ranking term (0: off, as the original's best runs). */
  alpha: nonNegative().default(0),
  /** Margin of that term, in label units. */
  margin: nonNegative().default(0.1),
});

const patchesSchema = z.strictObject({
  /** Crops of each training image per epoch (`train_patch_num`). */
  train: posInt().default(20).describe('crops of each training image per epoch'),
  /** Crops per evaluated image; its score is the mean of their scores (`test_patch_num`). */
  test: posInt().default(20).describe('crops per evaluated image'),
  size: posInt().default(224),
});

const augmentationSchema = z.strictObject({
  hflip: z.boolean().default(true),
  /** Evaluation crops: `random` (seeded) as the original, or `center`. */
  testCrop: z.enum(['random', 'center']).default('random').describe('evaluation crops'),
  colorJitter: z.boolean().default(false),
});

const earlyStoppingSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('stop after `patience` epochs without improvement'),
  /** Metric of the selection part that picks the best epoch. */
  metric: z.enum(['srcc', 'plcc', 'krcc']).default('srcc'),
  patience: posInt().default(5).describe('early-stopping patience (epochs)'),
  /** An epoch improves only if it beats the best by more than this. */
  minDelta: nonNegative().default(0),
});

const memorySchema = z.strictObject({
  /** Images per forward/backward pass; gradients are accumulated up to `training.batchSize`. */
  microBatchSize: posInt()
    .default(4)
    .describe('images per forward/backward pass (gradients accumulated to the batch size)'),
  /** Per-block activation checkpointing (recompute in backward; lower peak memory). */
  activationCheckpointing: z
    .boolean()
    .default(false)
    .describe('per-block activation checkpointing (less memory, more compute)'),
  /** Crops per forward pass during evaluation (no gradients, so larger than microBatchSize). */
  evalBatchSize: posInt().default(16),
  /**
   * Worker threads computing micro-batches in parallel (each with its own backend: wasm in Node uses one core per
   * thread). Gradients are summed in micro-batch order on the main thread, so the results are bit-identical for any
   * worker count; 1 = everything on the main thread.
   */
  workers: z
    .number()
    .int()
    .min(1)
    .max(16)
    .default(1)
    .describe(
      'worker threads computing micro-batches in parallel (results bit-identical for any count; wasm: one core each)',
    ),
});

const trainingSchema = z.strictObject({
  epochs: posInt().default(10).describe('epochs per round'),
  /** Effective batch size (one optimizer step). */
  batchSize: posInt().default(32).describe('images per optimizer step'),
  /** N-round protocol: independent rounds (fresh init/crops per round, seeds derived from the run seed). */
  rounds: posInt().default(1).describe('independent rounds (median and IQR reported)'),
  /** Write the `last` checkpoint every this many optimizer steps (0: only at epoch ends). */
  checkpointEverySteps: nonNegInt().default(0),
  /**
   * An epoch's last batch with fewer than half `batchSize` samples, when the loss is batch-level (every loss but l1 /
   * l2 without the margin term: a PLCC of 2 samples is exactly 1 or -1, a meaningless gradient): `merge` it into the
   * previous batch (that step takes up to 1.5 batches), `drop` it (those samples skip the epoch; the shuffle differs
   * every epoch), or `keep` it as a step of its own. Per-sample losses and an epoch of one batch always keep it.
   */
  smallLastBatch: z
    .enum(['merge', 'drop', 'keep'])
    .default('merge')
    .describe('a last batch under half the batch size, for batch-level losses: merge, drop or keep'),
});

export const trainConfigSchema = z.strictObject({
  /** Run seed: every random draw of the run derives from it. */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(42)
    .describe('run seed: every random draw derives from it'),
  /** TensorFlow.js backend. */
  backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('wasm').describe('TensorFlow.js backend'),
  dataset: datasetSchema,
  model: modelSchema,
  optimizer: optimizerSchema.default(optimizerSchema.parse({})),
  schedule: scheduleSchema
    .default(scheduleSchema.parse({ kind: 'cosine' }))
    .describe('learning-rate schedule'),
  loss: lossSchema.default(lossSchema.parse({})),
  patches: patchesSchema.default(patchesSchema.parse({})),
  augmentation: augmentationSchema.default(augmentationSchema.parse({})),
  earlyStopping: earlyStoppingSchema.default(earlyStoppingSchema.parse({})),
  memory: memorySchema.default(memorySchema.parse({})),
  training: trainingSchema.default(trainingSchema.parse({})),
});

/**
 * What one config field accepts, read from the schema: enough for a command line to offer the field as a flag with
 * the same choices, bounds and description.
 */
export interface ConfigField {
  path: string;
  type: 'choice' | 'number' | 'boolean' | 'string';
  /** `choice`: the accepted values. */
  choices?: readonly string[];
  /** `number`: whole numbers only, and the bounds. */
  integer?: boolean;
  min?: { value: number; inclusive: boolean };
  max?: { value: number; inclusive: boolean };
  description?: string;
  /**
   * The field picks the variant of its section (`schedule.kind`): the section's other fields belong to one variant,
   * so a different value starts the section over.
   */
  discriminator?: boolean;
}

interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  discriminator?: string;
  entries?: Record<string, string>;
  values?: unknown[];
  checks?: { _zod: { def: { check: string; value?: number; inclusive?: boolean; format?: string } } }[];
}

const defOf = (s: z.ZodType): SchemaDef => s._zod.def as unknown as SchemaDef;

/** Strips defaults, optionality, nullability and transforms; the outermost description on the way. */
function unwrapField(s: z.ZodType): { schema: z.ZodType; description: string | undefined } {
  let description: string | undefined;
  for (;;) {
    description ??= s.description;
    const def = defOf(s);
    if (['default', 'prefault', 'optional', 'nullable'].includes(def.type) && def.innerType)
      s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return { schema: s, description };
  }
}

/** The field of the training config at `path` (`optimizer.lr`, `schedule.kind`), as a flag would offer it. */
export function configField(path: string): ConfigField {
  let s: z.ZodType = trainConfigSchema;
  let sectionDescription: string | undefined;
  for (const key of path.split('.')) {
    const { schema, description } = unwrapField(s);
    const def = defOf(schema);
    if (def.type === 'object' && def.shape && key in def.shape) {
      sectionDescription = description;
      s = def.shape[key];
    } else if (def.type === 'union' && def.discriminator === key && def.options) {
      const choices = def.options.flatMap(
        (o) => defOf(unwrapField(defOf(o).shape![key]).schema).values ?? [],
      );
      return {
        path,
        type: 'choice',
        choices: choices.map(String),
        description: description ?? sectionDescription,
        discriminator: true,
      };
    } else {
      throw new Error(`configField: the training config has no field '${path}'`);
    }
  }
  const { schema, description } = unwrapField(s);
  const def = defOf(schema);
  const field: ConfigField = { path, type: 'string', description };
  if (def.type === 'enum' && def.entries)
    return { ...field, type: 'choice', choices: Object.values(def.entries) };
  if (def.type === 'boolean') return { ...field, type: 'boolean' };
  if (def.type === 'string') return field;
  if (def.type !== 'number') throw new Error(`configField: '${path}' is a ${def.type}, not a flag value`);
  const out: ConfigField = { ...field, type: 'number', integer: false };
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'number_format' && (d.format === 'safeint' || d.format === 'int32')) out.integer = true;
    if (d.check === 'greater_than' && d.value !== undefined)
      out.min = { value: d.value, inclusive: d.inclusive === true };
    if (d.check === 'less_than' && d.value !== undefined)
      out.max = { value: d.value, inclusive: d.inclusive === true };
  }
  return out;
}

/** A resolved (validated, defaults filled) training configuration. */
export type TrainConfig = z.output<typeof trainConfigSchema>;
/** What a user may write: every field with a default is optional. */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;
export type LossKind = TrainConfig['loss']['kind'];
export type ScheduleConfig = TrainConfig['schedule'];
export type OptimizerConfig = TrainConfig['optimizer'];
export type LossConfig = TrainConfig['loss'];

export class ConfigError extends Error {
  constructor(
    message: string,
    /** One entry per problem: `field.path: what was expected`. */
    readonly problems: string[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** One zod issue as `field.path: what was expected` (the form of every validation message in this package). */
export function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `${fieldPath(issue.path) || '(root)'}: unknown field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  }
  return `${fieldPath(issue.path) || '(root)'}: ${issue.message}`;
}

/** Cross-field checks zod's per-field schema cannot express. */
function crossCheck(cfg: TrainConfig): string[] {
  const problems: string[] = [];
  const randomSplit = cfg.dataset.splitManifest === null && cfg.dataset.shippedSplit === null;
  if (randomSplit && cfg.dataset.split.train + cfg.dataset.split.val >= 1) {
    problems.push(
      `dataset.split: train + val must be < 1 to leave a test part (got ${cfg.dataset.split.train} + ${cfg.dataset.split.val})`,
    );
  }
  if (cfg.dataset.selectOn === 'val' && randomSplit && cfg.dataset.split.val === 0) {
    problems.push("dataset.split.val: must be > 0 when dataset.selectOn is 'val'");
  }
  if (cfg.schedule.kind === 'cosine' && cfg.schedule.etaMinMode === 'relative' && cfg.schedule.etaMin > 1) {
    problems.push(
      `schedule.etaMin: a fraction of each group's LR in 'relative' mode, expected <= 1, got ${cfg.schedule.etaMin} (use etaMinMode 'absolute' for an absolute LR)`,
    );
  }
  if (cfg.memory.microBatchSize > cfg.training.batchSize) {
    problems.push(
      `memory.microBatchSize: must be <= training.batchSize (${cfg.training.batchSize}), got ${cfg.memory.microBatchSize}`,
    );
  }
  return problems;
}

/**
 * Validates `input` and fills defaults. `source` names where it came from (a file path, 'flags', ...) in errors.
 * Throws ConfigError listing every problem as `field.path: expected ...`.
 */
export function parseTrainConfig(input: unknown, source = 'config'): TrainConfig {
  const res = trainConfigSchema.safeParse(input);
  if (!res.success) {
    const problems = res.error.issues.map(describeIssue);
    throw new ConfigError(`Invalid training config (${source}):\n  ${problems.join('\n  ')}`, problems);
  }
  const problems = crossCheck(res.data);
  if (problems.length > 0) {
    throw new ConfigError(`Invalid training config (${source}):\n  ${problems.join('\n  ')}`, problems);
  }
  return res.data;
}

/** A field whose value differs between two configs: its dotted path and both values. */
export interface ConfigDifference {
  path: string;
  old: unknown;
  new: unknown;
}

function isSection(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The fields of `b` that differ from `a` (and those only one of them has), as dotted paths in the order of `b`'s
 * fields; lists compare as whole values. Paths in `ignore` (and below them) are left out.
 */
export function diffConfigs(a: unknown, b: unknown, ignore: readonly string[] = []): ConfigDifference[] {
  const out: ConfigDifference[] = [];
  const walk = (x: unknown, y: unknown, path: string) => {
    if (ignore.includes(path)) return;
    if (isSection(x) && isSection(y)) {
      const keys = [...Object.keys(y), ...Object.keys(x).filter((k) => !(k in y))];
      for (const k of keys) walk(x[k], y[k], path === '' ? k : `${path}.${k}`);
    } else if (JSON.stringify(x) !== JSON.stringify(y)) {
      out.push({ path, old: x, new: y });
    }
  };
  walk(a, b, '');
  return out;
}

function shownValue(v: unknown): string {
  if (v === undefined) return '(none)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** `training.epochs: 1 → 2, seed: 3 → 4 and 2 more`: the first `max` differences, then how many are left. */
export function formatConfigDifferences(diffs: readonly ConfigDifference[], max = 3): string {
  const shown = diffs
    .slice(0, max)
    .map((d) => `${d.path}: ${shownValue(d.old)} → ${shownValue(d.new)}`)
    .join(', ');
  return diffs.length > max ? `${shown} and ${diffs.length - max} more` : shown;
}

/** Config files larger than this are refused. */
const MAX_CONFIG_BYTES = 1 << 20;

/**
 * Reads a `.json`, `.yaml` or `.yml` config file as plain data, before validation (a partial config that flags or a
 * recipe complete): at most 1 MiB, nested at most 64 levels, YAML without custom tags and with at most 100 alias
 * expansions. `label` names the file in errors (default: the path). Throws ConfigError naming the file and, for a
 * syntax error, the line and column (`run.yaml:3:7: not valid YAML: …`).
 */
export function readTrainConfigFile(path: string, label = path): Record<string, unknown> {
  let data: unknown;
  try {
    data = readStructuredFileSync(path, { maxBytes: MAX_CONFIG_BYTES, what: 'config file' });
  } catch (err) {
    if (err instanceof TextFileError) {
      const at = err.line === undefined ? '' : `:${err.line}:${err.column}`;
      throw new ConfigError(`${label}${at}: ${err.reason}`, [`${label}${at}: ${err.reason}`]);
    }
    if (err instanceof FileError) {
      const reason = err.message.startsWith(`${err.file}: `)
        ? err.message.slice(err.file.length + 2)
        : err.message;
      throw new ConfigError(`${label}: ${reason}`, [`${label}: ${reason}`]);
    }
    throw err;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    const got = Array.isArray(data) ? 'a list' : data === null ? 'an empty document' : `a ${typeof data}`;
    throw new ConfigError(`${label}: expected a mapping of config sections, got ${got}`, [
      `${label}: expected a mapping of config sections`,
    ]);
  }
  return data as Record<string, unknown>;
}

/** Reads and validates a `.json`, `.yaml` or `.yml` config file (see readTrainConfigFile). */
export function loadTrainConfig(path: string): TrainConfig {
  return parseTrainConfig(readTrainConfigFile(path), path);
}

/** Flags of the original `scripts/train_smart_iqa.py` / `train_hyperiqa.py`, by their argparse dest. */
export interface OriginalFlags {
  dataset?: string;
  train_patch_num?: number;
  test_patch_num?: number;
  lr?: number;
  weight_decay?: number;
  lr_ratio?: number;
  batch_size?: number;
  epochs?: number;
  patch_size?: number;
  train_test_num?: number;
  ranking_loss_alpha?: number;
  ranking_loss_margin?: number;
  loss_type?: 'l1' | 'l2' | 'srcc' | 'rank' | 'pairwise';
  patience?: number;
  early_stopping?: boolean;
  use_multiscale?: boolean;
  drop_path_rate?: number;
  dropout_rate?: number;
  model_size?: 'tiny' | 'small' | 'base';
  lr_scheduler?: 'cosine' | 'step' | 'none';
  use_lr_scheduler?: boolean;
}

/** Maps the original's dataset names onto @iqa-bench/data adapter keys. */
const ORIGINAL_DATASETS: Record<string, TrainConfig['dataset']['kind']> = {
  'koniq-10k': 'koniq10k',
  livec: 'livec',
  live: 'live',
  csiq: 'csiq',
  tid2013: 'tid2013',
};

export interface FromOriginalOptions {
  /** Which script's defaults apply: `smart` = train_smart_iqa.py (HEAD), `hyperiqa` = train_hyperiqa.py / SSL92. */
  script?: 'smart' | 'hyperiqa';
  /** Dataset root folder (the original hard-codes it). */
  root: string;
  seed?: number;
  backend?: TrainConfig['backend'];
  microBatchSize?: number;
}

/**
 * The config the original script would run for `flags` (argparse dests; unspecified flags take the script's
 * defaults). It reproduces what the code did, not what its help text or the paper say:
 * clip_grad_norm 1.0 (SMART), attention fusion always on, random test crops (SMART), no colour jitter,
 * cosine eta_min = 1e-6 absolute for every group (above the backbone's 5e-7, so its LR rises), selection and early
 * stopping on the test set, native MOS labels, the 512x384 (H, W) resize (`seed` preprocessing).
 * Not reproduced (bugs of the original): the step schedule's optimizer rebuild that empties the HyperNet group and resets
 * the moments every epoch; the step schedule here decays the head group only (SMART) or all groups (HyperIQA).
 */
export function fromOriginalFlags(flags: OriginalFlags, opts: FromOriginalOptions): TrainConfig {
  const script = opts.script ?? 'smart';
  const smart = script === 'smart';
  const f = {
    dataset: smart ? 'koniq-10k' : 'livec',
    train_patch_num: smart ? 20 : 25,
    test_patch_num: smart ? 20 : 25,
    lr: smart ? 5e-7 : 2e-5,
    weight_decay: smart ? 2e-4 : 5e-4,
    lr_ratio: 10,
    batch_size: smart ? 32 : 96,
    epochs: smart ? 10 : 16,
    patch_size: 224,
    train_test_num: 10,
    ranking_loss_alpha: 0,
    ranking_loss_margin: 0.1,
    loss_type: 'l1' as const,
    patience: 5,
    early_stopping: true,
    use_multiscale: true,
    drop_path_rate: 0.3,
    dropout_rate: 0.4,
    model_size: 'base' as const,
    lr_scheduler: smart ? ('cosine' as const) : ('step' as const),
    use_lr_scheduler: true,
    ...flags,
  };
  if (!Number.isInteger(f.lr_ratio)) {
    throw new ConfigError(`flags.lr_ratio: the original parses it as int, got ${f.lr_ratio}`, [
      'flags.lr_ratio',
    ]);
  }
  const kind = ORIGINAL_DATASETS[f.dataset];
  if (kind === undefined) {
    throw new ConfigError(
      `flags.dataset: expected one of ${Object.keys(ORIGINAL_DATASETS).join(', ')}, got '${f.dataset}'`,
      ['flags.dataset'],
    );
  }
  const lossKind = { l1: 'l1', l2: 'l2', srcc: 'plcc', rank: 'rank', pairwise: 'fidelity' } as const;
  let schedule: TrainConfigInput['schedule'];
  if (!f.use_lr_scheduler || f.lr_scheduler === 'none') schedule = { kind: 'constant' };
  else if (f.lr_scheduler === 'cosine') schedule = { kind: 'cosine', etaMin: 1e-6, etaMinMode: 'absolute' };
  else schedule = { kind: 'step', stepSize: 6, gamma: 0.1, groups: smart ? 'head' : 'all' };

  const input: TrainConfigInput = {
    seed: opts.seed ?? 42,
    backend: opts.backend ?? 'wasm',
    dataset: {
      kind,
      root: opts.root,
      splitManifest: null,
      shippedSplit: kind === 'koniq10k' ? 'seed-json' : null,
      split: { train: 0.8, val: 0 },
      selectOn: 'test',
      labels: 'native',
      preprocess: 'seed',
    },
    model: smart
      ? {
          preset: `smart-iqa-${f.model_size}`,
          dropPathRate: f.drop_path_rate,
          dropoutRate: f.dropout_rate,
          fusion: f.use_multiscale ? 'attention' : 'single',
        }
      : { preset: 'hyperiqa-resnet50' },
    optimizer: {
      kind: smart ? 'adamw' : 'adam',
      lr: f.lr,
      lrRatio: f.lr_ratio,
      weightDecay: f.weight_decay,
      betas: [0.9, 0.999],
      eps: 1e-8,
      clipGradNorm: smart ? 1.0 : null,
      backbonePrefixes: smart ? ['swin.'] : ['res.'],
    },
    schedule,
    loss: {
      kind: smart ? lossKind[f.loss_type] : 'l1',
      alpha: smart ? f.ranking_loss_alpha : 0,
      margin: f.ranking_loss_margin,
      fidelityLabelScale: 1,
      fidelitySigma: 0.1,
    },
    patches: { train: f.train_patch_num, test: f.test_patch_num, size: f.patch_size },
    augmentation: { hflip: true, testCrop: smart ? 'random' : 'center', colorJitter: false },
    earlyStopping: { enabled: f.early_stopping, metric: 'srcc', patience: f.patience, minDelta: 0 },
    memory: { microBatchSize: opts.microBatchSize ?? 4, activationCheckpointing: smart },
    training: { epochs: f.epochs, batchSize: f.batch_size, rounds: f.train_test_num },
  };
  if (
    input.memory &&
    input.training &&
    (input.memory.microBatchSize ?? 0) > (input.training.batchSize ?? 0)
  ) {
    input.memory.microBatchSize = input.training.batchSize;
  }
  return parseTrainConfig(input, 'original flags');
}
