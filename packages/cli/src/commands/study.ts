import type {
  CollectOptions,
  ResolvedStudy,
  StudyEvent,
  StudyRunResult,
  StudyRunState,
  StudyRecipe,
} from '@iqa-bench/study';
import { DEFAULT_QUEUE_NAME } from '@iqa-bench/study/queue';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Ctx } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import type { CommonFlags, Output } from '../io.js';
import { duration } from '../io.js';
import { commonOptions, examples, nonNegativeInt, nonNegativeNumber, positiveInt } from '../options.js';
import { SYNTHETIC_EPOCHS, syntheticRecipe } from '../recipes.js';
import { renderText } from '../table.js';
import { VERSION } from '../version.js';

interface StudyFlags extends CommonFlags {
  out: string;
  json?: boolean;
  queue?: string;
  name: string;
  root?: string;
}

interface RunFlags extends StudyFlags {
  parallel: number;
  devices?: string[];
  example?: 'ablation';
}

/** `base: synthetic` in a study file: the demo's small HyperIQA on the study's dataset (as `train --recipe`). */
const CLI_RECIPES: Readonly<Record<string, StudyRecipe>> = {
  synthetic: ({ root }) => syntheticRecipe(root, { seed: 1, epochs: SYNTHETIC_EPOCHS, backend: 'wasm' }),
};

function deviceList(value: string): string[] {
  const list = value.split(',').map((d) => d.trim());
  if (list.length === 0 || list.some((d) => !/^\d{1,3}$/.test(d))) {
    throw new InvalidArgumentError('expected device indices separated by commas, e.g. 0,1');
  }
  if (new Set(list).size !== list.length) throw new InvalidArgumentError('a device is listed twice');
  return list;
}

async function resolve(out: Output, file: string, dir: string): Promise<ResolvedStudy> {
  const s = await import('@iqa-bench/study');
  try {
    return await s.resolveStudy(out.path(file), out.path(dir), { recipes: CLI_RECIPES });
  } catch (err) {
    if (err instanceof s.StudyError) throw new CliError(err.message);
    throw err;
  }
}

const STATE_LABEL: Record<StudyRunState['state'], string> = {
  done: 'done',
  edited: 'EDITED (files changed since it finished)',
  failed: 'failed',
  running: 'running',
  interrupted: 'interrupted (resumes from its checkpoint)',
  missing: 'to do',
};

function planJson(study: ResolvedStudy, states: readonly StudyRunState[]) {
  return {
    name: study.name,
    outDir: study.outDir,
    baseline: study.baseline,
    ...(study.chain !== undefined ? { chain: study.chain } : {}),
    seeds: study.seeds,
    split: { file: study.split.file, hash: study.split.manifest.hash, counts: study.split.manifest.counts },
    runs: states.map((s) => ({
      runId: s.spec.runId,
      variant: s.spec.variant,
      seed: s.spec.seed,
      state: s.state,
      ...(s.detail !== undefined ? { detail: s.detail } : {}),
      overrides: s.spec.overrides,
      folder: s.runDir,
    })),
  };
}

function planText(study: ResolvedStudy, states: readonly StudyRunState[]): string {
  const table = renderText({
    columns: [
      { header: 'variant' },
      { header: 'seed', align: 'right' },
      { header: 'run' },
      { header: 'state' },
      { header: 'overrides' },
    ],
    rows: states.map((s) => [
      s.spec.variant,
      String(s.spec.seed),
      s.spec.runId,
      STATE_LABEL[s.state] + (s.state === 'edited' || s.state === 'failed' ? `: ${s.detail}` : ''),
      Object.entries(s.spec.overrides)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(' ') || '(base)',
    ]),
  });
  const done = states.filter((s) => s.state === 'done').length;
  return `${table}\n\n${study.name}: ${states.length} runs (${study.variants.length} variants × ${study.seeds.length} seeds), ${done} done; baseline ${study.baseline}; split ${study.split.manifest.hash.slice(0, 19)} (${Object.entries(
    study.split.manifest.counts,
  )
    .map(([k, v]) => `${k} ${v}`)
    .join(' / ')}) → ${study.outDir}`;
}

