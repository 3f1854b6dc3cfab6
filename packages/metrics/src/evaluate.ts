/** `evaluate`: every number of an IQA evaluation in one object. */
import {
  bootstrapF64,
  type BootstrapMetric,
  type BootstrapOptions,
  type ConfidenceInterval,
} from './bootstrap.js';
import { kendallF64, maeF64, pearsonF64, rmseF64, spearmanF64 } from './correlation.js';
import { constantReason, isConstant, readColumns, type NonFinitePolicy, type Vector } from './input.js';
import { fitLogisticF64, type LogisticFit, type LogisticParams } from './logistic.js';

export interface EvaluateOptions {
  /**
   * Ground truth is lower-is-better (DMOS) while predictions are higher-is-better: SRCC/PLCC/KRCC are
   * computed against −mos (agreement is positive) and the logistic starts decreasing. Default false.
   */
  lowerIsBetter?: boolean;
  /** NaN/±Infinity: 'error' (default) throws; 'drop' leaves such pairs out and reports `dropped`. */
  nonFinite?: NonFinitePolicy;
  /** Logistic mapping before the mapped PLCC/RMSE: 4 (VQEG, default), 5, or false for none. */
  logistic?: LogisticParams | false;
  /** Seeded bootstrap confidence intervals; omitted = none. */
  bootstrap?: Omit<BootstrapOptions, 'lowerIsBetter' | 'nonFinite'>;
}

/** PLCC and errors after the logistic mapping f(pred) ≈ mos. */
export interface MappedMetrics {
  /** pearsonr(f(pred), mos); NaN when the fit did not converge or is undefined (see `reasons.mapped`). */
  readonly plcc: number;
  /** RMSE of f(pred) against mos, in MOS units. */
  readonly rmse: number;
  /** MAE of f(pred) against mos. */
  readonly mae: number;
  /** The fit (null when it was not attempted, e.g. constant pred). */
  readonly fit: LogisticFit | null;
}

/** Fields of an Evaluation that can be NaN, each with its reason. */
export type UndefinedField = 'srcc' | 'plcc' | 'krcc' | 'mapped';

export interface Evaluation {
  /** Pairs used. */
  readonly n: number;
  /** Pairs dropped for non-finite values (only with nonFinite: 'drop'). */
  readonly dropped: number;
  readonly lowerIsBetter: boolean;
  readonly srcc: number;
  /** PLCC on the raw predictions (what HyperIQA and pyiqa report). */
  readonly plcc: number;
  readonly krcc: number;
  /** RMSE and MAE of the raw predictions against mos (meaningful when both are on the same scale). */
  readonly rmse: number;
  readonly mae: number;
  /** Logistic-mapped metrics; null when options.logistic is false. */
  readonly mapped: MappedMetrics | null;
  /** Why a NaN field is NaN, keyed by field; empty when every field is defined. */
  readonly reasons: Partial<Record<UndefinedField, string>>;
  /** Bootstrap intervals per metric; null unless options.bootstrap is given. */
  readonly intervals: Partial<Record<BootstrapMetric, ConfidenceInterval>> | null;
}

function mappedMetrics(
  x: Float64Array,
  y: Float64Array,
  params: LogisticParams,
  lowerIsBetter: boolean,
  reasons: Partial<Record<UndefinedField, string>>,
): MappedMetrics {
  const undefinedMapping = (why: string, fit: LogisticFit | null): MappedMetrics => {
    reasons.mapped = why;
    return { plcc: Number.NaN, rmse: Number.NaN, mae: Number.NaN, fit };
  };
  if (x.length < params) {
    return undefinedMapping(
      `a ${params}-parameter logistic needs at least ${params} pairs, got ${x.length}`,
      null,
    );
  }
  if (isConstant(x))
    return undefinedMapping(`pred is constant (all values are ${x[0]}): no mapping can be fitted`, null);
  const fit = fitLogisticF64(x, y, { params, lowerIsBetter });
  if (!fit.converged) {
    return undefinedMapping(`the ${params}-parameter logistic fit did not converge: ${fit.message}`, fit);
  }
  const plcc = pearsonF64(fit.fitted, y);
  if (Number.isNaN(plcc)) {
    const why = isConstant(y) ? 'mos is constant' : 'the fitted mapping is constant over the data';
    reasons.mapped = `${why}: the mapped correlation is undefined`;
  }
  return { plcc, rmse: rmseF64(fit.fitted, y), mae: maeF64(fit.fitted, y), fit };
}

function evaluateF64(
  x: Float64Array,
  y: Float64Array,
  dropped: number,
  options: EvaluateOptions,
): Evaluation {
  const lowerIsBetter = options.lowerIsBetter === true;
  const sign = lowerIsBetter ? -1 : 1;
  const logistic = options.logistic ?? 4;
  if (logistic !== false && logistic !== 4 && logistic !== 5) {
    throw new RangeError(`evaluate: logistic must be 4, 5 or false, got ${String(logistic)}`);
  }
  const reasons: Partial<Record<UndefinedField, string>> = {};
  const why = constantReason(x, y);
  if (why !== undefined) {
    reasons.srcc = why;
    reasons.plcc = why;
    reasons.krcc = why;
  }
  const intervals =
    options.bootstrap === undefined
      ? null
      : bootstrapF64('evaluate', x, y, { ...options.bootstrap, lowerIsBetter });
  return {
    n: x.length,
    dropped,
    lowerIsBetter,
    srcc: sign * spearmanF64(x, y),
    plcc: sign * pearsonF64(x, y),
    krcc: sign * kendallF64(x, y),
    rmse: rmseF64(x, y),
    mae: maeF64(x, y),
    mapped: logistic === false ? null : mappedMetrics(x, y, logistic, lowerIsBetter, reasons),
    reasons,
    intervals,
  };
}

/**
 * Evaluates predictions against ground truth: SRCC, PLCC, KRCC, RMSE, MAE on the raw predictions, PLCC/RMSE/MAE
 * after the VQEG logistic mapping (4 parameters by default), reasons for every NaN, and optional seeded
 * bootstrap intervals.
 */
export function evaluate(pred: Vector, mos: Vector, options: EvaluateOptions = {}): Evaluation {
  const { columns, dropped } = readColumns(
    'evaluate',
    [
      ['pred', pred],
      ['mos', mos],
    ],
    options.nonFinite,
  );
  return evaluateF64(columns[0], columns[1], dropped, options);
}

/** evaluate on checked columns, with the dropped count of an earlier filter (used by MetricAccumulator). */
export { evaluateF64 };
