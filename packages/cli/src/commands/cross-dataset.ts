import { relative } from 'node:path';
import type { IqaDataset, IqaImage, ResizePresetName } from '@iqa-bench/data';
import { defaultPreset, partImages, readSplitManifest, shippedSplit } from '@iqa-bench/data';
import { Command } from 'commander';
import type { Ctx } from '../context.js';
import type { DatasetSpec } from '../dataset-spec.js';
import { CliError, describeError } from '../errors.js';
import { datasetResult, meanCounts, meanMetrics } from '../evaluation.js';
import type { ModelLimitFlags } from '../model-limits.js';
import { modelLimitOptions, modelLimits } from '../model-limits.js';
import type { CommonFlags, Output } from '../io.js';
import { commonOptions, examples } from '../options.js';
import { resultNotes, resultTable } from '../report/sections.js';
import type { DatasetResult, MetricName, ResultFile } from '@iqa-bench/metrics';
import { RESULT_SCHEMA } from '@iqa-bench/metrics';
import type { LoadedResult } from '../result.js';
import type { OpenedScorer, ScoreFlags } from '../scoring.js';
import { openScorer, scoreMany, scoreOptions } from '../scoring.js';
import { renderText } from '../table.js';
import { VERSION } from '../version.js';
import type { DatasetFlags } from './dataset-options.js';
import { datasetOptions, datasetSpecs, loadSpec } from './dataset-options.js';

interface EvalFlags extends CommonFlags, ScoreFlags, DatasetFlags, ModelLimitFlags {
  checkpoint: string;
  split?: string;
  part?: string;
  predictions: boolean;
}

/** Scores every image of a dataset part and evaluates the scores against its ground truth (also used by demo). */
export async function evaluateImages(
  out: Output,
  opened: OpenedScorer,
  spec: DatasetSpec,
  ds: IqaDataset,
  images: readonly IqaImage[],
  split: string,
  flags: Pick<ScoreFlags, 'preprocess'> & { predictions: boolean },
): Promise<DatasetResult> {
  if (images.length < 2)
    throw new CliError(
      `${spec.name}: ${images.length} image(s) to evaluate; at least 2 are needed for a correlation`,
    );
  const preset: ResizePresetName = flags.preprocess ?? defaultPreset(ds.key);
  const outcomes = await scoreMany(
    out,
    opened.scorer,
    images.map((im) => ({ path: im.path, id: im.id, preset })),
    spec.name,
  );
  const score = outcomes.map((o, i) => {
    if (o.score) return o.score.score;
    const msg = describeError(o.error);
    throw new CliError(msg.includes(images[i].path) ? msg : `${images[i].path}: ${msg}`, 2, {
      cause: o.error,
    });
  });
  const d = datasetResult(
    spec.name,
    { image: images.map((i) => i.id), score, mos: images.map((i) => i.score) },
    {
      key: ds.key,
      path: spec.path,
      split,
      lowerIsBetter: ds.scale.direction === 'lower-better',
      keepPredictions: flags.predictions,
    },
  );
  out.log(
    `${spec.name}: ${images.length} images (${preset} preprocessing), SRCC ${d.metrics.srcc?.toFixed(4) ?? '–'}`,
  );
  return d;
}

/** The images of `--split` / `--part` (default: the whole dataset). */
async function selectPart(
  out: Output,
  ds: IqaDataset,
  flags: EvalFlags,
): Promise<{ images: IqaImage[]; split: string }> {
  const part = flags.part ?? (flags.split ? 'test' : 'all');
  if (!flags.split) {
    if (part !== 'all')
      throw new CliError(`--part ${part}: needs --split (a manifest file or a shipped split name)`);
    return { images: ds.images, split: 'all' };
  }
  const isFile = /\.json$/i.test(flags.split);
  const split = isFile ? await readSplitManifest(out.path(flags.split), ds) : shippedSplit(ds, flags.split);
  const label = isFile ? relative(out.io.cwd, out.path(flags.split)) : flags.split;
  return { images: partImages(ds, split, part), split: `${label}:${part}` };
}

/**
 * The result file of cross-dataset and eval: iqa-bench/result@1, plus what a reader of the numbers must know — how many
 * datasets each mean covers (`meanOver`) and the notes printed under the table (`notes`: the reason for every
 * missing metric, a logistic that reverses the sign, raw errors on another scale than MOS).
 */
type EvalResult = ResultFile & { meanOver?: Partial<Record<MetricName, number>>; notes: string[] };

function loaded(result: ResultFile): LoadedResult {
  return {
    file: '',
    format: 'iqa-bench-result',
    datasets: result.datasets,
    ...(result.mean ? { mean: result.mean } : {}),
  };
}

function resultText(result: EvalResult): string {
  const table = renderText(resultTable(loaded(result)));
  return result.notes.length > 0 ? `${table}\n\n${result.notes.join('\n')}` : table;
}

