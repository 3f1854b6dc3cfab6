/**
 * VQEG nonlinear mapping from predictions to MOS before PLCC/RMSE: the 4- and 5-parameter logistic
 * functions with their customary initial guesses, fitted by Levenberg–Marquardt as curve_fit does.
 */
import { meanF64 } from './correlation.js';
import { isConstant, readColumns, type Vector } from './input.js';
import { LM_MESSAGES, levenbergMarquardt, lmDefaults, type LmStatus } from './levenberg-marquardt.js';

/** Number of parameters of the logistic mapping: 4 (VQEG) or 5 (Sheikh et al. 2006). */
export type LogisticParams = 4 | 5;

export interface FitLogisticOptions {
  /**
   * 4: f(x) = (b1 − b2) / (1 + exp(−(x − b3) / |b4|)) + b2, initial guess [max y, min y, mean x, std x / 4]
   * (std with ddof = 0).
   * 5: f(x) = b1·(0.5 − 1 / (1 + exp(b2·(x − b3)))) + b4·x + b5, initial guess [10, 0, mean y, 0.1, 0.1].
   */
  params: LogisticParams;
  /** Overrides the initial guess (length = params). */
  initial?: readonly number[];
  /**
   * The ground truth is lower-is-better (DMOS) and the predictions higher-is-better: the fit starts from
   * the mirrored guess (it fits −y from the usual guess) so the mapping decreases. Parameters and
   * fitted values are reported on the original y scale.
   */
  lowerIsBetter?: boolean;
  /**
   * Limit on function evaluations, those of the difference Jacobian included (default 200·(params + 1),
   * curve_fit's maxfev).
   */
  maxEvaluations?: number;
  /** Stopping tolerances, default 1.49012e-8 each as in scipy.optimize.curve_fit. */
  ftol?: number;
  xtol?: number;
}

/** Outcome of {@link fitLogistic}. */
export interface LogisticFit {
  /** 4 or 5. */
  readonly model: LogisticParams;
  /** Fitted b1..b4 or b1..b5, on the original y scale. */
  readonly params: readonly number[];
  /** Initial guess used, on the original y scale. */
  readonly initial: readonly number[];
  /** f(pred) for every pair. */
  readonly fitted: Float64Array;
  /** Sum of squared residuals Σ(f(pred) − mos)². */
  readonly cost: number;
  /** Whether Levenberg–Marquardt met its tolerance tests (MINPACK status 1–4, as curve_fit requires). */
  readonly converged: boolean;
  /** MINPACK-style status code (1–4 converged, 5 evaluation limit, 6–8 tolerance too small, 0 bad start). */
  readonly status: number;
  /** Why the fit stopped. */
  readonly message: string;
  /** Outer iterations (Jacobian evaluations). */
  readonly iterations: number;
  /** Function evaluations. */
  readonly evaluations: number;
  /** Applies the fitted mapping to other predictions (e.g. fit on one split, map another). */
  predict(pred: Vector): Float64Array;
}

interface Model {
  /** f(x), with the operations in the order of the usual numpy expression (curve_fit differences it). */
  value(b: Float64Array, x: number): number;
  start(x: Float64Array, y: Float64Array): number[];
  /** Parameters of −f when b are the parameters of f (the family is closed under negation). */
  negate(b: readonly number[]): number[];
}

const LOGISTIC_4: Model = {
  value(b, x) {
    return (b[0] - b[1]) / (1 + Math.exp(-(x - b[2]) / Math.abs(b[3]))) + b[1];
  },
  start(x, y) {
    let max = -Infinity;
    let min = Infinity;
    for (let i = 0; i < y.length; i++) {
      if (y[i] > max) max = y[i];
      if (y[i] < min) min = y[i];
    }
    const mx = meanF64(x);
    let ss = 0;
    for (let i = 0; i < x.length; i++) ss += (x[i] - mx) * (x[i] - mx);
    return [max, min, mx, Math.sqrt(ss / x.length) / 4];
  },
  negate(b) {
    return [-b[0], -b[1], b[2], b[3]];
  },
};

