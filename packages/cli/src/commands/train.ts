import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { RunSummary, TrainConfig } from '@iqa-bench/train';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { Ctx } from '../context.js';
import type { DatasetSpec } from '../dataset-spec.js';
import { collectDataset } from '../dataset-spec.js';
import { CliError } from '../errors.js';
import type { CommonFlags, Output } from '../io.js';
import { commonOptions, examples, nonNegativeInt, nonNegativeNumber, positiveInt } from '../options.js';
import { SYNTHETIC_EPOCHS, syntheticRecipe } from '../recipes.js';
import { renderText } from '../table.js';
import { num } from '../table.js';

interface TrainFlags extends CommonFlags {
  config?: string;
  recipe?: 'original-smart' | 'original-hyperiqa' | 'synthetic';
  dataset?: DatasetSpec[];
  splitManifest?: string;
  shippedSplit?: string;
  selectOn?: 'val' | 'test';
  preprocess?: 'seed' | 'native' | 'none';
  labels?: 'native' | 'normalized';
  model?: string;
  initWeights?: string;
  epochs?: number;
  batchSize?: number;
  rounds?: number;
  optimizer?: 'adamw' | 'adam';
  lr?: number;
  lrRatio?: number;
  weightDecay?: number;
  schedule?: 'cosine' | 'step' | 'constant';
  loss?: string;
  trainPatches?: number;
  testPatches?: number;
  testCrop?: 'random' | 'center';
  patience?: number;
  earlyStopping?: boolean;
  microBatch?: number;
  checkpointing?: boolean;
  workers?: number;
  seed?: number;
  backend?: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
}

type Json = Record<string, unknown>;

const MAX_CONFIG_BYTES = 1 << 20;

/** Reads a config file as plain data (JSON, or YAML without custom tags), before validation. */
async function readConfigInput(file: string, label: string): Promise<Json> {
  const ext = extname(file).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(ext))
    throw new CliError(`--config ${label}: expected a .json, .yaml or .yml file`);
  let text: string;
  try {
    const s = await stat(file);
    if (s.size > MAX_CONFIG_BYTES)
      throw new CliError(`--config ${label}: ${s.size} bytes, expected at most ${MAX_CONFIG_BYTES}`);
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(
      `--config ${label}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  let data: unknown;
  try {
    data = ext === '.json' ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new CliError(
      `--config ${label}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new CliError(`--config ${label}: expected a mapping of config sections`);
  return data as Json;
}

/** Sets `obj.a.b.c = value`, creating the sections on the way. */
function setPath(obj: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    const next = o[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) o[k] = {};
    o = o[k] as Json;
  }
  o[keys[keys.length - 1]] = value;
}

/** The flags that override config fields, as (flag value, config path). */
function overrides(flags: TrainFlags): [unknown, string][] {
  const ds = flags.dataset ?? [];
  if (ds.length > 1) throw new CliError(`--dataset: train takes one dataset, got ${ds.length}`);
  return [
    [ds[0]?.key, 'dataset.kind'],
    [ds[0]?.path, 'dataset.root'],
    [flags.splitManifest, 'dataset.splitManifest'],
    [flags.shippedSplit, 'dataset.shippedSplit'],
    [flags.selectOn, 'dataset.selectOn'],
    [flags.preprocess, 'dataset.preprocess'],
    [flags.labels, 'dataset.labels'],
    [flags.model, 'model.preset'],
    [flags.initWeights, 'model.initWeights'],
    [flags.epochs, 'training.epochs'],
    [flags.batchSize, 'training.batchSize'],
    [flags.rounds, 'training.rounds'],
    [flags.optimizer, 'optimizer.kind'],
    [flags.lr, 'optimizer.lr'],
    [flags.lrRatio, 'optimizer.lrRatio'],
    [flags.weightDecay, 'optimizer.weightDecay'],
    [flags.loss, 'loss.kind'],
    [flags.trainPatches, 'patches.train'],
    [flags.testPatches, 'patches.test'],
    [flags.testCrop, 'augmentation.testCrop'],
    [flags.patience, 'earlyStopping.patience'],
    [flags.earlyStopping === false ? false : undefined, 'earlyStopping.enabled'],
    [flags.microBatch, 'memory.microBatchSize'],
    [flags.checkpointing, 'memory.activationCheckpointing'],
    [flags.workers, 'memory.workers'],
    [flags.seed, 'seed'],
    [flags.backend, 'backend'],
  ];
}