function eventLine(e: StudyEvent): string | undefined {
  const who = (s: { variant: string; seed: number; runId: string }) =>
    `${s.variant} seed ${s.seed} (${s.runId})`;
  switch (e.type) {
    case 'plan':
      return `${e.total} runs: ${e.done} done, ${e.todo} to run`;
    case 'start':
      return `start ${who(e.spec)}${e.device !== undefined ? ` on device ${e.device}` : ''}`;
    case 'queued':
      return `queue ${who(e.spec)}: ${e.action}`;
    case 'done':
      return `[${e.finished}/${e.todo}] done ${who(e.spec)}: ${e.outcome.action}${e.outcome.action === 'trained' ? ` in ${duration(e.outcome.seconds * 1000)}` : ''}, test SRCC ${e.outcome.srcc?.toFixed(4) ?? '–'}${e.etaSeconds !== null && e.finished < e.todo ? `; about ${duration(e.etaSeconds * 1000)} left` : ''}`;
    case 'failed':
      return `[${e.finished}/${e.todo}] FAILED ${who(e.spec)}: ${e.error}`;
  }
}

function resultText(res: StudyRunResult, seconds: number): string {
  const lines = [
    `${res.trained.length} run(s) trained, ${res.reused.length} reused, ${res.failed.length} failed, in ${duration(seconds * 1000)}`,
  ];
  for (const f of res.failed) lines.push(`  failed: ${f.variant} seed ${f.seed} (${f.runId}): ${f.error}`);
  return lines.join('\n');
}

function sharedOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--out <dir>', 'the study folder: split.json and runs/<run id>/')
    .option('--json', 'print the result as JSON on stdout only (logs go to stderr)');
}

function queueOptions(cmd: Command, what: string): Command {
  return cmd
    .option('--queue <url>', what)
    .option('--name <queue>', 'the queue name', DEFAULT_QUEUE_NAME)
    .option(
      '--root <dir>',
      'the folder the workers serve (their --root) as this machine sees it; every path of the study must be inside it (default: the current folder)',
    );
}

function planCommand(ctx: Ctx): Command {
  const cmd = sharedOptions(
    new Command('plan')
      .summary('list the resolved runs of a study and which are done')
      .argument('<study-file>', 'the study file (.yaml, .yml, .json)'),
  );
  commonOptions(cmd, false);
  return cmd.action(
    ctx.action(async (out, flags: StudyFlags, file: string) => {
      const study = await resolve(out, file, flags.out);
      const { studyState } = await import('@iqa-bench/study');
      const states = await studyState(study);
      out.result(planJson(study, states), () => planText(study, states));
    }),
  );
}

function runCommand(ctx: Ctx): Command {
  const cmd = new Command('run')
    .summary('run the unfinished runs of a study, here or through a queue')
    .description(
      'Train and evaluate every run of the study that has not finished: finished runs (valid summary, files as they ' +
        'were recorded) are reused, interrupted ones resume from their checkpoint, and an edited variant reruns only ' +
        'its own runs (a run id is the hash of its resolved config, seed and data). Each run is evaluated on the ' +
        "study's shared test images and its evaluation sets with per-image predictions (runs/<id>/result.json).\n\n" +
        'Here (default): --parallel k runs at a time, each in a process of its own; --devices 0,1 pins one device per ' +
        'run (CUDA_VISIBLE_DEVICES and IQA_BENCH_DEVICE are set in its process, for @tensorflow/tfjs-node-gpu with ' +
        'backend "tensorflow"); at most one run per device at a time. With --queue, the runs are enqueued under ' +
        'their run ids (enqueueing again adds nothing) for `iqa-bench worker --queue <url> --root <dir>` on any ' +
        'number of machines sharing the study folder, and this command waits for them. The numbers are the same ' +
        'either way. A queue that does not answer is an error within seconds (exit 2).',
    )
    .argument('[study-file]', 'the study file (.yaml, .yml, .json); not with --example')
    .addOption(
      new Option('--example <name>', 'write and run a built-in example study into --out').choices([
        'ablation',
      ]),
    )
    .option('--parallel <k>', 'runs at a time (local)', positiveInt, 1)
    .option('--devices <list>', 'device indices, one run per device at a time, e.g. 0,1 (local)', deviceList);
  sharedOptions(cmd);
  queueOptions(cmd, 'run through this queue (redis://… or postgres://…) instead of here');
  commonOptions(cmd, false);
  examples(cmd, [
    'iqa-bench study run --example ablation --out ablation --parallel 2',
    'iqa-bench study run ablation.yaml --out studies/ablation --parallel 2',
    'iqa-bench study run ablation.yaml --out studies/ablation --devices 0,1,2,3',
    'iqa-bench study run ablation.yaml --out /shared/studies/ablation --queue "$(head -1 queue-url.txt)" --root /shared/studies',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: RunFlags, fileArg: string | undefined) => {
      const t0 = Date.now();
      const s = await import('@iqa-bench/study');
      let file = fileArg;
      if (flags.example !== undefined) {
        if (file !== undefined) throw new CliError('give a study file or --example, not both');
        out.log(
          `writing the example study "${flags.example}" and its synthetic data into ${out.path(flags.out)}`,
        );
        file = await s.writeExampleStudy(out.path(flags.out), flags.example);
      }
      if (file === undefined) throw new CliError('expected a study file (or --example ablation)');
      if (flags.queue !== undefined && (flags.devices !== undefined || flags.parallel !== 1)) {
        throw new CliError(
          '--parallel and --devices are for runs here; with --queue, start more workers instead',
        );
      }
      const study = await resolve(out, file, flags.out);
      const onEvent = (e: StudyEvent) => {
        const line = eventLine(e);
        if (line !== undefined) out.log(line);
      };
      const stop = new AbortController();
      const onSignal = () => {
        out.log('stopping: the running runs stop at their next step and resume on the next study run');
        stop.abort('interrupted');
      };
      process.once('SIGINT', onSignal);
      let res: StudyRunResult;
      try {
        res =
          flags.queue !== undefined
            ? await s.runStudyQueue(study, flags.queue, {
                queueName: flags.name,
                root: out.path(flags.root ?? '.'),
                version: VERSION,
                onEvent,
                signal: stop.signal,
              })
            : await s.runStudyLocal(study, {
                parallel: flags.parallel,
                ...(flags.devices !== undefined ? { devices: flags.devices } : {}),
                onEvent,
                signal: stop.signal,
              });
      } finally {
        process.removeListener('SIGINT', onSignal);
      }
      const seconds = (Date.now() - t0) / 1000;
      out.result({ ...res, seconds, studyFile: out.path(file), outDir: study.outDir }, () =>
        resultText(res, seconds),
      );
      if (res.failed.length > 0) {
        throw new CliError(`${res.failed.length} of ${study.runs.length} runs failed (see above)`);
      }
    }),
  );
}

