/**
 * Operation counting: trace one call of a forward function, cost every executed kernel (kernels.ts) and attribute it
 * to a module.
 *
 * Module attribution, in this order (the method used is recorded per kernel and summarised):
 * 1. `scope`: the named scopes the kernel ran in (`tf.tidy('swin.backbone.layers_0', fn)`). Nested names may be full
 *    paths (`swin`, `swin.backbone`) or relative (`swin`, `backbone`); both compose to `swin.backbone`. When the
 *    kernel also has parameter inputs from a module *below* the scope path, that finer module is used.
 * 2. `params`: no named scope; the module of the kernel's (largest) parameter input, found by tensor id in the
 *    ParamSource, also through data movement and computations on parameters alone (a reshaped weight, a weight with
 *    BatchNorm folded in still belongs to its module).
 * 3. `dataflow`: neither; the common module of the kernel's inputs as attributed so far (GELU after `mlp.fc1`
 *    belongs to `mlp.fc1`; a residual add of two blocks' outputs to their common parent).
 * 4. `none`: nothing known; reported under the module `(unattributed)`.
 */
import { OP_CATEGORIES, kernelCost } from './kernels.js';
import type { OpCategory } from './kernels.js';
import { MODULE_GROUPS, commonModulePrefix, flattenTree, moduleGroup, parameterModule } from './modules.js';
import type { ModuleGroup } from './modules.js';
import type { ParamSource } from './params.js';
import { disposeOutput, tidyForward } from './latency.js';
import type { ForwardOutput } from './latency.js';
import { dataKeyOf, traceKernels } from './trace.js';
import type { TracedKernel } from './trace.js';
import type * as tf from '@tensorflow/tfjs';

export const ATTRIBUTION_METHODS = ['scope', 'params', 'dataflow', 'none'] as const;
export type AttributionMethod = (typeof ATTRIBUTION_METHODS)[number];

/** Module name used for kernels that could not be attributed. */
export const UNATTRIBUTED = '(unattributed)';

export interface CountOpsOptions {
  /**
   * The model's named tensors. Used to attribute kernels outside named scopes to the module of their parameter
   * inputs, and to split MACs into `weightMacs` and `activationMacs`. Without it only scopes and dataflow are used.
   */
  params?: ParamSource;
  /**
   * The tensors the forward reads as data (the image batch). Kernels that depend on none of them (e.g. a
   * relative-position bias computed from its table and a constant one-hot matrix) are counted in `inputIndependent`:
   * work that could be computed once, not per image. Without `inputs` every kernel counts as input-dependent.
   */
  inputs?: readonly tf.Tensor[];
  /** Keep one record per executed kernel in the result (default false; a Swin-B forward has ~2,000). */
  keepKernels?: boolean;
  /**
   * Data key (`dataKeyOf(tensor.dataId)`) -> parameter names, read and extended by the count. Pass the same map to successive counts of one model:
   * tensors the model derives from its parameters in one call and caches (folded BatchNorm weights, q/k/v slices)
   * then keep their parameter names in later calls, where they are no longer computed from the parameters.
   */
  paramProvenance?: Map<number, string[]>;
}

export interface CountTotals {
  calls: number;
  macs: number;
  flops: number;
}

export interface CategoryOps extends CountTotals {
  readonly category: OpCategory;
}

export interface KernelOps extends CountTotals {
  readonly kernel: string;
  readonly category: OpCategory;
}

export interface ModuleOps extends CountTotals {
  readonly path: string;
  readonly depth: number;
}

export interface GroupOps extends CountTotals {
  readonly group: ModuleGroup;
  /** The part of `macs` from input-independent kernels (0 without `inputs`). */
  inputIndependentMacs: number;
}

export interface AttributionOps extends CountTotals {
  readonly method: AttributionMethod;
}

/** One executed kernel with its cost and attribution (kept with `keepKernels: true`). */
export interface KernelOpRecord {
  readonly index: number;
  readonly kernel: string;
  readonly category: OpCategory;
  /** false when no input of the kernel depends on `options.inputs` (always true without inputs). */
  readonly inputDependent: boolean;
  readonly macs: number;
  readonly flops: number;
  readonly module: string;
  readonly method: AttributionMethod;
  /** Parameter names among the inputs (directly or through data-movement kernels). */
  readonly paramInputs: readonly string[];
  readonly inputShapes: Readonly<Record<string, readonly number[]>>;
  readonly outputShapes: readonly (readonly number[])[];
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly scopes: readonly string[];
}

