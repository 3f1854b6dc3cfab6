/**
 * ParamStore: the named parameters and buffers of one model instance, keyed by the PyTorch state-dict name
 * (e.g. `swin.backbone.layers_0.blocks.0.attn.qkv.weight`), in PyTorch state-dict order.
 *
 * Values are held in the layout the tfjs compute wants; `layout` records how that relates to PyTorch's layout so
 * that weight import/export (src/weights/) converts generically:
 * - `identity`:  same shape and element order as torch (biases, LayerNorm, BN statistics, bias tables).
 * - `linear`:    torch Linear weight [out, in] is stored transposed as [in, out] (plain 2-D matmul x·W).
 * - `conv`:      torch Conv2d weight [out, in, kh, kw] is stored as tfjs filter [kh, kw, in, out].
 * - `conv1x1`:   torch Conv2d 1x1 weight [out, in, 1, 1] is stored as [in, out] (a matmul over channels).
 */
import * as tf from '@tensorflow/tfjs';

export type TorchLayout = 'identity' | 'linear' | 'conv' | 'conv1x1';

export interface ParamEntry {
  /** PyTorch state-dict key. */
  readonly name: string;
  readonly variable: tf.Variable;
  readonly layout: TorchLayout;
  /** false for buffers (BatchNorm running statistics, num_batches_tracked). */
  readonly trainable: boolean;
}

let storeCounter = 0;

export class ParamStore {
  private readonly entries = new Map<string, ParamEntry>();
  private readonly scope: string;

  constructor(scope = 'iqa') {
    storeCounter += 1;
    // tfjs variable names are global to the engine: make them unique per store.
    this.scope = `${scope}_${storeCounter}`;
  }

  /** Registers `value` (taken over, not copied) under the PyTorch name `name`. */
  add(name: string, value: tf.Tensor, opts: { layout?: TorchLayout; trainable?: boolean } = {}): tf.Variable {
    if (this.entries.has(name)) throw new Error(`ParamStore: parameter '${name}' is registered twice`);
    const trainable = opts.trainable ?? true;
    const variable = tf.variable(value, trainable, `${this.scope}/${name}`);
    value.dispose();
    this.entries.set(name, { name, variable, layout: opts.layout ?? 'identity', trainable });
    return variable;
  }

  get(name: string): tf.Variable {
    const e = this.entries.get(name);
    if (!e) throw new Error(`ParamStore: no parameter named '${name}'`);
    return e.variable;
  }

  entry(name: string): ParamEntry {
    const e = this.entries.get(name);
    if (!e) throw new Error(`ParamStore: no parameter named '${name}'`);
    return e;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Names in registration order, which is PyTorch state-dict order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  list(): ParamEntry[] {
    return [...this.entries.values()];
  }

  /** Trainable variables in a fixed order (optimizers index their slots by position). */
  trainableVariables(): tf.Variable[] {
    return this.list()
      .filter((e) => e.trainable)
      .map((e) => e.variable);
  }

  /** Element counts: every entry, and the trainable ones (buffers excluded). */
  count(): { total: number; trainable: number } {
    let total = 0;
    let trainable = 0;
    for (const e of this.entries.values()) {
      total += e.variable.size;
      if (e.trainable) trainable += e.variable.size;
    }
    return { total, trainable };
  }

  dispose(): void {
    for (const e of this.entries.values()) e.variable.dispose();
    this.entries.clear();
  }
}
