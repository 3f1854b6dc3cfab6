import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComplexityReport, ModelComplexity, ThroughputEntry } from '@iqa-bench/complexity';
import type { BackendPreference, IqaModel } from '@iqa-bench/model';
import type { RuntimePreference, Scorer } from '@iqa-bench/scorer';
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
import { checkpointError, openCheckpoint, runtimeOption, shortName, useBackend } from '../scoring.js';
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
  runtime?: RuntimePreference;
}

function hypernetOnOnnx(): CliError {
  return new CliError(
    '--timing hypernet: the onnx runtime runs the whole model; time the HyperNet alone with --runtime tfjs',
    ExitCode.badInput,
    { flag: '--timing' },
  );
}

/** The timing options of complexity, as flags. */
type TimingFlags = Pick<ComplexityFlags, 'warmup' | 'runs' | 'minTime' | 'batchSizes'>;

/** Timed calls of `run` after `warmup` untimed ones, until at least `runs` ran and `minTime` ms passed (ms each). */
/**
 * Batch-1 latency and throughput on the onnx runtime: `score()` of a 224×224 image whose crops are the batch (a grid of
 * b crops of a 224×224 image is b copies of it), so each call is one forward of b crops plus their copy and transpose.
 */
async function onnxTiming(
  scorer: Scorer,
  flags: TimingFlags,
): Promise<Pick<ModelComplexity, 'latency' | 'throughput'>> {
  const { latencyStats, repeatTimed, throughputOf } = await import('@iqa-bench/complexity/timing');
  /** `warmup` untimed calls, then timed ones until --runs and --min-time are met. */
  const timeCalls = async (run: () => Promise<unknown>, warmup: number): Promise<number[]> => {
    for (let i = 0; i < warmup; i++) await run();
    const timed = async (): Promise<number> => {
      const t0 = performance.now();
      await run();
      return performance.now() - t0;
    };
    return repeatTimed(timed, { minRuns: flags.runs, minTimeMs: flags.minTime, maxRuns: 10_000 });
  };
  const size = scorer.config.backbone.imgSize;
  const image = {
    width: size,
    height: size,
    data: Float32Array.from({ length: size * size * 3 }, (_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011)),
  };
  const forward = (b: number) => () =>
    scorer.score(image, { crops: b, mode: b === 1 ? 'center' : 'grid', batchSize: b });
  const latency = latencyStats(await timeCalls(forward(1), flags.warmup), {
    batchSize: 1,
    warmup: flags.warmup,
  });
  const entries: ThroughputEntry[] = [];
  for (const b of [...flags.batchSizes].sort((x, y) => x - y))
    entries.push(throughputOf(await timeCalls(forward(b), 2), b, 2));
  return { latency: { scope: 'whole', stats: latency }, throughput: { scope: 'whole', entries } };
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
  runtimeOption(cmd);
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
      // Checked before any work: the exported ONNX model is the whole model.
      if (flags.runtime === 'onnx' && flags.latency && flags.timing === 'hypernet') throw hypernetOnOnnx();
      await useBackend(out, flags.backend);
      const { createScorer, isOnnxFile, resolveRuntime, ScorerError } = await import('@iqa-bench/scorer');
      const reports: ComplexityReport[] = [];
      let onnxBackend: string | null = null;
      for (const name of names) {
        const isPreset = m.isPresetName(name);
        const isOnnx = !isPreset && isOnnxFile(name);
        // Latency and throughput on the runtime used; parameters and MACs are counted on the TF.js model.
        const runtime = flags.latency
          ? await resolveRuntime(isPreset ? `${name}.preset` : name, flags.runtime)
          : 'tfjs';
        if (runtime === 'onnx' && flags.timing === 'hypernet') throw hypernetOnOnnx();
        let scorer: Scorer | null = null;
        const openOnnx = async (file: string, typed: string): Promise<Scorer> => {
          try {
            return await createScorer({ checkpoint: file, runtime: 'onnx' });
          } catch (err) {
            if (err instanceof ScorerError && err.code === 'runtime-unavailable')
              throw new CliError(
                err.message.replace(/^runtime onnx: /, '--runtime onnx: '),
                ExitCode.badInput,
                {
                  cause: err,
                  flag: '--runtime',
                },
              );
            throw checkpointError(err, file, typed);
          }
        };
        let model: IqaModel;
        if (isPreset) {
          // Counts and timings do not depend on the weights: skip drawing random ones (seconds for Swin-B).
          model = m.createModel(name, { seed: 1, randomInit: false });
        } else if (isOnnx) {
          // The counts of the architecture the ONNX model stores (they do not depend on the weights).
          scorer = await openOnnx(out.path(name), name);
          model = m.createModel(scorer.config, { seed: 1, randomInit: false });
        } else {
          model = (await openCheckpoint(out, name, '--model', modelLimits(flags))).model;
        }
        const tmp =
          runtime === 'onnx' && scorer === null ? mkdtempSync(join(tmpdir(), 'iqa-complexity-')) : null;
        try {
          out.log(
            `${name}: counting${flags.latency ? ` and timing${runtime === 'onnx' ? ' on onnx' : ''}` : ''}…`,
          );
          const analyzed = await cx.analyzeModel(model, {
            // A checkpoint is labelled by its short name; the description keeps the path.
            name: isPreset ? name : shortName(name),
            description: isPreset ? `preset ${name}` : `checkpoint ${name}`,
            reference: isPreset && name !== 'smart-iqa-micro' ? name : null,
            timing: flags.timing,
            latency:
              flags.latency && runtime === 'tfjs'
                ? { warmup: flags.warmup, runs: flags.runs, minTimeMs: flags.minTime }
                : false,
            throughput:
              flags.latency && runtime === 'tfjs'
                ? {
                    batchSizes: flags.batchSizes,
                    minTimeMs: flags.minTime,
                    minBatches: flags.runs,
                    warmup: 2,
                  }
                : false,
          });
          if (runtime === 'onnx') {
            if (tmp !== null) {
              const onnx = await import('@iqa-bench/onnx');
              const file = join(tmp, 'model.onnx');
              await onnx.writeOnnx(file, model, { source: name });
              scorer = await openOnnx(file, name);
            }
            const s = scorer as Scorer;
            onnxBackend = `onnxruntime (${(s.executionProviders ?? []).join(', ')})`;
            const timed = await onnxTiming(s, flags);
            const entry = analyzed.models[0];
            analyzed.models[0] = {
              ...entry,
              ...timed,
              notes: [
                ...entry.notes.filter((n) => !n.startsWith('Latency and throughput time')),
                `Latency and throughput time the whole model exported to ONNX on ${onnxBackend}, one score() call per ` +
                  'measurement (the crops of one image as the batch); parameters and MACs are counted on the TF.js model.',
              ],
            };
          }
          reports.push(analyzed);
        } finally {
          model.dispose();
          await scorer?.close();
          if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
        }
      }
      const merged = cx.mergeReports(reports);
      // Timed on onnxruntime: the environment says so (the tfjs version is that of the counts).
      const report =
        onnxBackend === null
          ? merged
          : cx.validateComplexityReport({
              ...merged,
              environment: { ...merged.environment, backend: onnxBackend, threads: null },
            });
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
