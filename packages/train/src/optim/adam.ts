/**
 * Adam / AdamW with parameter groups and torch.optim semantics (torch 1.13, amsgrad off):
 *
 *   t += 1
 *   adam:  g = g + wd * p                           (coupled L2, torch.optim.Adam)
 *   adamw: p = p * (1 - lr * wd)                    (decoupled decay, torch.optim.AdamW)
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *
 * tfjs has no AdamW and its Adam keys moments by position and uses eps 1e-7; here moments are keyed by parameter
 * name, eps defaults to 1e-8 like torch, and the whole state (step, moments, group LRs) exports and imports for
 * checkpoints.
 */
import * as tf from '@tensorflow/tfjs';

export interface NamedVariable {
  readonly name: string;
  readonly variable: tf.Variable;
}

export interface ParamGroupSpec {
  readonly name: string;
  readonly lr: number;
  readonly weightDecay: number;
  /** Parameter names of the group (each parameter in exactly one group). */
  readonly params: readonly string[];
}

export interface AdamOptions {
  kind: 'adam' | 'adamw';
  betas?: [number, number];
  eps?: number;
}

/** Serialisable optimizer state (moments as float32 arrays keyed by parameter name). */
export interface AdamState {
  kind: 'adam' | 'adamw';
  step: number;
  groups: { name: string; lr: number; weightDecay: number }[];
  moments: Map<string, { m: Float32Array; v: Float32Array }>;
}

interface Slot {
  readonly variable: tf.Variable;
  readonly group: number;
  readonly m: tf.Variable;
  readonly v: tf.Variable;
}

export class Adam {
  readonly kind: 'adam' | 'adamw';
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly groups: { name: string; lr: number; weightDecay: number }[];
  private readonly slots = new Map<string, Slot>();
  private t = 0;

  constructor(params: readonly NamedVariable[], groups: readonly ParamGroupSpec[], opts: AdamOptions) {
    this.kind = opts.kind;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    if (!(this.beta1 >= 0 && this.beta1 < 1 && this.beta2 >= 0 && this.beta2 < 1)) {
      throw new Error(`Adam: betas must be in [0, 1), got [${this.beta1}, ${this.beta2}]`);
    }
    this.groups = groups.map((g) => ({ name: g.name, lr: g.lr, weightDecay: g.weightDecay }));
    const byName = new Map(params.map((p) => [p.name, p.variable]));
    if (byName.size !== params.length) throw new Error('Adam: duplicate parameter names');
    groups.forEach((g, gi) => {
      for (const name of g.params) {
        const variable = byName.get(name);
        if (!variable) throw new Error(`Adam: group '${g.name}' names unknown parameter '${name}'`);
        if (this.slots.has(name)) throw new Error(`Adam: parameter '${name}' is in more than one group`);
        this.slots.set(name, {
          variable,
          group: gi,
          m: tf.variable(tf.zerosLike(variable), false),
          v: tf.variable(tf.zerosLike(variable), false),
        });
      }
    });
    const missing = params.filter((p) => !this.slots.has(p.name)).map((p) => p.name);
    if (missing.length > 0)
      throw new Error(`Adam: parameters in no group: ${missing.slice(0, 5).join(', ')}`);
  }

  /** Number of optimizer steps taken. */
  get step(): number {
    return this.t;
  }

  groupNames(): string[] {
    return this.groups.map((g) => g.name);
  }

  getLr(group: string): number {
    return this.group(group).lr;
  }

  setLr(group: string, lr: number): void {
    if (!(lr >= 0) || !Number.isFinite(lr))
      throw new Error(`Adam.setLr: lr must be a finite number >= 0, got ${lr}`);
    this.group(group).lr = lr;
  }

  private group(name: string): { name: string; lr: number; weightDecay: number } {
    const g = this.groups.find((x) => x.name === name);
    if (!g) throw new Error(`Adam: no parameter group '${name}' (have ${this.groupNames().join(', ')})`);
    return g;
  }

