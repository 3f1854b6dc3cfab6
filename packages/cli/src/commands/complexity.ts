import { existsSync } from 'node:fs';
import type { ComplexityReport } from '@iqa-bench/complexity';
import type { BackendPreference, IqaModel } from '@iqa-bench/model';
import { Command, Option } from 'commander';
import type { Ctx } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { resolvePreset } from '../models.js';
import type { ModelLimitFlags } from '../model-limits.js';
import { modelLimitOptions, modelLimits } from '../model-limits.js';
import type { CommonFlags } from '../io.js';
import {
  collect,
  commonOptions,
  examples,
  nonNegativeInt,
  positiveInt,
  positiveIntList,
} from '../options.js';
import { complexityEnvironment, complexityTable } from '../report/sections.js';
import { openCheckpoint, shortName, useBackend } from '../scoring.js';
import { renderText } from '../table.js';

interface ComplexityFlags extends CommonFlags, ModelLimitFlags {
  model: string[];
  batchSizes: number[];
  latency: boolean;
  backend: BackendPreference;
  timing: 'whole' | 'hypernet';
  warmup: number;
  runs: number;
  minTime: number;
  markdown?: boolean;
  latex?: boolean;
}

export function complexityCommand(ctx: Ctx): Command {
  const cmd = new Command('complexity')
    .summary('parameters, MACs / FLOPs, latency and throughput of presets or checkpoints')
    .description(
      'Count parameters, and MACs and FLOPs from the TensorFlow.js kernels a forward pass executes (MACs and FLOPs ' +
        'kept apart; attention products and the TargetNet included, the HyperNet alone reported too), then time ' +
        'batch-1 latency and throughput per batch size on the chosen backend (after warm-up, each measurement repeats ' +
        'forwards for at least --runs and --min-time; the median is printed with its interquartile range), and ' +
        'compare with the published figures. Models: a preset (smart-iqa-tiny, smart-iqa-small, smart-iqa-base, ' +
        'hyperiqa-resnet50, smart-iqa-micro) or a checkpoint file.',
    )
    .requiredOption('--model <preset|checkpoint>', 'a preset name or a checkpoint file; repeatable', collect)
    .option(
      '--batch-sizes <list>',
      'throughput batch sizes (stops cleanly at the first out-of-memory)',
      positiveIntList,
      [1, 4, 8],
    )
    .option('--no-latency', 'count parameters, MACs and FLOPs only (no timing)')
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .addOption(
      new Option(
        '--timing <scope>',
        'what latency and throughput time (the original timed the HyperNet only)',
      )
        .choices(['whole', 'hypernet'])
        .default('whole'),
    )
    .option('--warmup <n>', 'untimed forwards before the latency runs', nonNegativeInt, 3)
    .option(
      '--runs <n>',
      'at least this many timed forwards per measurement (batch-1 latency, each throughput batch size)',
      positiveInt,
      10,
    )
    .option(
      '--min-time <ms>',
      'and time each measurement for at least this long (0: exactly --runs forwards)',
      nonNegativeInt,
      1000,
    )
    .option('--markdown', "print @iqa-bench/complexity's Markdown table (with the reference checks) instead")
    .option('--latex', 'print the LaTeX table instead');
  modelLimitOptions(cmd);
  commonOptions(cmd, {
    out: 'also write the complexity report (JSON, schema of @iqa-bench/complexity) to <file>',
  });
  examples(cmd, [
    'iqa-bench complexity --model smart-iqa-tiny --model hyperiqa-resnet50 --no-latency',
    'iqa-bench complexity --model smart-iqa-base --backend wasm --batch-sizes 1,4 --timing hypernet --out base.json',
    'iqa-bench complexity --model runs/koniq/round-0/best.safetensors --latex',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: ComplexityFlags) => {
      out.checkOutExtension(['.json']);
      const [cx, m] = await Promise.all([import('@iqa-bench/complexity'), import('@iqa-bench/model')]);
      // A preset by name, backbone name (swin_tiny_patch4_window7_224) or alias; else a checkpoint file.
      const names = flags.model.map((name) =>
        existsSync(out.path(name)) ? name : (resolvePreset(name) ?? name),
      );
      for (const name of names) {
        if (!m.isPresetName(name) && !existsSync(out.path(name))) {
          throw new CliError(
            `--model ${name}: neither a preset (${m.PRESET_NAMES.join(', ')}; 'iqa-bench models' lists their other names) nor a checkpoint file`,
            ExitCode.badInput,
            { flag: '--model' },
          );
        }
      }
      await useBackend(out, flags.backend);
      const reports: ComplexityReport[] = [];
      for (const name of names) {
        const isPreset = m.isPresetName(name);
        let model: IqaModel;
        if (isPreset) {
          // Counts and timings do not depend on the weights: skip drawing random ones (seconds for Swin-B).
          model = m.createModel(name, { seed: 1, randomInit: false });
        } else {
          model = (await openCheckpoint(out, name, '--model', modelLimits(flags))).model;
        }
        try {
          out.log(`${name}: counting${flags.latency ? ' and timing' : ''}…`);
          reports.push(
            await cx.analyzeModel(model, {
              // A checkpoint is labelled by its short name; the description keeps the path.
              name: isPreset ? name : shortName(name),
              description: isPreset ? `preset ${name}` : `checkpoint ${name}`,
              reference: isPreset && name !== 'smart-iqa-micro' ? name : null,
              timing: flags.timing,
              latency: flags.latency
                ? { warmup: flags.warmup, runs: flags.runs, minTimeMs: flags.minTime }
                : false,
              throughput: flags.latency
                ? {
                    batchSizes: flags.batchSizes,
                    minTimeMs: flags.minTime,
                    minBatches: flags.runs,
                    warmup: 2,
                  }
                : false,
            }),
          );
        } finally {
          model.dispose();
        }
      }
      const report = cx.mergeReports(reports);
      await out.writeOut(report);
      if (flags.markdown && !flags.json) out.io.stdout.write(`${cx.toMarkdown(report)}\n`);
      else if (flags.latex && !flags.json) out.io.stdout.write(`${cx.toLatex(report)}\n`);
      else
        out.result(
          report,
          () => `${renderText(complexityTable(report))}\n\n${complexityEnvironment(report)}`,
        );
    }),
  );
}
