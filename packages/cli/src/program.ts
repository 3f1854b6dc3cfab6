import { Command, CommanderError } from 'commander';
import { checkCommand } from './commands/check.js';
import type { Ctx } from './context.js';
import { createCtx } from './context.js';
import { CliError, describeError, errorJson, ExitCode } from './errors.js';
import type { CliIo } from './io.js';
import { processIo } from './io.js';
import { examples } from './options.js';
import { VERSION } from './version.js';
import { reportCommand } from './commands/report.js';
import { datasetsCommand } from './commands/datasets.js';
import { synthCommand } from './commands/synth.js';
import { predictCommand } from './commands/predict.js';
import { demoCommand } from './commands/demo.js';
import { trainCommand } from './commands/train.js';
import { complexityCommand } from './commands/complexity.js';
import { convertCommand } from './commands/convert.js';
import { modelsCommand } from './commands/models.js';
import { crossDatasetCommand, evalCommand } from './commands/cross-dataset.js';
import { queueCommand } from './commands/queue.js';
import { workerCommand } from './commands/worker.js';
import { studyCommand } from './commands/study.js';

export { VERSION };

/** Every subcommand, in the order `iqa-bench --help` lists them. */
const COMMANDS: ReadonlyArray<(ctx: Ctx) => Command> = [
  modelsCommand,
  complexityCommand,
  crossDatasetCommand,
  trainCommand,
  evalCommand,
  predictCommand,
  checkCommand,
  datasetsCommand,
  convertCommand,
  synthCommand,
  demoCommand,
  reportCommand,
  studyCommand,
  queueCommand,
  workerCommand,
];

/** `iqa-bench datasets split` for the `split` subcommand of `datasets`. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function configure(cmd: Command, io: CliIo): void {
  cmd
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // commander's messages start with "error: …".
      outputError: (s, write) => write(`iqa-bench: ${s}`),
    })
    .showHelpAfterError(`(run '${commandPath(cmd)} --help' for usage)`);
  checkRequiredAfterUnknown(cmd);
  for (const sub of cmd.commands) configure(sub, io);
}

/**
 * commander checks required options before unknown ones, so `check --reslt x` would say "--result not specified".
 * The required options are checked in a preAction hook instead, after the unknown-option check: a mistyped flag is
 * named as such.
 */
function checkRequiredAfterUnknown(cmd: Command): void {
  const required = cmd.options.filter((o) => o.mandatory);
  if (required.length === 0) return;
  for (const o of required) o.mandatory = false;
  cmd.hook('preAction', (self, actionCommand) => {
    if (actionCommand !== self) return;
    for (const o of required) {
      if (self.getOptionValue(o.attributeName()) === undefined) {
        self.error(`error: required option '${o.flags}' not specified`, {
          code: 'commander.missingMandatoryOptionValue',
          exitCode: ExitCode.badInput,
        });
      }
    }
  });
}

/** Builds the `iqa-bench` program. Its actions report their exit code through `setExitCode`. */
export function createProgram(io: CliIo, setExitCode: (code: ExitCode) => void): Command {
  const ctx = createCtx(io, setExitCode);
  const program = new Command('iqa-bench')
    .description(
      'Evaluate, cross-test, train, measure and regression-check blind image-quality-assessment models ' +
        '(HyperIQA, SMART-IQA) in Node.js.\n\n' +
        'Exit codes: 0 success, 1 a check failed, 2 bad input or usage.',
    )
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true);
  for (const make of COMMANDS) program.addCommand(make(ctx));
  examples(program, [
    'iqa-bench demo --out demo                       # everything offline, on synthetic data',
    'iqa-bench predict --checkpoint koniq.safetensors photos/',
    'iqa-bench check --result runs/ci/summary.json --baseline ci/baseline.json',
    'iqa-bench <command> --help',
  ]);
  configure(program, io);
  return program;
}

/** Whether `--json` is among the arguments (before a `--` that ends the options). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * Runs the CLI with `argv` (the arguments after the program name) and resolves to the exit code; never throws and
 * never exits the process. Errors are printed as `iqa-bench: error: <message>`, with the stack only under `--verbose`;
 * with `--json`, an error object (ErrorJson: code, message, exit code, file, flag) is printed on stdout as well.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  let exitCode: ExitCode = ExitCode.ok;
  const program = createProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    const json = wantsJson(argv);
    if (err instanceof CommanderError) {
      // --help and --version end with exit code 0; every usage error (already printed by commander) with 2.
      if (err.exitCode === 0) return ExitCode.ok;
      if (json) {
        const message = err.message.replace(/^error: /, '');
        io.stdout.write(`${JSON.stringify(errorJson(err, message, ExitCode.badInput), null, 2)}\n`);
      }
      return ExitCode.badInput;
    }
    const code = err instanceof CliError ? err.exitCode : ExitCode.badInput;
    const message = describeError(err);
    io.stderr.write(`iqa-bench: error: ${message.replace(/\n/g, '\n  ')}\n`);
    if (argv.includes('--verbose') && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    if (json) io.stdout.write(`${JSON.stringify(errorJson(err, message, code), null, 2)}\n`);
    return code;
  }
}
