/**
 * @iqa-bench/cli — the `iqa-bench` command. The command is the interface; this module exports what scripts and tests
 * need to run it in-process and to read and compare the result files it writes.
 */
export { runCli, createProgram, VERSION } from './program.js';
export { ExitCode, CliError } from './errors.js';
export type { CliIo, TextSink } from './io.js';
export type { DatasetResult, MetricName, Predictions, ResultFile } from '@iqa-bench/metrics';
export { METRIC_DIRECTIONS, METRIC_NAMES, RESULT_SCHEMA } from '@iqa-bench/metrics';
export type { LoadedResult } from './result.js';
export { parseResult, readResult } from './result.js';
export type { CheckReport, CheckRow, CheckStatus } from './check.js';
export { CHECK_SCHEMA, compareResults } from './check.js';
