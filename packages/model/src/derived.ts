/**
 * Tensors derived from parameters (q/k/v weight slices, relative-position biases in the attention layout), computed
 * once and reused across inference calls.
 *
 * Why: XNNPACK packs a product's right operand once per tensor, so a weight sliced afresh on every call is re-packed on
 * every call; and the one-hot bias product and wasm's Slice (which copies its whole input out of the heap) cost more than
 * the layers they feed. An entry is valid while its source tensors keep their data (tf.Variable.assign gives a
 * variable new data, so loading weights invalidates it). Under a gradient tape nothing is cached: the derivation then
 * runs inside the graph so that gradients reach the parameters.
 */
import * as tf from '@tensorflow/tfjs';

interface Entry {
  deps: tf.DataId[];
  value: tf.Tensor;
}

/** True while tfjs records operations for a gradient (tf.grad / tf.variableGrads / customGrad backward). */
export function recordingGradients(): boolean {
  return tf.engine().state.gradientDepth > 0;
}

export class DerivedCache {
  private readonly entries = new Map<string, Entry>();

  /**
   * `compute()` (run in a tidy) under a tape; otherwise the cached value for `key` when `deps` still hold the same data,
   * else a fresh one, kept outside any tidy scope. The cache owns the value: do not dispose it.
   */
  get(key: string, deps: readonly tf.Tensor[], compute: () => tf.Tensor): tf.Tensor {
    if (recordingGradients()) return compute();
    const e = this.entries.get(key);
    if (e && e.deps.length === deps.length && e.deps.every((d, i) => d === deps[i].dataId)) return e.value;
    e?.value.dispose();
    const value = tf.keep(tf.tidy(compute));
    this.entries.set(key, { deps: deps.map((d) => d.dataId), value });
    return value;
  }

  get size(): number {
    return this.entries.size;
  }

  dispose(): void {
    for (const e of this.entries.values()) e.value.dispose();
    this.entries.clear();
  }
}
