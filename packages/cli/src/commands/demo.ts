import { readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { ComplexityReport, ReferenceModel } from '@iqa-bench/complexity';
import type { DatasetKey } from '@iqa-bench/data';
import type { BackendPreference } from '@iqa-bench/model';
import { Command, Option } from 'commander';
import type { Ctx } from '../context.js';
import { CliError } from '../errors.js';
import { meanMetrics } from '../evaluation.js';
import type { CommonFlags } from '../io.js';
import { writeJsonAtomic } from '@iqa-bench/core/fs';
import { collect, commonOptions, examples, nonNegativeInt, positiveInt } from '../options.js';
import type { Report } from '../report/report.js';
import { writeReport } from '../report/report.js';
import {
  complexitySection,
  complexityTable,
  resultSections,
  resultTable,
  trainingSection,
} from '../report/sections.js';
import type { DatasetResult, ResultFile } from '@iqa-bench/metrics';
import { RESULT_SCHEMA } from '@iqa-bench/metrics';
import { openScorer, useBackend } from '../scoring.js';
import { renderText } from '../table.js';
import { readTrainingRun } from '../training.js';
import { VERSION } from '../version.js';
import { imageSize } from './synth.js';
import { SYNTHETIC_EPOCHS, SYNTHETIC_REFS, SYNTHETIC_SIZE, syntheticRecipe } from '../recipes.js';
import { evaluateImages } from './cross-dataset.js';

interface DemoFlags extends CommonFlags {
  seed: number;
  epochs: number;
  refs: number;
  size: [number, number];
  presets: string[];
  backend: BackendPreference;
  force?: boolean;
}

/** The published figures a preset is checked against (none for the micro preset). */
function referenceOf(preset: string): ReferenceModel | null {
  return (
    (['smart-iqa-tiny', 'smart-iqa-small', 'smart-iqa-base', 'hyperiqa-resnet50'] as const).find(
      (r) => r === preset,
    ) ?? null
  );
}

/** The presets whose complexity the demo reports. */
export const DEMO_PRESETS = ['smart-iqa-tiny', 'smart-iqa-small', 'smart-iqa-base', 'hyperiqa-resnet50'];

export function demoCommand(ctx: Ctx): Command {
  const cmd = new Command('demo')
    .summary('the whole pipeline offline on synthetic data, ending in a report')
    .description(
      'Run everything on the embedded defaults, offline: write a synthetic dataset (KADID-10k layout), train a small ' +
        "HyperIQA (ResNet, the CI gate's model) on it with a fixed seed, test the trained model across synthetic variants " +
        '(new scenes in the KADID-10k layout, and the KonIQ-10k layout), measure the complexity of the presets, and ' +
        'write report.html, report.md and figures/ into --out. A few minutes on 2 cores; the same seed gives the ' +
        'same numbers. Next step: `iqa-bench study run --example ablation --out ablation`, an ablation study (fusion, ' +
        'size, learning rate; 3 seeds) on synthetic data.',
    )
    .option('--out <dir>', 'the folder to write everything into', 'iqa-bench-demo')
    .option('--seed <n>', 'seed of the data and the training', nonNegativeInt, 1)
    .option('--epochs <n>', 'training epochs', positiveInt, SYNTHETIC_EPOCHS)
    .option(
      '--refs <n>',
      'reference scenes of the training dataset (25 distorted images each)',
      positiveInt,
      SYNTHETIC_REFS,
    )
    .option('--size <WxH>', 'synthetic image size', imageSize, SYNTHETIC_SIZE)
    .option('--presets <list>', 'presets whose complexity is counted (comma-separated; none: skip)', collect)
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('wasm'),
    )
    .option('--force', 'write into a non-empty --out (replacing what an earlier demo wrote there)');
  commonOptions(cmd, false).option('--json', 'print the results as JSON on stdout');
  examples(cmd, [
    'iqa-bench demo',
    'iqa-bench demo --out demo --seed 2',
    'iqa-bench demo --out quick --epochs 2 --refs 4 --presets smart-iqa-tiny   # a faster, smaller run',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: DemoFlags) => {
      const started = Date.now();
      const dir = out.path(flags.out as string);
      const existing = await readdir(dir).catch(() => [] as string[]);
      if (existing.length > 0 && !flags.force) {
        throw new CliError(`--out ${flags.out}: the folder is not empty; choose another or pass --force`);
      }
      const presets = (flags.presets ?? DEMO_PRESETS).filter((p) => p !== 'none');
      const [data, t, cx, m] = await Promise.all([
        import('@iqa-bench/data'),
        import('@iqa-bench/train'),
        import('@iqa-bench/complexity'),
        import('@iqa-bench/model'),
      ]);
      for (const p of presets)
        if (!m.isPresetName(p))
          throw new CliError(`--presets: unknown preset "${p}"; expected ${m.PRESET_NAMES.join(', ')}`);
      const backend = await useBackend(out, flags.backend);
      const [w, h] = flags.size;

      // 1. Synthetic data: the training set and two variants for the cross-dataset test.
      const sets = [
        {
          name: 'synth-kadid',
          key: 'kadid10k' as const,
          layout: 'kadid10k' as const,
          seed: flags.seed,
          refs: flags.refs,
        },
        {
          name: 'synth-kadid-new-scenes',
          key: 'kadid10k' as const,
          layout: 'kadid10k' as const,
          seed: flags.seed + 1000,
          refs: Math.max(2, Math.ceil(flags.refs / 2)),
        },
        {
          name: 'synth-koniq',
          key: 'koniq10k' as const,
          layout: 'koniq10k' as const,
          seed: flags.seed + 2000,
          refs: Math.max(2, Math.ceil(flags.refs / 2)),
        },
      ];
      for (const s of sets) {
        out.log(`[1/4] writing ${s.name} (${s.layout} layout, ${s.refs} scenes, ${w}x${h}, seed ${s.seed})`);
        await data.generateSynthetic({
          layout: s.layout,
          out: join(dir, 'data', s.name),
          seed: s.seed,
          refs: s.refs,
          width: w,
          height: h,
          overwrite: true,
        });
      }

      // 2. Training.
      const runDir = join(dir, 'train');
      if (flags.force) await rm(runDir, { recursive: true, force: true });
      const config = t.parseTrainConfig(syntheticRecipe(join(dir, 'data', 'synth-kadid'), flags), 'demo');
      out.log(
        `[2/4] training a small HyperIQA for ${flags.epochs} epoch(s) on synth-kadid (seed ${flags.seed})`,
      );
      const mode = out.flags.quiet ? 'quiet' : out.io.stderr.isTTY ? 'bar' : 'plain';
      const summary = await t.runTraining(config, runDir, {
        progress: t.createProgress({ mode, stream: out.io.stderr as NodeJS.WriteStream }),
      });

      // 3. Cross-dataset test of the selected weights.
      out.log('[3/4] cross-dataset test of the selected weights');
      const ckpt = join(runDir, 'round-0', 'best.safetensors');
      const entries: DatasetResult[] = [];
      const scoreFlags = {
        patches: 2,
        crop: 'grid' as const,
        preprocess: 'none' as const,
        seed: flags.seed,
        batchSize: 8,
        backend: flags.backend,
        predictions: true,
      };
      // The backend was selected and logged for training.
      const opened = await openScorer(
        out,
        scoreFlags,
        relative(out.io.cwd, ckpt) || ckpt,
        {},
        { logBackend: false },
      );
      try {
        for (const s of sets) {
          const root = join(dir, 'data', s.name);
          const ds = await data.loadDataset(
            s.key as DatasetKey,
            root,
            s.layout === 'koniq10k' ? { imageDir: `${w}x${h}` } : {},
          );
          const spec = { name: s.name, key: s.key, path: relative(dir, root) };
          // The training set is evaluated on its held-out test part; the variants entirely.
          const images =
            s.name === 'synth-kadid'
              ? data.partImages(
                  ds,
                  await data.readSplitManifest(join(runDir, 'round-0', 'split.json'), ds),
                  'test',
                )
              : ds.images;
          entries.push(
            await evaluateImages(
              out,
              opened,
              spec,
              ds,
              images,
              s.name === 'synth-kadid' ? 'test' : 'all',
              scoreFlags,
            ),
          );
        }
      } finally {
        await opened.scorer.close();
      }
      const cross: ResultFile = {
        schema: RESULT_SCHEMA,
        kind: 'cross-dataset',
        producer: `@iqa-bench/cli ${VERSION}`,
        checkpoint: relative(dir, ckpt),
        settings: { patches: 2, crop: 'grid', preprocess: 'none', seed: flags.seed, backend: backend.name },
        datasets: entries,
        mean: meanMetrics(entries),
      };
      await writeJsonAtomic(join(dir, 'cross-dataset.json'), cross);

      // 4. Complexity: counts of the presets; counts, latency and throughput of the trained model.
      out.log(`[4/4] complexity of ${[...presets, 'the trained model'].join(', ')}`);
      const reports: ComplexityReport[] = [];
      for (const p of presets) {
        const model = m.createModel(p as Parameters<typeof m.createModel>[0], { seed: 1, randomInit: false });
        try {
          reports.push(await cx.analyzeModel(model, { name: p, reference: referenceOf(p), latency: false }));
        } finally {
          model.dispose();
        }
      }
      const trained = await m.loadCheckpoint(ckpt);
      try {
        reports.push(
          await cx.analyzeModel(trained.model, {
            name: 'small HyperIQA (trained)',
            // Short timings (the demo is a tour, not a benchmark), still repeated: median and quartiles mean something.
            latency: { warmup: 2, runs: 5, minTimeMs: 500 },
            throughput: { batchSizes: [1, 4, 8], minTimeMs: 0, minBatches: 3, warmup: 2 },
          }),
        );
      } finally {
        trained.model.dispose();
      }
      const complexity = cx.mergeReports(reports);
      await writeJsonAtomic(join(dir, 'complexity.json'), complexity);

      // The report.
      const run = await readTrainingRun(runDir, 'train');
      const report: Report = {
        title: 'iqa-bench demo',
        meta: [
          `@iqa-bench/cli ${VERSION}; seed ${flags.seed}; backend ${backend.name}; synthetic data ${w}x${h}, ${flags.refs} training scenes; ${flags.epochs} epoch(s)`,
        ],
        sections: [
          ...resultSections([
            {
              label: 'cross-dataset',
              result: {
                file: 'cross-dataset.json',
                format: 'iqa-bench-result',
                datasets: cross.datasets,
                ...(cross.mean ? { mean: cross.mean } : {}),
              },
            },
          ]),
          trainingSection('small HyperIQA on synth-kadid', run),
          complexitySection(complexity),
        ],
      };
      const files = await writeReport(dir, report);
      const seconds = (Date.now() - started) / 1000;
      const json = {
        dir,
        seconds,
        train: summary,
        crossDataset: cross,
        complexity: {
          models: complexity.models.map((x) => ({
            name: x.name,
            params: x.params.total,
            macs: x.ops.whole.macs,
            flops: x.ops.whole.flops,
          })),
        },
        files,
      };
      out.result(json, () =>
        [
          `Training (held-out test part of synth-kadid, n ${summary.n.test ?? summary.n.select}): SRCC ${summary.metrics.srcc.best.toFixed(4)}, PLCC ${summary.metrics.plcc.best.toFixed(4)}`,
          '',
          renderText(
            resultTable({
              file: '',
              format: 'iqa-bench-result',
              datasets: cross.datasets,
              ...(cross.mean ? { mean: cross.mean } : {}),
            }),
          ),
          '',
          renderText(complexityTable(complexity)),
          '',
          `Report: ${join(flags.out as string, 'report.html')} (+ report.md, figures/, train/, cross-dataset.json, complexity.json) in ${seconds.toFixed(0)} s`,
          '',
          'Next: an ablation study (attention vs concat vs single fusion, a wider backbone, a learning-rate sweep; 3 seeds) ' +
            'on the same kind of data: iqa-bench study run --example ablation --out ablation --parallel 2',
        ].join('\n'),
      );
    }),
  );
}