/** The config file (or recipe), with the flags on top, validated by @iqa-bench/train. */
async function resolveConfig(out: Output, flags: TrainFlags): Promise<TrainConfig> {
  const t = await import('@iqa-bench/train');
  let input: Json = {};
  const sources: string[] = [];
  if (flags.config) {
    input = await readConfigInput(out.path(flags.config), flags.config);
    sources.push(flags.config);
  }
  if (flags.recipe) {
    const root = flags.dataset?.[0]?.path;
    if (root === undefined) throw new CliError(`--recipe ${flags.recipe}: needs --dataset <key>=<path>`);
    // The recipe's settings, then the config file and flags on top. original-*: what the original scripts' code ran.
    const base =
      flags.recipe === 'synthetic'
        ? syntheticRecipe(root, {
            seed: flags.seed ?? 1,
            epochs: SYNTHETIC_EPOCHS,
            backend: flags.backend ?? 'wasm',
          })
        : t.fromOriginalFlags({}, { root, script: flags.recipe === 'original-smart' ? 'smart' : 'hyperiqa' });
    input = deepMerge(structuredClone(base) as unknown as Json, input);
    sources.unshift(flags.recipe);
  }
  for (const [value, path] of overrides(flags)) if (value !== undefined) setPath(input, path, value);
  if (flags.schedule !== undefined && (input.schedule as Json | undefined)?.kind !== flags.schedule) {
    input.schedule = { kind: flags.schedule };
  }
  if (typeof (input.dataset as Json | undefined)?.root === 'string') {
    setPath(input, 'dataset.root', out.path((input.dataset as Json).root as string));
  }
  try {
    return t.parseTrainConfig(input, [...sources, 'flags'].join(' + '));
  } catch (err) {
    if (err instanceof t.ConfigError) {
      throw new CliError(
        `invalid training config (${[...sources, 'flags'].join(' + ')}):\n${err.problems.join('\n')}`,
      );
    }
    throw err;
  }
}

function deepMerge(base: Json, over: Json): Json {
  for (const [k, v] of Object.entries(over)) {
    const b = base[k];
    if (
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      typeof b === 'object' &&
      b !== null &&
      !Array.isArray(b)
    ) {
      base[k] = deepMerge(b as Json, v as Json);
    } else base[k] = v;
  }
  return base;
}

function lossKind(value: string): string {
  const kinds = ['l1', 'l2', 'plcc', 'srcc', 'rank', 'fidelity', 'spearman'];
  if (!kinds.includes(value)) throw new InvalidArgumentError(`expected one of ${kinds.join(', ')}.`);
  return value;
}

function summaryText(s: RunSummary, runDir: string): string {
  const rows = Object.entries(s.metrics).map(([m, v]) => [
    m,
    num(v.best),
    s.rounds > 1 ? `${num(v.bestStats.q1)} – ${num(v.bestStats.q3)}` : '',
    num(v.final),
  ]);
  const table = renderText({
    columns: [
      { header: `metric (${s.reportedPart}, n ${s.reportedPart === 'test' ? s.n.test : s.n.select})` },
      { header: s.rounds > 1 ? `best epoch (median of ${s.rounds})` : 'best epoch', align: 'right' },
      ...(s.rounds > 1 ? [{ header: 'IQR', align: 'right' as const }] : []),
      { header: 'last epoch', align: 'right' },
    ],
    rows: s.rounds > 1 ? rows : rows.map((r) => [r[0], r[1], r[3]]),
  });
  return `${table}\n\n${s.dataset.kind} (${s.n.train} train / ${s.n.select} ${s.dataset.selectOn} / ${s.n.test ?? '–'} test images), seed ${s.seed}, ${s.wallSeconds.toFixed(0)} s; run folder ${runDir} (summary.json, metrics.jsonl, round-*/best.safetensors)`;
}

