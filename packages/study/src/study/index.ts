/** Studies: the study file, its resolution into content-addressed runs, the executors and the report input. */
export type { StudyDatasetRef, StudyFile, StudyFileInput } from './file.js';
export {
  MAX_SEEDS,
  MAX_VARIANTS,
  parseStudyFile,
  readStudyFile,
  StudyError,
  studyFileSchema,
} from './file.js';
export type {
  EvalSetSpec,
  ResolveOptions,
  ResolvedStudy,
  ResolvedVariant,
  RunSpec,
  StudyRecipe,
} from './resolve.js';
export { resolveStudy, runDirOf, RUNS_DIR, SPLIT_FILE } from './resolve.js';
export type { ExecuteOptions, RunManifest, RunOutcome } from './run.js';
export { evaluateRun, executeRun, readRunManifest, RESULT_FILE, RUN_MANIFEST_FILE } from './run.js';
export type { RunFolderState, StudyRunState } from './state.js';
export { studyState } from './state.js';
export type { LocalRunOptions, StudyEvent, StudyRunResult } from './local.js';
export { runStudyLocal } from './local.js';
export type { QueueRunOptions, StudyRunPayload } from './queue-run.js';
export { registerStudyRunKind, runStudyQueue, STUDY_RUN_KIND } from './queue-run.js';
export type { CollectOptions } from './collect.js';
export { collectStudyReportInput } from './collect.js';
export type { ExampleName } from './example.js';
export { ABLATION_BASE, ABLATION_STUDY, EXAMPLE_NAMES, writeExampleStudy } from './example.js';
