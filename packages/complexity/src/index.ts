/**
 * @iqa-bench/complexity: parameters, MACs/FLOPs from the executed tfjs kernels, latency and throughput.
 *
 * The main entry is the API of the README. The pieces underneath have entries of their own (package.json `exports`):
 * `./kernels` (kernel tables, traces, module attribution), `./timing` (timing helpers) and `./report` (report schema
 * and building blocks).
 */

// Counting: kernels, operations, parameters
export { kernelCost, registerKernelCost } from './kernels.js';
export type { OpCategory, KernelCall, KernelCost, KernelCostRule, TensorMeta } from './kernels.js';
export { traceKernels } from './trace.js';
export type { KernelTrace, TracedKernel, TracedTensor } from './trace.js';
export { countOps } from './ops.js';
export type {
  AttributionMethod,
  CountOpsOptions,
  OpCount,
  CountTotals,
  CategoryOps,
  KernelOps,
  ModuleOps,
  GroupOps,
  AttributionOps,
  KernelOpRecord,
} from './ops.js';
export { countParameters } from './params.js';
export type { ParamCount, ParamLike, ParamSource, ModuleParams, GroupParams } from './params.js';
export type { ModuleGroup } from './modules.js';

// Timing
export { measureLatency, measureThroughput, measurePeakMemory } from './latency.js';
export type {
  LatencyStats,
  TimingOptions,
  ForwardFn,
  ForwardOutput,
  ThroughputEntry,
  ThroughputOptions,
  ThroughputStatus,
} from './latency.js';

// Whole models and reports
export { analyzeModel, mergeReports } from './analyze.js';
export type { AnalyzableModel, AnalyzeOptions, TimingScope } from './analyze.js';
export { MODEL_REFERENCES, referenceFor } from './references.js';
export type { ReferenceModel, ModelReference } from './references.js';
export { validateComplexityReport, complexityReportJsonSchema } from './schema.js';
export type { ComplexityReport, ModelComplexity, ReferenceCheck, OpCountRecord } from './schema.js';
export { toMarkdown, toLatex } from './format.js';
export type { TableOptions } from './format.js';
export { describeEnvironment, detectGpuName } from './environment.js';
export type { Environment, EnvironmentOptions } from './environment.js';