function statusCommand(ctx: Ctx): Command {
  const cmd = new Command('status')
    .summary('done / running / failed / queued runs of a study, with an ETA')
    .argument('<study-file>', 'the study file (.yaml, .yml, .json)');
  sharedOptions(cmd);
  queueOptions(cmd, 'also ask this queue about the runs that are not finished');
  commonOptions(cmd, false);
  return cmd.action(
    ctx.action(async (out, flags: StudyFlags, file: string) => {
      const study = await resolve(out, file, flags.out);
      const s = await import('@iqa-bench/study');
      const input = await s.collectStudyReportInput(study, study.outDir, {
        complexity: false,
        ...(flags.queue !== undefined ? { queue: { url: flags.queue, name: flags.name } } : {}),
      } satisfies CollectOptions);
      const counts: Record<string, number> = { done: 0, running: 0, queued: 0, failed: 0, missing: 0 };
      for (const r of input.runs) counts[r.status]++;
      // ETA: the mean wall time of the finished runs, for what is left, at the pace of the runs in flight.
      const { readFile } = await import('node:fs/promises');
      const walls: number[] = [];
      for (const r of input.runs.filter((x) => x.status === 'done')) {
        try {
          const sum = JSON.parse(
            await readFile(`${s.runDirOf(study.outDir, r.runId)}/summary.json`, 'utf8'),
          ) as {
            wallSeconds?: number;
          };
          if (typeof sum.wallSeconds === 'number') walls.push(sum.wallSeconds);
        } catch {
          // a summary that cannot be read has no time
        }
      }
      const left = counts.running + counts.queued + counts.missing;
      const mean = walls.length > 0 ? walls.reduce((a, b) => a + b, 0) / walls.length : null;
      const etaSeconds = mean === null ? null : (mean * left) / Math.max(1, counts.running);
      const json = {
        name: input.name,
        counts,
        etaSeconds,
        runs: input.runs.map((r) => ({
          runId: r.runId,
          variant: r.variant,
          seed: r.seed,
          status: r.status,
          ...(r.error !== undefined ? { error: r.error } : {}),
          ...(r.curve !== undefined ? { epochs: r.curve.length } : {}),
        })),
      };
      out.result(json, () => {
        const table = renderText({
          columns: [
            { header: 'variant' },
            { header: 'seed', align: 'right' },
            { header: 'run' },
            { header: 'status' },
            { header: 'epochs', align: 'right' },
          ],
          rows: input.runs.map((r) => [
            r.variant,
            String(r.seed),
            r.runId,
            r.status + (r.error !== undefined ? `: ${r.error}` : ''),
            String(r.curve?.length ?? 0),
          ]),
        });
        return `${table}\n\n${Object.entries(counts)
          .map(([k, v]) => `${v} ${k}`)
          .join(
            ', ',
          )}${left > 0 ? `; ETA ${etaSeconds === null ? 'unknown (no run finished yet)' : duration(etaSeconds * 1000)}` : ''}`;
      });
    }),
  );
}

