/**
 * `@iqa-bench/train/run-folder`: the formats of a training run folder, each with its types, schema constants, writer
 * and validating reader. Other packages (the CLI's `check` and `report`) read run folders through them. Importing
 * this entry does not load TensorFlow.js.
 *
 *   config.json     how the run was made (resolved config, its hash, versions, backend, data)
 *   metrics.jsonl   one record per epoch and per round
 *   summary.json    the reported numbers (median over rounds, IQR) and a result entry for `iqa-bench check`
 *   checkpoints/last.ckpt   weights, optimizer moments and the trainer state (the state's format is here)
 */
export { MAX_RUN_FILE_BYTES, RunFolderError } from './files.js';
export {
  parseRunSummary,
  readRunSummary,
  RUN_METRICS,
  summaryResultEntry,
  SUMMARY_FILE,
  SUMMARY_SCHEMA,
  writeRunSummary,
  type RoundResult,
  type RoundStats,
  type RunMetric,
  type RunMetrics,
  type RunSummary,
} from './summary.js';
export {
  appendMetricsRecordSync,
  epochSelection,
  METRICS_LOG_FILE,
  parseMetricsLog,
  readMetricsLog,
  readMetricsLogSync,
  truncateMetricsLogSync,
  writeMetricsLogSync,
  type EpochRecord,
  type MetricsLog,
  type MetricsRecord,
  type RoundRecord,
} from './metrics-log.js';
export {
  CONFIG_FILE,
  parseRunConfigFile,
  readRunConfigFileSync,
  writeRunConfigFileSync,
  type RunConfigFile,
} from './config-file.js';
export { parseTrainerState, TRAINER_STATE_VERSION, type TrainerState } from './trainer-state.js';
