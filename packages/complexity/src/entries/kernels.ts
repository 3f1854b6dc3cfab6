/**
 * `@iqa-bench/complexity/kernels`: what sits under countOps: the kernel tables (which kernels have a counting rule,
 * the categories, the product dimensions of a matmul call), the trace helpers, and how a kernel is attributed to a
 * module and a module group.
 */
export { countedKernelNames, matMulDims, OP_CATEGORIES } from '../kernels.js';
export { dataKeyOf, isUserScope } from '../trace.js';
export { ATTRIBUTION_METHODS, scopePath, summarizeKernels, UNATTRIBUTED } from '../ops.js';
export { MODULE_GROUPS, moduleGroup, parameterModule } from '../modules.js';