const LOGISTIC_5: Model = {
  value(b, x) {
    return b[0] * (0.5 - 1 / (1 + Math.exp(b[1] * (x - b[2])))) + b[3] * x + b[4];
  },
  start(_x, y) {
    return [10, 0, meanF64(y), 0.1, 0.1];
  },
  negate(b) {
    return [-b[0], b[1], b[2], -b[3], -b[4]];
  },
};

const MODELS: Record<LogisticParams, Model> = { 4: LOGISTIC_4, 5: LOGISTIC_5 };

function mapWith(model: Model, b: Float64Array, x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = model.value(b, x[i]);
  return out;
}

function checkPositiveInteger(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1)
    throw new RangeError(`${fn}: ${name} must be a positive integer, got ${v}`);
}

function checkTolerance(fn: string, name: string, v: number): void {
  if (!(v >= 0) || !Number.isFinite(v))
    throw new RangeError(`${fn}: ${name} must be a finite number >= 0, got ${v}`);
}

/** fitLogistic on checked columns (used by evaluate). */
export function fitLogisticF64(x: Float64Array, y: Float64Array, options: FitLogisticOptions): LogisticFit {
  const fn = 'fitLogistic';
  const k = options.params;
  const model = MODELS[k];
  if (model === undefined) throw new RangeError(`${fn}: params must be 4 or 5, got ${String(k)}`);
  if (x.length < k)
    throw new RangeError(`${fn}: a ${k}-parameter logistic needs at least ${k} pairs, got ${x.length}`);
  const defaults = lmDefaults(k);
  const maxEvaluations = options.maxEvaluations ?? defaults.maxEvaluations;
  const ftol = options.ftol ?? defaults.ftol;
  const xtol = options.xtol ?? defaults.xtol;
  checkPositiveInteger(fn, 'maxEvaluations', maxEvaluations);
  checkTolerance(fn, 'ftol', ftol);
  checkTolerance(fn, 'xtol', xtol);

  const flip = options.lowerIsBetter === true;
  // Fit the higher-is-better target t = ±y; map parameters back to y at the end.
  let target = y;
  if (flip) target = y.map((v) => -v);
  let start: number[];
  if (options.initial !== undefined) {
    if (options.initial.length !== k || !options.initial.every(Number.isFinite)) {
      throw new RangeError(`${fn}: initial must be ${k} finite numbers, got [${options.initial.join(', ')}]`);
    }
    start = flip ? model.negate(options.initial) : [...options.initial];
  } else {
    start = model.start(x, target);
  }
  const toY = (b: readonly number[]): number[] => (flip ? model.negate(b) : [...b]);

  const m = x.length;
  // No Jacobian: forward differences, as curve_fit does when it is given none.
  const result = levenbergMarquardt(
    {
      m,
      residuals(b, out) {
        for (let i = 0; i < m; i++) out[i] = model.value(b, x[i]) - target[i];
      },
    },
    start,
    { ...defaults, ftol, xtol, maxEvaluations },
  );
  const params = toY(Array.from(result.params));
  const b = Float64Array.from(params);
  let message = LM_MESSAGES[result.status as LmStatus];
  if (k === 4 && isConstant(x)) message = `pred is constant (all ${m} values are ${x[0]}): ${message}`;
  return {
    model: k,
    params,
    initial: toY(start),
    fitted: mapWith(model, b, x),
    cost: result.cost,
    converged: result.converged,
    status: result.status,
    message,
    iterations: result.iterations,
    evaluations: result.evaluations,
    predict(pred: Vector): Float64Array {
      const [p] = readColumns('LogisticFit.predict', [['pred', pred]], 'error', 0).columns;
      return mapWith(model, b, p);
    },
  };
}

/**
 * Fits the VQEG logistic mapping from predictions to MOS by Levenberg–Marquardt from the customary
 * initial guess (curve_fit's algorithm and tolerances). Check `converged` before using the result.
 */
export function fitLogistic(pred: Vector, mos: Vector, options: FitLogisticOptions): LogisticFit {
  if (options === undefined || options === null)
    throw new TypeError('fitLogistic: options { params: 4 | 5 } is required');
  const { columns } = readColumns('fitLogistic', [
    ['pred', pred],
    ['mos', mos],
  ]);
  return fitLogisticF64(columns[0], columns[1], options);
}
