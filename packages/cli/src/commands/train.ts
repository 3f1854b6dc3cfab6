import type { RunSummary, TrainingCheck } from '@iqa-bench/train';
import {
  ConfigError,
  configField,
  fromOriginalFlags,
  parseTrainConfig,
  readTrainConfigFile,
  type TrainConfig,
  type TrainConfigInput,
} from '@iqa-bench/train/config';
import { getPath, setPath } from '@iqa-bench/core/text';
import { Command, Option } from 'commander';
import type { Ctx } from '../context.js';
import type { DatasetSpec } from '../dataset-spec.js';
import { collectDataset } from '../dataset-spec.js';
import { CliError } from '../errors.js';
import { PRESET_FACTS, presetNames, resolvePreset } from '../models.js';
import type { CommonFlags, Output } from '../io.js';
import { commonOptions, examples, numberIn } from '../options.js';
import { SYNTHETIC_EPOCHS, syntheticRecipe } from '../recipes.js';
import { renderText } from '../table.js';
import { num } from '../table.js';

/** A flag that sets one field of the training config. */
interface ConfigFlag {
  /** Commander's flag syntax: `--lr <x>`, `--checkpointing` (a boolean field), `--no-early-stopping` (sets false). */
  flag: string;
  /** The field's path in the config (`optimizer.lr`). */
  path: string;
  /** Help text when the field's own description does not fit the flag (a negated flag). */
  description?: string;
}

/**
 * The flags that set config fields. Everything else about them comes from the config schema through `configField`:
 * the argument parser (choices, integer, bounds), the help text, their types (`ConfigFlagValues`) and how they
 * override the config (`applyConfigFlags`).
 */
const CONFIG_FLAGS = [
  { flag: '--split-manifest <file>', path: 'dataset.splitManifest' },
  { flag: '--shipped-split <name>', path: 'dataset.shippedSplit' },
  { flag: '--select-on <part>', path: 'dataset.selectOn' },
  { flag: '--preprocess <preset>', path: 'dataset.preprocess' },
  { flag: '--labels <scale>', path: 'dataset.labels' },
  { flag: '--model <preset>', path: 'model.preset' },
  { flag: '--init-weights <file>', path: 'model.initWeights' },
  { flag: '--epochs <n>', path: 'training.epochs' },
  { flag: '--batch-size <n>', path: 'training.batchSize' },
  { flag: '--rounds <n>', path: 'training.rounds' },
  { flag: '--optimizer <kind>', path: 'optimizer.kind' },
  { flag: '--lr <x>', path: 'optimizer.lr' },
  { flag: '--lr-ratio <x>', path: 'optimizer.lrRatio' },
  { flag: '--weight-decay <x>', path: 'optimizer.weightDecay' },
  { flag: '--schedule <kind>', path: 'schedule.kind' },
  { flag: '--loss <kind>', path: 'loss.kind' },
  { flag: '--train-patches <n>', path: 'patches.train' },
  { flag: '--test-patches <n>', path: 'patches.test' },
  { flag: '--test-crop <mode>', path: 'augmentation.testCrop' },
  { flag: '--patience <n>', path: 'earlyStopping.patience' },
  {
    flag: '--no-early-stopping',
    path: 'earlyStopping.enabled',
    description: 'run every epoch (no early stopping)',
  },
  { flag: '--micro-batch <n>', path: 'memory.microBatchSize' },
  { flag: '--checkpointing', path: 'memory.activationCheckpointing' },
  { flag: '--workers <n>', path: 'memory.workers' },
  { flag: '--seed <n>', path: 'seed' },
  { flag: '--backend <name>', path: 'backend' },
] as const satisfies readonly ConfigFlag[];

type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
/** Commander's attribute name of a flag (`--lr-ratio <x>` → `lrRatio`, `--no-early-stopping` → `earlyStopping`). */
type AttributeOf<F extends string> = F extends `--no-${infer N}`
  ? Camel<N>
  : F extends `--${infer N} <${string}>`
    ? Camel<N>
    : F extends `--${infer N}`
      ? Camel<N>
      : never;
/** The type of the config field at a dotted path (what a user may write, `srcc` as a loss included). */
type ValueAt<T, P extends string> = P extends `${infer K}.${infer R}`
  ? ValueAt<NonNullable<T>[K & keyof NonNullable<T>], R>
  : NonNullable<T>[P & keyof NonNullable<T>];
/** The parsed values of CONFIG_FLAGS, typed by their config fields. */
type ConfigFlagValues = {
  [F in (typeof CONFIG_FLAGS)[number] as AttributeOf<F['flag']>]?: Exclude<
    ValueAt<TrainConfigInput, F['path']>,
    null | undefined
  >;
};

type TrainFlags = CommonFlags &
  ConfigFlagValues & {
    config?: string;
    recipe?: 'original-smart' | 'original-hyperiqa' | 'synthetic';
    dataset?: DatasetSpec[];
    out?: string;
    dryRun?: boolean;
    force?: boolean;
  };