export interface OpCount {
  readonly backend: string;
  readonly kernelCalls: number;
  /** Multiply-accumulates of matmul / convolution / einsum kernels. */
  readonly macs: number;
  /** 2 x MACs + every other counted floating-point operation. */
  readonly flops: number;
  /**
   * MACs of input-dependent products of a tensor with weights (linear and convolution layers): with `inputs`, one
   * operand does not depend on them (a parameter, a constant, or a weight the model derived and cached); without,
   * an operand derives from a parameter of `params`.
   */
  readonly weightMacs: number;
  /**
   * MACs of products of two computed tensors (attention q.k^T and attn.v, the TargetNet with its generated weights).
   */
  readonly activationMacs: number;
  /**
   * Kernels that do not depend on `options.inputs` (parameter preprocessing that could be done once); null when no
   * inputs were given. macs = weightMacs + activationMacs + inputIndependent.macs.
   */
  readonly inputIndependent: CountTotals | null;
  readonly byCategory: CategoryOps[];
  /** Sorted by FLOPs, largest first. */
  readonly byKernel: KernelOps[];
  /** Every module prefix, depth-first in execution order; ancestors include their descendants. */
  readonly modules: ModuleOps[];
  readonly groups: GroupOps[];
  readonly attribution: AttributionOps[];
  /** Executed kernels without a counting rule (counted as 0 FLOPs). */
  readonly uncounted: { kernel: string; calls: number }[];
  /** Live tensor bytes before the call and the highest seen after any kernel (weights included). */
  readonly memory: { baselineBytes: number; peakBytes: number };
  readonly kernels?: KernelOpRecord[];
}

/** Inputs of a multiply-accumulate kernel that are not its operands. */
const NON_OPERANDS = new Set(['bias', 'preluActivationWeights']);

/**
 * Whether a MAC kernel multiplies two computed tensors (attention, TargetNet) rather than a tensor by weights. With
 * known inputs: two or more operands depend on them (so a weight the model derived from its parameters and cached
 * in an earlier call still counts as a weight). Without: no operand derives from a parameter.
 */
function isActivationProduct(
  k: TracedKernel,
  paramOf: Map<number, string[]>,
  dependent: Set<number> | null,
): boolean {
  const operands = Object.entries(k.inputs)
    .filter(([name]) => !NON_OPERANDS.has(name))
    .map(([, t]) => t);
  if (dependent !== null) return operands.filter((t) => dependent.has(t.data)).length >= 2;
  return operands.every((t) => !paramOf.has(t.data));
}

/**
 * The module of a kernel's parameter inputs: that of the largest parameter (a convolution with BatchNorm folded into
 * its weights belongs to the convolution, a linear layer with a LayerNorm affine folded in to the linear layer).
 */
function mainParameterModule(names: readonly string[], sizes: ReadonlyMap<string, number>): string {
  let best: string | null = null;
  for (const n of names) if (best === null || (sizes.get(n) ?? 0) > (sizes.get(best) ?? 0)) best = n;
  return best === null ? '' : parameterModule(best);
}

/** Composes nested scope names into one module path; accepts both full-path and relative names. */
export function scopePath(scopes: readonly string[]): string {
  let path = '';
  for (const name of scopes) {
    if (path === '' || name === path || name.startsWith(`${path}.`)) path = name;
    else path = `${path}.${name}`;
  }
  return path;
}

const totals = (): CountTotals => ({ calls: 0, macs: 0, flops: 0 });
const addTo = (acc: CountTotals, calls: number, macs: number, flops: number): void => {
  acc.calls += calls;
  acc.macs += macs;
  acc.flops += flops;
};

/**
 * Runs `fn` once (inside `tf.tidy`; whatever it returns is disposed) and counts the MACs and FLOPs of every kernel it
 * executes, by kernel, category, module and IQA module group.
 */
export function countOps(fn: () => ForwardOutput, options: CountOpsOptions = {}): OpCount {
  for (const t of options.inputs ?? []) {
    if (t.isDisposed) throw new Error('countOps inputs: a tensor in `inputs` is disposed');
  }
  const trace = traceKernels(() => tidyForward(fn));
  disposeOutput(trace.result);
  return summarizeKernels(trace.kernels, {
    backend: trace.backend,
    baselineBytes: trace.baselineBytes,
    peakBytes: trace.peakBytes,
    ...options,
  });
}