  /** One update from gradients keyed by parameter name (every parameter must have one). Does not dispose `grads`. */
  applyGradients(grads: ReadonlyMap<string, tf.Tensor>): void {
    for (const name of grads.keys()) {
      if (!this.slots.has(name))
        throw new Error(`Adam.applyGradients: gradient for unknown parameter '${name}'`);
    }
    this.t += 1;
    const { beta1: b1, beta2: b2, eps, t } = this;
    const bc1 = 1 - b1 ** t;
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    for (const [name, slot] of this.slots) {
      const grad = grads.get(name);
      if (!grad) throw new Error(`Adam.applyGradients: no gradient for parameter '${name}'`);
      const { lr, weightDecay: wd } = this.groups[slot.group];
      tf.tidy(() => {
        const p = slot.variable;
        let g: tf.Tensor = grad;
        if (this.kind === 'adam' && wd !== 0) g = g.add(p.mul(tf.scalar(wd)));
        const m = slot.m.mul(tf.scalar(b1)).add(g.mul(tf.scalar(1 - b1)));
        const v = slot.v.mul(tf.scalar(b2)).add(g.square().mul(tf.scalar(1 - b2)));
        slot.m.assign(m);
        slot.v.assign(v);
        const p0 = this.kind === 'adamw' && wd !== 0 ? p.mul(tf.scalar(1 - lr * wd)) : p;
        const denom = v.sqrt().div(tf.scalar(bc2Sqrt)).add(tf.scalar(eps));
        p.assign(p0.sub(m.div(denom).mul(tf.scalar(lr / bc1))));
      });
    }
  }

  exportState(): AdamState {
    const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
    for (const [name, slot] of this.slots) {
      moments.set(name, { m: slot.m.dataSync() as Float32Array, v: slot.v.dataSync() as Float32Array });
    }
    return { kind: this.kind, step: this.t, groups: this.groups.map((g) => ({ ...g })), moments };
  }

  importState(state: AdamState): void {
    if (state.kind !== this.kind)
      throw new Error(`Adam.importState: state is '${state.kind}', optimizer is '${this.kind}'`);
    if (!Number.isInteger(state.step) || state.step < 0)
      throw new Error(`Adam.importState: bad step ${state.step}`);
    for (const name of state.moments.keys()) {
      if (!this.slots.has(name)) throw new Error(`Adam.importState: moments for unknown parameter '${name}'`);
    }
    for (const [name, slot] of this.slots) {
      const mv = state.moments.get(name);
      if (!mv) throw new Error(`Adam.importState: no moments for parameter '${name}'`);
      if (mv.m.length !== slot.variable.size || mv.v.length !== slot.variable.size) {
        throw new Error(
          `Adam.importState: moments of '${name}' have ${mv.m.length} values, expected ${slot.variable.size}`,
        );
      }
      slot.m.assign(tf.tensor(mv.m, slot.variable.shape, 'float32'));
      slot.v.assign(tf.tensor(mv.v, slot.variable.shape, 'float32'));
    }
    for (const g of state.groups) {
      const mine = this.group(g.name);
      mine.lr = g.lr;
      mine.weightDecay = g.weightDecay;
    }
    this.t = state.step;
  }

  dispose(): void {
    for (const slot of this.slots.values()) {
      slot.m.dispose();
      slot.v.dispose();
    }
    this.slots.clear();
  }
}

/**
 * The original's two parameter groups: `backbone` (names starting with one of `backbonePrefixes`: the Swin/ResNet
 * backbone and the LDA heads, which live under `swin.` / `res.`) at `lr`, `head` (everything else) at lr x lrRatio.
 * Groups keep the parameters' order. Empty groups are dropped.
 */
export function originalParamGroups(
  names: readonly string[],
  opts: { lr: number; lrRatio: number; weightDecay: number; backbonePrefixes: readonly string[] },
): ParamGroupSpec[] {
  const isBackbone = (n: string) => opts.backbonePrefixes.some((p) => n.startsWith(p));
  const groups: ParamGroupSpec[] = [
    { name: 'backbone', lr: opts.lr, weightDecay: opts.weightDecay, params: names.filter(isBackbone) },
    {
      name: 'head',
      lr: opts.lr * opts.lrRatio,
      weightDecay: opts.weightDecay,
      params: names.filter((n) => !isBackbone(n)),
    },
  ];
  return groups.filter((g) => g.params.length > 0);
}
