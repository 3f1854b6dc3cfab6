/** A streaming collector of (pred, mos) pairs for long evaluations (one batch at a time). */
import { evaluateF64, type Evaluation, type EvaluateOptions } from './evaluate.js';
import { readColumns, type NonFinitePolicy, type Vector } from './input.js';

export interface AccumulatorOptions {
  /** NaN/±Infinity pairs: 'error' (default) throws at push time; 'drop' skips and counts them. */
  nonFinite?: NonFinitePolicy;
  /** Initial capacity in pairs (default 1024); the buffers double as needed. */
  initialCapacity?: number;
}

/**
 * Collects (pred, mos) pairs as they are produced and evaluates them at the end (or at any point).
 * Rank correlations need every pair, so the pairs are kept: 16 bytes each in growing Float64Arrays.
 */
export class MetricAccumulator {
  readonly #policy: NonFinitePolicy;
  #pred: Float64Array;
  #mos: Float64Array;
  #size = 0;
  #dropped = 0;

  constructor(options: AccumulatorOptions = {}) {
    const policy = options.nonFinite ?? 'error';
    if (policy !== 'error' && policy !== 'drop') {
      throw new RangeError(`MetricAccumulator: nonFinite must be 'error' or 'drop', got ${String(policy)}`);
    }
    const capacity = options.initialCapacity ?? 1024;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`MetricAccumulator: initialCapacity must be a positive integer, got ${capacity}`);
    }
    this.#policy = policy;
    this.#pred = new Float64Array(capacity);
    this.#mos = new Float64Array(capacity);
  }

  /** Number of pairs collected. */
  get size(): number {
    return this.#size;
  }

  /** Number of non-finite pairs skipped (nonFinite: 'drop'). */
  get dropped(): number {
    return this.#dropped;
  }

  #reserve(extra: number): void {
    const need = this.#size + extra;
    if (need <= this.#pred.length) return;
    let capacity = this.#pred.length;
    while (capacity < need) capacity *= 2;
    const pred = new Float64Array(capacity);
    const mos = new Float64Array(capacity);
    pred.set(this.#pred.subarray(0, this.#size));
    mos.set(this.#mos.subarray(0, this.#size));
    this.#pred = pred;
    this.#mos = mos;
  }

  /** Adds one pair. */
  push(pred: number, mos: number): void {
    if (typeof pred !== 'number' || typeof mos !== 'number') {
      throw new TypeError(
        `MetricAccumulator.push: pred and mos must be numbers, got ${typeof pred} and ${typeof mos}`,
      );
    }
    if (!Number.isFinite(pred) || !Number.isFinite(mos)) {
      if (this.#policy === 'drop') {
        this.#dropped++;
        return;
      }
      throw new RangeError(
        `MetricAccumulator.push: pair #${this.#size + this.#dropped} is (${pred}, ${mos}); values must be finite ` +
          `(construct with { nonFinite: 'drop' } to drop such pairs)`,
      );
    }
    this.#reserve(1);
    this.#pred[this.#size] = pred;
    this.#mos[this.#size] = mos;
    this.#size++;
  }

  /** Adds a batch of pairs (e.g. one data-loader batch). The batch is checked as a whole before anything is added. */
  pushMany(pred: Vector, mos: Vector): void {
    const { columns, dropped } = readColumns(
      'MetricAccumulator.pushMany',
      [
        ['pred', pred],
        ['mos', mos],
      ],
      this.#policy,
      0,
    );
    const [p, m] = columns;
    this.#reserve(p.length);
    this.#pred.set(p, this.#size);
    this.#mos.set(m, this.#size);
    this.#size += p.length;
    this.#dropped += dropped;
  }

  /** Copies of the collected pairs. */
  pairs(): { pred: Float64Array; mos: Float64Array } {
    return { pred: this.#pred.slice(0, this.#size), mos: this.#mos.slice(0, this.#size) };
  }

  /** Evaluates the pairs collected so far (see `evaluate`); `dropped` counts the pairs skipped on push. */
  evaluate(options: Omit<EvaluateOptions, 'nonFinite'> = {}): Evaluation {
    if (this.#size < 2) {
      throw new RangeError(`MetricAccumulator.evaluate: needs at least 2 pairs, got ${this.#size}`);
    }
    const pred = this.#pred.subarray(0, this.#size);
    const mos = this.#mos.subarray(0, this.#size);
    return evaluateF64(pred, mos, this.#dropped, options);
  }

  /** Forgets every pair and the dropped count. */
  reset(): void {
    this.#size = 0;
    this.#dropped = 0;
  }
}