/** Costs and attributes traced kernels (the part of `countOps` after tracing). */
export function summarizeKernels(
  traced: readonly TracedKernel[],
  context: CountOpsOptions & { backend: string; baselineBytes: number; peakBytes: number },
): OpCount {
  // Provenance: tensor id -> parameter names it holds (a parameter, or data movement of parameters).
  const paramOf = context.paramProvenance ?? new Map<number, string[]>();
  const paramSize = new Map<string, number>();
  for (const e of context.params?.list() ?? []) {
    paramOf.set(dataKeyOf(e.variable.dataId), [e.name]);
    paramSize.set(e.name, e.variable.size);
  }
  // Attribution of computed tensors: tensor id -> module path.
  const moduleOf = new Map<number, string>();
  // Tensors that depend on the data inputs (null: no inputs given, everything counts as dependent).
  const dependent = context.inputs ? new Set(context.inputs.map((t) => dataKeyOf(t.dataId))) : null;
  const independent = dependent ? totals() : null;

  const byCategory = new Map<OpCategory, CountTotals>(OP_CATEGORIES.map((c) => [c, totals()]));
  const byKernel = new Map<string, KernelOps>();
  const byMethod = new Map<AttributionMethod, CountTotals>(ATTRIBUTION_METHODS.map((m) => [m, totals()]));
  const byGroup = new Map<ModuleGroup, CountTotals & { inputIndependentMacs: number }>();
  const uncounted = new Map<string, number>();
  const leaves: [string, { macs: number; flops: number }][] = [];
  const records: KernelOpRecord[] = [];
  let macs = 0;
  let flops = 0;
  let weightMacs = 0;
  let activationMacs = 0;

  for (const k of traced) {
    const cost = kernelCost(k);
    const inputs = Object.values(k.inputs);
    const paramInputs = [...new Set(inputs.flatMap((t) => paramOf.get(t.data) ?? []))];
    const paramModule = mainParameterModule(paramInputs, paramSize);
    const scoped = scopePath(k.scopes);
    let module = '';
    let method: AttributionMethod = 'none';
    if (scoped !== '') {
      module = paramInputs.length > 0 && paramModule.startsWith(`${scoped}.`) ? paramModule : scoped;
      method = 'scope';
    } else if (paramModule !== '') {
      module = paramModule;
      method = 'params';
    } else {
      const upstream = inputs.map((t) => moduleOf.get(t.data)).filter((m): m is string => m !== undefined);
      const common = commonModulePrefix(upstream);
      if (common !== '') {
        module = common;
        method = 'dataflow';
      }
    }
    const isDependent = dependent === null || inputs.some((t) => dependent.has(t.data));
    // Parameter provenance flows through data movement and, when the inputs are known, through any computation on
    // parameters and constants alone (a weight slice scaled, a bias table re-laid out).
    const derivesParams =
      paramInputs.length > 0 && (cost.category === 'data' || (dependent !== null && !isDependent));
    for (const o of k.outputs) {
      if (o.data < 0) continue; // no dataId: nothing to follow
      if (module !== '') moduleOf.set(o.data, module);
      if (derivesParams) paramOf.set(o.data, paramInputs);
      if (isDependent && dependent !== null) dependent.add(o.data);
    }

    macs += cost.macs;
    flops += cost.flops;
    if (!isDependent) addTo(independent!, 1, cost.macs, cost.flops);
    else if (cost.macs > 0 && isActivationProduct(k, paramOf, dependent)) activationMacs += cost.macs;
    else weightMacs += cost.macs;
    addTo(byCategory.get(cost.category)!, 1, cost.macs, cost.flops);
    const kernelAcc = byKernel.get(k.kernel) ?? { kernel: k.kernel, category: cost.category, ...totals() };
    addTo(kernelAcc, 1, cost.macs, cost.flops);
    byKernel.set(k.kernel, kernelAcc);
    addTo(byMethod.get(method)!, 1, cost.macs, cost.flops);
    const group = module === '' ? 'other' : moduleGroup(module);
    const groupAcc = byGroup.get(group) ?? { ...totals(), inputIndependentMacs: 0 };
    addTo(groupAcc, 1, cost.macs, cost.flops);
    if (!isDependent) groupAcc.inputIndependentMacs += cost.macs;
    byGroup.set(group, groupAcc);
    if (!cost.counted) uncounted.set(k.kernel, (uncounted.get(k.kernel) ?? 0) + 1);
    leaves.push([module === '' ? UNATTRIBUTED : module, { macs: cost.macs, flops: cost.flops }]);
    if (context.keepKernels) {
      records.push({
        index: k.index,
        kernel: k.kernel,
        category: cost.category,
        inputDependent: isDependent,
        macs: cost.macs,
        flops: cost.flops,
        module,
        method,
        paramInputs,
        inputShapes: Object.fromEntries(Object.entries(k.inputs).map(([n, t]) => [n, t.shape])),
        outputShapes: k.outputs.map((o) => o.shape),
        attrs: k.attrs,
        scopes: k.scopes,
      });
    }
  }

  const modules = flattenTree(leaves, totals, (acc, v) => addTo(acc, 1, v.macs, v.flops)).map(
    ({ path, depth, value }) => ({ path, depth, ...value }),
  );
  return {
    backend: context.backend,
    kernelCalls: traced.length,
    macs,
    flops,
    weightMacs,
    activationMacs,
    inputIndependent: independent,
    byCategory: OP_CATEGORIES.filter((c) => byCategory.get(c)!.calls > 0).map((c) => ({
      category: c,
      ...byCategory.get(c)!,
    })),
    byKernel: [...byKernel.values()].sort((a, b) => b.flops - a.flops || a.kernel.localeCompare(b.kernel)),
    modules,
    groups: MODULE_GROUPS.filter((g) => byGroup.has(g)).map((g) => ({ group: g, ...byGroup.get(g)! })),
    attribution: ATTRIBUTION_METHODS.filter((m) => byMethod.get(m)!.calls > 0).map((m) => ({
      method: m,
      ...byMethod.get(m)!,
    })),
    uncounted: [...uncounted.entries()].map(([kernel, calls]) => ({ kernel, calls })),
    memory: { baselineBytes: context.baselineBytes, peakBytes: context.peakBytes },
    ...(context.keepKernels ? { kernels: records } : {}),
  };
}