interface ReportFlags extends StudyFlags {
  reportDir?: string;
  check?: string;
  tolerance: number;
  resamples: number;
  bootstrapSeed: number;
}

function reportCommand(ctx: Ctx): Command {
  const cmd = new Command('report')
    .summary(
      "a study's report: per-variant medians over seeds, Δ vs baseline with intervals, figures; --check gates CI",
    )
    .description(
      'Aggregates every planned run (finished or not: failed and missing runs are shown, never dropped) and writes ' +
        'HTML, Markdown, LaTeX and JSON (study-report.json) with SVG and PNG figures to --report-dir. Δ vs the ' +
        'baseline and along the forward-ablation chain comes with a 95 % interval from a paired bootstrap over seeds ' +
        'and the shared test images, and a paired test with Holm correction across the comparisons. --json prints ' +
        "the aggregate instead. --check <baseline.json> compares the study's medians with an earlier " +
        'study-report.json and exits 1 on a regression beyond --tolerance or a baseline run no longer finished.',
    )
    .argument('<study-file>', 'the study file (.yaml, .yml, .json)')
    .option('--report-dir <dir>', 'where the report goes (default: <out>/report)')
    .option(
      '--check <baseline.json>',
      "compare with an earlier study's study-report.json; exit 1 on a regression",
    )
    .option(
      '--tolerance <t>',
      'how much worse than the baseline a median may be (--check)',
      nonNegativeNumber,
      0.005,
    )
    .option('--resamples <n>', 'bootstrap resamples per comparison', positiveInt, 1000)
    .option(
      '--bootstrap-seed <n>',
      'seed of the bootstrap (same seed, same report bytes)',
      nonNegativeInt,
      0,
    );
  sharedOptions(cmd);
  queueOptions(cmd, 'also ask this queue about the runs that are not finished');
  commonOptions(cmd, false);
  return cmd.action(
    ctx.action(async (out, flags: ReportFlags, file: string) => {
      const study = await resolve(out, file, flags.out);
      const s = await import('@iqa-bench/study');
      const input = await s.collectStudyReportInput(study, study.outDir, {
        ...(flags.queue !== undefined ? { queue: { url: flags.queue, name: flags.name } } : {}),
      });
      const options = { resamples: flags.resamples, seed: flags.bootstrapSeed };
      const r = await import('../study-report/index.js');
      let aggregate;
      try {
        aggregate = s.aggregateStudy(input, options);
      } catch (err) {
        if (err instanceof s.StudyReportError) throw new CliError(`study report: ${err.message}`);
        throw err;
      }
      let status: ExitCode = ExitCode.ok;
      if (flags.check !== undefined) {
        const report = await r.checkStudy(aggregate, out.path(flags.check), { tolerance: flags.tolerance });
        out.log(`${renderText(r.studyCheckTable(report))}\n\n${r.studyCheckVerdict(report)}`);
        if (!report.passed) status = ExitCode.checkFailed;
      }
      if (flags.json) {
        out.io.stdout.write(`${JSON.stringify(aggregate, null, 2)}\n`);
        return status;
      }
      const dir = flags.reportDir !== undefined ? out.path(flags.reportDir) : join(study.outDir, 'report');
      const written = await r.writeStudyReport(aggregate, dir);
      out.log(`wrote ${written.files.length} files to ${dir} (${input.runs.length} runs)`);
      out.io.stdout.write(`${join(dir, 'report.html')}\n`);
      return status;
    }),
  );
}

export function studyCommand(ctx: Ctx): Command {
  const cmd = new Command('study')
    .summary('ablation and sensitivity studies: plan, run (here or through a queue), status, report')
    .description(
      'A study file declares a base training config, named variants (overrides of config fields by dotted path; a ' +
        'list value sweeps a field, one variant per value), seeds, the dataset and one shared split, cross-dataset ' +
        'evaluation sets, the baseline and a forward-ablation chain. Runs are content-addressed: a run id is the hash ' +
        'of its resolved config, seed and data, so finished runs are reused and an edited variant reruns only itself.',
    );
  for (const make of [planCommand, runCommand, statusCommand, reportCommand]) cmd.addCommand(make(ctx));
  examples(cmd, [
    'iqa-bench study run --example ablation --out ablation --parallel 2',
    'iqa-bench study plan ablation/ablation.json --out ablation',
    'iqa-bench study status ablation/ablation.json --out ablation',
    'iqa-bench study report ablation/ablation.json --out ablation --json',
  ]);
  return cmd;
}