type Json = Record<string, unknown>;

/** The commander option of a config flag, its parser and help derived from the config field. */
function configOption(f: ConfigFlag): Option {
  const field = configField(f.path);
  const option = new Option(f.flag, f.description ?? field.description ?? '');
  if ((field.type === 'boolean') !== (option.required === false && option.optional === false)) {
    throw new Error(`${f.flag}: the config field ${f.path} is a ${field.type}`);
  }
  if (field.type === 'choice') option.choices(field.choices ?? []);
  else if (field.type === 'number') option.argParser(numberIn(field));
  return option;
}

/**
 * Writes the config flags that were given over `input`. A negated flag (`--no-early-stopping`) counts only when given
 * (commander defaults it to true); a new value of a section's variant (`--schedule step` over a cosine schedule)
 * starts that section over, since its other fields belong to the old variant.
 */
function applyConfigFlags(input: Json, flags: TrainFlags): void {
  const values = flags as Record<string, unknown>;
  for (const f of CONFIG_FLAGS) {
    const option = new Option(f.flag);
    const value = values[option.attributeName()];
    if (value === undefined || (option.negate && value !== false)) continue;
    if (configField(f.path).discriminator) {
      const keys = f.path.split('.');
      const section = keys.slice(0, -1).join('.');
      if (getPath(input, f.path) !== value) setPath(input, section, { [keys[keys.length - 1]]: value });
    } else {
      setPath(input, f.path, value);
    }
  }
}

/** Reads --config with @iqa-bench/train's reader (bounded, plain data, errors with line and column). */
function readConfigFile(out: Output, file: string): Json {
  try {
    return readTrainConfigFile(out.path(file), file);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`--config ${err.message}`);
    throw err;
  }
}

/** The config file (or recipe), with the flags on top, validated by @iqa-bench/train. */
async function resolveConfig(out: Output, flags: TrainFlags): Promise<TrainConfig> {
  let input: Json = {};
  const sources: string[] = [];
  if (flags.config) {
    input = readConfigFile(out, flags.config);
    sources.push(flags.config);
  }
  const ds = flags.dataset ?? [];
  if (ds.length > 1) throw new CliError(`--dataset: train takes one dataset, got ${ds.length}`);
  if (flags.recipe) {
    const root = ds[0]?.path;
    if (root === undefined) throw new CliError(`--recipe ${flags.recipe}: needs --dataset <key>=<path>`);
    // The recipe's settings, then the config file and flags on top. original-*: what the original scripts' code ran.
    const base =
      flags.recipe === 'synthetic'
        ? syntheticRecipe(root, {
            seed: flags.seed ?? 1,
            epochs: SYNTHETIC_EPOCHS,
            backend: flags.backend ?? 'wasm',
          })
        : fromOriginalFlags({}, { root, script: flags.recipe === 'original-smart' ? 'smart' : 'hyperiqa' });
    input = deepMerge(structuredClone(base) as unknown as Json, input);
    sources.unshift(flags.recipe);
  }
  if (ds[0] !== undefined) {
    setPath(input, 'dataset.kind', ds[0].key);
    setPath(input, 'dataset.root', ds[0].path);
  }
  applyConfigFlags(input, flags);
  resolveModelName(input);
  if (typeof (input.dataset as Json | undefined)?.root === 'string') {
    setPath(input, 'dataset.root', out.path((input.dataset as Json).root as string));
  }
  try {
    return parseTrainConfig(input, [...sources, 'flags'].join(' + '));
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new CliError(
        `invalid training config (${[...sources, 'flags'].join(' + ')}):\n${err.problems.join('\n')}`,
      );
    }
    throw err;
  }
}

/** Lower case, `-` and `_` alike, as resolvePreset compares names. */
const fold = (name: string) => name.trim().toLowerCase().replace(/_/g, '-');

/**
 * The preset a mistyped name most likely means: the one with a name (preset, backbone name or alias) that shares the
 * longest start with it, when that start leaves at most 2 of its characters out and no other preset shares as much
 * (`smart-iqa-tin` → smart-iqa-tiny, `resnet5` → hyperiqa-resnet50).
 */
export function suggestPreset(name: string): string | undefined {
  const n = fold(name);
  const common = (a: string) => {
    let i = 0;
    while (i < a.length && i < n.length && a[i] === n[i]) i++;
    return i;
  };
  let best: { preset: string; len: number } | undefined;
  let tie = false;
  for (const preset of Object.keys(PRESET_FACTS) as (keyof typeof PRESET_FACTS)[]) {
    const len = Math.max(...presetNames(preset).map((x) => common(fold(x))));
    if (best === undefined || len > best.len) {
      best = { preset, len };
      tie = false;
    } else if (len === best.len) tie = true;
  }
  return best !== undefined && !tie && best.len >= Math.max(3, n.length - 2) ? best.preset : undefined;
}