export function trainCommand(ctx: Ctx): Command {
  const cmd = new Command('train')
    .summary('seeded, deterministic, resumable training into a run folder')
    .description(
      'Train a model: a config file (JSON or YAML, the @iqa-bench/train schema) and/or flags, flags winning. The same ' +
        'config and seed give the same numbers bit for bit on the same backend. The run folder (--out) gets ' +
        'config.json, metrics.jsonl, summary.json (what check and report read) and round-*/best.safetensors; rerun ' +
        'the same command to resume a killed run exactly where its last checkpoint left it.',
    )
    .option('--config <file>', 'training config (.json, .yaml, .yml); flags override its fields')
    .addOption(
      new Option(
        '--recipe <name>',
        "start from a recipe: the original scripts' settings (train_smart_iqa.py / train_hyperiqa.py), or synthetic (the demo's and the CI gate's small HyperIQA)",
      ).choices(['original-smart', 'original-hyperiqa', 'synthetic']),
    )
    .option('--dataset <key=path>', 'the dataset to train on, e.g. kadid10k=/data/kadid10k', collectDataset)
    .option(
      '--split-manifest <file>',
      'a split manifest (iqa-bench datasets split); else a seeded random split',
    )
    .option('--shipped-split <name>', 'a split the dataset ships (official, seed-json)')
    .addOption(
      new Option('--select-on <part>', 'the part that selects the best epoch').choices(['val', 'test']),
    )
    .addOption(new Option('--preprocess <preset>', 'resize preset').choices(['seed', 'native', 'none']))
    .addOption(
      new Option('--labels <scale>', 'train on native or [0, 1] normalised scores').choices([
        'native',
        'normalized',
      ]),
    )
    .option(
      '--model <preset>',
      'model preset (smart-iqa-tiny, smart-iqa-small, smart-iqa-base, hyperiqa-resnet50, smart-iqa-micro)',
    )
    .option(
      '--init-weights <file>',
      'ImageNet backbone weights (timm Swin / torchvision ResNet .pth or .safetensors) or a checkpoint',
    )
    .option('--epochs <n>', 'epochs per round', positiveInt)
    .option('--batch-size <n>', 'images per optimizer step', positiveInt)
    .option('--rounds <n>', 'independent rounds (median and IQR reported)', positiveInt)
    .addOption(
      new Option('--optimizer <kind>', 'adamw (decoupled decay) or adam (L2, original HyperIQA)').choices([
        'adamw',
        'adam',
      ]),
    )
    .option('--lr <x>', 'backbone learning rate', nonNegativeNumber)
    .option('--lr-ratio <x>', 'head learning rate = lr × ratio', nonNegativeNumber)
    .option('--weight-decay <x>', 'weight decay', nonNegativeNumber)
    .addOption(
      new Option('--schedule <kind>', 'learning-rate schedule').choices(['cosine', 'step', 'constant']),
    )
    .option('--loss <kind>', 'l1, l2, plcc (alias srcc), rank, fidelity, spearman', lossKind)
    .option('--train-patches <n>', 'crops of each training image per epoch', positiveInt)
    .option('--test-patches <n>', 'crops per evaluated image', positiveInt)
    .addOption(new Option('--test-crop <mode>', 'evaluation crops').choices(['random', 'center']))
    .option('--patience <n>', 'early-stopping patience (epochs)', positiveInt)
    .option('--no-early-stopping', 'run every epoch')
    .option(
      '--micro-batch <n>',
      'images per forward/backward pass (gradients accumulated to --batch-size)',
      positiveInt,
    )
    .option('--checkpointing', 'per-block activation checkpointing (less memory, more compute)')
    .option(
      '--workers <n>',
      'worker threads computing micro-batches in parallel (results bit-identical for any count; wasm: one core each)',
      positiveInt,
    )
    .option('--seed <n>', 'run seed: every random draw derives from it', nonNegativeInt)
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend').choices(['auto', 'tensorflow', 'wasm', 'cpu']),
    )
    .option('--out <dir>', 'the run folder (default: runs/<dataset>-<model>-seed<seed>)')
    .option('--dry-run', 'print the resolved config and stop');
  commonOptions(cmd, false).option('--json', 'print summary.json on stdout');
  examples(cmd, [
    'iqa-bench train --dataset kadid10k=synth --model smart-iqa-micro --epochs 3 --batch-size 8 --seed 1 --out runs/synth',
    'iqa-bench train --config configs/koniq-tiny.yaml --seed 2 --out runs/koniq-tiny-s2',
    'iqa-bench train --recipe original-smart --dataset koniq10k=/data/koniq10k --shipped-split official --model smart-iqa-base',
    'iqa-bench train --config run.yaml --dry-run --json',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: TrainFlags & { dryRun?: boolean }) => {
      const config = await resolveConfig(out, flags);
      if (flags.dryRun) {
        out.io.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
        return;
      }
      const runDir = out.path(
        flags.out ?? `runs/${config.dataset.kind}-${config.model.preset}-seed${config.seed}`,
      );
      const t = await import('@iqa-bench/train');
      if (!out.flags.verbose) (await import('@tensorflow/tfjs')).env().set('PROD', true);
      const mode = out.flags.quiet ? 'quiet' : out.io.stderr.isTTY ? 'bar' : 'plain';
      out.log(
        `training ${config.model.preset} on ${config.dataset.kind} (${config.dataset.root}), seed ${config.seed}, backend ${config.backend} → ${runDir}`,
      );
      const summary = await t.runTraining(config, runDir, {
        progress: t.createProgress({ mode, stream: out.io.stderr as NodeJS.WriteStream }),
      });
      out.result(summary, () => summaryText(summary, flags.out ?? runDir));
    }),
  );
}
