/**
 * Parameter counting from a model's named variables (an `@iqa-bench/model` ParamStore or anything shaped like it).
 *
 * Convention (the same as PyTorch's `sum(p.numel() for p in model.parameters())`, which the original's
 * 27,375,369 for HyperIQA-ResNet50 uses): **parameters** are the entries the store marks trainable (weights, biases,
 * LayerNorm affine, relative-position tables); **buffers** (entries marked non-trainable: BatchNorm running
 * statistics and `num_batches_tracked`) are reported separately and are not parameters. `trainable` counts the
 * parameters whose tf.Variable is currently trainable (equal to `total` unless a caller froze variables).
 */
import { MODULE_GROUPS, flattenTree, moduleGroup, parameterModule } from './modules.js';
import type { ModuleGroup } from './modules.js';

/** One named tensor of a model (structurally what `@iqa-bench/model`'s `ParamStore.list()` returns). */
export interface ParamLike {
  readonly name: string;
  readonly variable: { readonly dataId: object; readonly size: number; readonly trainable: boolean };
  /** false for buffers. */
  readonly trainable: boolean;
}

/** Anything that lists a model's named tensors in state-dict order, e.g. `@iqa-bench/model`'s ParamStore. */
export interface ParamSource {
  list(): readonly ParamLike[];
}

export interface ModuleParams {
  /** Module path (a state-dict prefix); depth = number of dotted components. */
  readonly path: string;
  readonly depth: number;
  readonly params: number;
  readonly buffers: number;
  /** Number of tensors (parameters + buffers) under the path. */
  readonly tensors: number;
}

export interface GroupParams {
  readonly group: ModuleGroup;
  readonly params: number;
  readonly buffers: number;
}

export interface ParamCount {
  /** Elements of all parameters (buffers excluded). */
  readonly total: number;
  /** Elements of the parameters whose variable is trainable. */
  readonly trainable: number;
  /** Elements of the buffers (BatchNorm running statistics, counters). */
  readonly buffers: number;
  readonly parameterTensors: number;
  readonly bufferTensors: number;
  /** Every module prefix of the state-dict names, depth-first in state-dict order. */
  readonly modules: ModuleParams[];
  /** Per IQA module group (only groups that hold something). */
  readonly groups: GroupParams[];
}

/** Counts the parameters and buffers of `source`, in total, per module prefix and per IQA module group. */
export function countParameters(source: ParamSource): ParamCount {
  const list = source.list();
  let total = 0;
  let trainable = 0;
  let buffers = 0;
  let parameterTensors = 0;
  for (const e of list) {
    if (e.trainable) {
      total += e.variable.size;
      parameterTensors += 1;
      if (e.variable.trainable) trainable += e.variable.size;
    } else {
      buffers += e.variable.size;
    }
  }
  const names = new Set(list.map((e) => e.name));
  const modules = flattenTree(
    list.map((e): [string, ParamLike] => [e.name, e]),
    () => ({ params: 0, buffers: 0, tensors: 0 }),
    (acc, e) => {
      if (e.trainable) acc.params += e.variable.size;
      else acc.buffers += e.variable.size;
      acc.tensors += 1;
    },
  )
    // The leaves are the tensors themselves; the report lists modules.
    .filter((n) => !names.has(n.path))
    .map(({ path, depth, value }) => ({ path, depth, ...value }));
  const byGroup = new Map<ModuleGroup, { params: number; buffers: number }>();
  for (const e of list) {
    const g = moduleGroup(parameterModule(e.name));
    const acc = byGroup.get(g) ?? { params: 0, buffers: 0 };
    if (e.trainable) acc.params += e.variable.size;
    else acc.buffers += e.variable.size;
    byGroup.set(g, acc);
  }
  const groups = MODULE_GROUPS.filter((g) => byGroup.has(g)).map((g) => ({ group: g, ...byGroup.get(g)! }));
  return {
    total,
    trainable,
    buffers,
    parameterTensors,
    bufferTensors: list.length - parameterTensors,
    modules,
    groups,
  };
}
