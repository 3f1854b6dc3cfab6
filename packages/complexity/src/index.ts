/** @iqa-bench/complexity: parameters, MACs/FLOPs from the executed tfjs kernels, latency and throughput. */
export { kernelCost, countedKernelNames, matMulDims, registerKernelCost, OP_CATEGORIES } from './kernels.js';
export type { OpCategory, KernelCall, KernelCost, KernelCostRule, TensorMeta } from './kernels.js';
export { traceKernels, isUserScope, dataKeyOf } from './trace.js';
export type { KernelTrace, TracedKernel, TracedTensor } from './trace.js';
export { countOps, summarizeKernels, scopePath, UNATTRIBUTED, ATTRIBUTION_METHODS } from './ops.js';
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
export { MODULE_GROUPS, moduleGroup, parameterModule } from './modules.js';
export type { ModuleGroup } from './modules.js';
export {
  measureLatency,
  measureThroughput,
  measurePeakMemory,
  timeForward,
  latencyStats,
  quantile,
  repeatBatch,
  isOutOfMemoryError,
  WASM_HEAP_LIMIT_BYTES,
} from './latency.js';
export type {
  LatencyStats,
  TimingOptions,
  ForwardFn,
  ForwardOutput,
  ThroughputEntry,
  ThroughputOptions,
  ThroughputStatus,
} from './latency.js';
export { describeEnvironment, detectGpuName } from './environment.js';
export type { Environment, EnvironmentOptions } from './environment.js';
export {
  SCHEMA_VERSION,
  complexityReportSchema,
  validateComplexityReport,
  complexityReportJsonSchema,
} from './schema.js';
export type { ComplexityReport, ModelComplexity, ReferenceCheck, OpCountRecord } from './schema.js';
export { MODEL_REFERENCES, REFERENCE_MODELS, referenceFor } from './references.js';
export type { ReferenceModel, ModelReference } from './references.js';
export { analyzeModel, makeReport, mergeReports, referenceChecks, TOOL_VERSION } from './analyze.js';
export type { AnalyzableModel, AnalyzeOptions, TimingScope } from './analyze.js';
export { toMarkdown, toLatex, latexEscape } from './format.js';
export type { TableOptions } from './format.js';