async function run(out: Output, flags: EvalFlags, kind: 'cross-dataset' | 'eval'): Promise<void> {
  out.checkOutExtension(['.json']);
  const specs = datasetSpecs(flags, kind === 'eval' ? 'one' : 'some');
  // Every dataset and split is read and checked before the model is loaded: bad input fails fast.
  const datasets = [];
  for (const spec of specs) {
    const ds = await loadSpec(out, spec, flags);
    datasets.push({ spec, ds, ...(await selectPart(out, ds, flags)) });
  }
  const opened = await openScorer(out, flags, flags.checkpoint, modelLimits(flags));
  const entries: DatasetResult[] = [];
  try {
    for (const { spec, ds, images, split } of datasets) {
      entries.push(await evaluateImages(out, opened, spec, ds, images, split, flags));
    }
  } finally {
    await opened.scorer.close();
  }
  const base: ResultFile = {
    schema: RESULT_SCHEMA,
    kind,
    producer: `@iqa-bench/cli ${VERSION}`,
    checkpoint: flags.checkpoint,
    settings: {
      patches: flags.patches,
      crop: flags.crop,
      // One preset for all, or each dataset's (the original's choice for its key).
      preprocess:
        flags.preprocess ??
        Object.fromEntries(datasets.map(({ spec, ds }) => [spec.name, defaultPreset(ds.key)])),
      seed: flags.seed,
      runtime: opened.runtime,
      backend: opened.backend,
      model: opened.description,
    },
    datasets: entries,
    ...(entries.length > 1 ? { mean: meanMetrics(entries) } : {}),
  };
  const result: EvalResult = {
    ...base,
    ...(base.mean ? { meanOver: meanCounts(entries) } : {}),
    notes: resultNotes(loaded(base)),
  };
  await out.writeOut(result);
  out.result(result, () => resultText(result));
}

function evalOptions(cmd: Command): Command {
  cmd.requiredOption(
    '--checkpoint <file>',
    'the model: .safetensors, PyTorch .pkl/.pth (read safely), a TF.js model folder, or an ONNX model (.onnx: --runtime onnx)',
  );
  datasetOptions(cmd);
  scoreOptions(cmd, "the original's per dataset: seed, but none for live, csiq, tid2013, livec");
  modelLimitOptions(cmd);
  return cmd.option(
    '--no-predictions',
    'leave the per-image predictions out of the result file (they feed the scatter plots)',
  );
}

export function crossDatasetCommand(ctx: Ctx): Command {
  const cmd = new Command('cross-dataset')
    .summary('SRCC, PLCC (raw and logistic), KRCC, RMSE per dataset and their mean')
    .description(
      'Score every image of each --dataset with one checkpoint and report SRCC, PLCC (raw and after the VQEG ' +
        "4-parameter logistic mapping), KRCC, RMSE and n per dataset, and their mean, like the original's " +
        'cross-dataset table. Under the table: why a metric is missing (–), a logistic that reverses the sign of the ' +
        'relation, a raw RMSE on another scale than MOS (†), datasets a mean leaves out. --out writes the result ' +
        'file (iqa-bench/result@1) that check and report read.',
    );
  evalOptions(cmd);
  commonOptions(cmd, {});
  examples(cmd, [
    'iqa-bench cross-dataset --checkpoint koniq.safetensors --dataset spaq=/data/spaq-test --dataset kadid10k=/data/kadid-test --dataset agiqa3k=/data/agiqa-test',
    'iqa-bench cross-dataset --checkpoint best.pkl --dataset livec=/data/livec --patches 25 --crop random --seed 1 --out cross.json',
  ]);
  return cmd.action(ctx.action(async (out, flags: EvalFlags) => run(out, flags, 'cross-dataset')));
}

export function evalCommand(ctx: Ctx): Command {
  const cmd = new Command('eval')
    .summary('evaluate a checkpoint on one dataset, or on one part of a split')
    .description(
      'Evaluate a checkpoint on a dataset: the whole of it, or one part of a split (--split <manifest.json> from ' +
        "'datasets split' or a training run, or the name of a shipped split such as official; --part test by default).",
    )
    .option(
      '--split <manifest.json|name>',
      'a split manifest file or a shipped split name (official, seed-json)',
    )
    .option('--part <name>', 'the part of the split to evaluate (default test)');
  evalOptions(cmd);
  commonOptions(cmd, {});
  examples(cmd, [
    'iqa-bench eval --checkpoint runs/koniq/round-0/best.safetensors --dataset koniq10k=/data/koniq10k --split official',
    'iqa-bench eval --checkpoint model.safetensors --dataset kadid10k=/data/kadid10k --split kadid-split.json --part val --json',
  ]);
  return cmd.action(ctx.action(async (out, flags: EvalFlags) => run(out, flags, 'eval')));
}