/**
 * `model.preset` as a preset name: a backbone name or alias (`swin_tiny_patch4_window7_224`, `micro`) becomes its
 * preset; an unknown name is refused with the nearest preset.
 */
function resolveModelName(input: Json): void {
  const name = getPath(input, 'model.preset');
  if (typeof name !== 'string' || name === '') return;
  const preset = resolvePreset(name);
  if (preset !== undefined) {
    setPath(input, 'model.preset', preset);
    return;
  }
  const near = suggestPreset(name);
  throw new CliError(
    `--model ${name}: no such model preset; expected one of ${Object.keys(PRESET_FACTS).join(', ')} (or an alias: iqa-bench models lists them)${near ? `; did you mean "${near}"?` : ''}`,
    undefined,
    { flag: '--model' },
  );
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
    .option('--dataset <key=path>', 'the dataset to train on, e.g. kadid10k=/data/kadid10k', collectDataset);
  for (const f of CONFIG_FLAGS) cmd.addOption(configOption(f));
  cmd
    .option('--out <dir>', 'the run folder (default: runs/<dataset>-<model>-seed<seed>)')
    .option(
      '--dry-run',
      'check everything the run would check before its first step (model, dataset and split of every round, run folder, backend), print the resolved config and stop',
    )
    .option(
      '--force',
      'start over in --out: discard the run it holds (its config.json, metrics.jsonl, summary.json, checkpoints/ and round-*/; other files stay) instead of resuming or refusing it',
    );
  commonOptions(cmd, false).option('--json', 'print summary.json on stdout');
  examples(cmd, [
    'iqa-bench train --dataset kadid10k=synth --model smart-iqa-micro --epochs 3 --batch-size 8 --seed 1 --out runs/synth',
    'iqa-bench train --config configs/koniq-tiny.yaml --seed 2 --out runs/koniq-tiny-s2',
    'iqa-bench train --recipe original-smart --dataset koniq10k=/data/koniq10k --shipped-split official --model smart-iqa-base',
    'iqa-bench train --config run.yaml --dry-run --json',
    'iqa-bench train --config run.yaml --out runs/a --force',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: TrainFlags) => {
      const config = await resolveConfig(out, flags);
      const outName = flags.out ?? `runs/${config.dataset.kind}-${config.model.preset}-seed${config.seed}`;
      const runDir = out.path(outName);
      const t = await import('@iqa-bench/train');
      const refused = (err: unknown): never => {
        if (err instanceof t.RunConflictError) {
          throw new CliError(
            `--out ${outName}: the run folder holds a run of a different config (${err.reason}); use another --out, or --force to start over (discarding that run)`,
            undefined,
            { flag: '--out', cause: err },
          );
        }
        if (err instanceof ConfigError) {
          throw new CliError(`invalid training config: ${err.problems.join('; ')}`, undefined, {
            cause: err,
          });
        }
        throw err;
      };
      if (flags.dryRun) {
        const check = await t.checkTraining(config, runDir, { startOver: flags.force }).catch(refused);
        out.log(dryRunText(check, outName));
        out.io.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
        return;
      }
      if (!out.flags.verbose) (await import('@tensorflow/tfjs')).env().set('PROD', true);
      const mode = out.flags.quiet ? 'quiet' : out.io.stderr.isTTY ? 'bar' : 'plain';
      out.log(
        `training ${config.model.preset} on ${config.dataset.kind} (${config.dataset.root}), seed ${config.seed}, backend ${config.backend} → ${runDir}`,
      );
      const summary = await t
        .runTraining(config, runDir, {
          progress: t.createProgress({ mode, stream: out.io.stderr as NodeJS.WriteStream }),
          startOver: flags.force,
        })
        .catch(refused);
      out.result(summary, () => summaryText(summary, flags.out ?? runDir));
    }),
  );
}

/** What a dry run found: what the run would do with its folder, the backend, the model, each round's data and steps. */
function dryRunText(c: TrainingCheck, outName: string): string {
  const folder = {
    create: `would create ${outName}`,
    fresh: `would start in ${outName}`,
    resume: `would resume the run in ${outName}`,
    'start-over': `would discard the run in ${outName} and start over (--force)`,
  }[c.folder];
  const rounds = c.rounds.map((r) => {
    const small = r.smallLastBatch
      ? `, the last batch of ${r.smallLastBatch.size} ${r.smallLastBatch.action === 'merge' ? 'merged into the one before' : 'dropped'}`
      : '';
    return `round ${r.round}: ${r.n.train} train / ${r.n.select} select / ${r.n.test ?? '–'} test images, ${r.stepsPerEpoch} steps per epoch${small}`;
  });
  return [
    `dry run: everything checked; ${folder}; backend ${c.backend.name}; ${c.model.preset} (${(c.model.params / 1e6).toFixed(2)} M parameters)`,
    ...rounds,
  ].join('\n');
}
