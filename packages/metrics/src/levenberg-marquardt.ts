/**
 * Levenberg–Marquardt least squares for a few parameters, following the trust-region algorithm of
 * Moré (1978, "The Levenberg–Marquardt algorithm: implementation and theory") that MINPACK's
 * lmdif/lmder implement and `scipy.optimize.curve_fit` calls: column-pivoted QR of the Jacobian,
 * scaling by the Jacobian column norms, a damping parameter chosen so the scaled step meets the
 * trust radius within 10 %, and the same ftol / xtol / gtol stopping tests and status codes.
 * The Jacobian is analytic here (lmder style) instead of forward differences (lmdif); both reach
 * the same optimum, the analytic one without the ~1e-8 differencing error.
 */

/** A least-squares problem: m residuals of n parameters. */
export interface LeastSquaresProblem {
  /** Number of residuals. */
  readonly m: number;
  /** Writes the residuals at `p` into `out` (length m). */
  residuals(p: Float64Array, out: Float64Array): void;
  /** Writes the Jacobian d residual_i / d p_j into `out`, column-major: column j at out[j·m .. j·m+m). */
  jacobian(p: Float64Array, out: Float64Array): void;
}

export interface LmOptions {
  /** Relative reduction of the sum of squares below which the fit stops (status 1). */
  ftol: number;
  /** Relative change of the scaled parameters below which the fit stops (status 2). */
  xtol: number;
  /** Cosine between residuals and Jacobian columns below which the fit stops (status 4). */
  gtol: number;
  /** Limit on residual evaluations (status 5). */
  maxEvaluations: number;
  /** Initial trust radius as a multiple of the scaled parameter norm. */
  factor: number;
}

/** MINPACK's defaults as curve_fit passes them (maxEvaluations aside). */
export const LM_DEFAULTS: LmOptions = {
  ftol: 1.49012e-8,
  xtol: 1.49012e-8,
  gtol: 0,
  maxEvaluations: 2000,
  factor: 100,
};

/** MINPACK's `info` codes: 1–4 converged, 5–8 stopped without converging, 0 = bad start. */
export type LmStatus = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export const LM_MESSAGES: Record<LmStatus, string> = {
  0: 'the residuals are not finite at the initial parameters',
  1: 'the relative reduction in the sum of squares is at most ftol',
  2: 'the relative error between two consecutive iterates is at most xtol',
  3: 'the relative reductions in the sum of squares and in the iterate are at most ftol and xtol',
  4: 'the residuals are orthogonal to the Jacobian columns to within gtol',
  5: 'the number of residual evaluations reached maxEvaluations',
  6: 'ftol is too small: no further reduction in the sum of squares is possible',
  7: 'xtol is too small: no further improvement in the parameters is possible',
  8: 'gtol is too small: the residuals are orthogonal to the Jacobian columns to machine precision',
};

export interface LmResult {
  readonly params: Float64Array;
  readonly residuals: Float64Array;
  /** Sum of squared residuals at `params`. */
  readonly cost: number;
  readonly status: LmStatus;
  readonly converged: boolean;
  /** Outer iterations (= Jacobian evaluations). */
  readonly iterations: number;
  /** Residual evaluations. */
  readonly evaluations: number;
}

const EPS = Number.EPSILON;
const DWARF = Number.MIN_VALUE * 2 ** 52; // smallest normal double, 2.2e-308

function norm(v: Float64Array, m = v.length, offset = 0): number {
  // Scaled 2-norm: safe from overflow and underflow.
  let scale = 0;
  for (let i = 0; i < m; i++) scale = Math.max(scale, Math.abs(v[offset + i]));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (let i = 0; i < m; i++) {
    const t = v[offset + i] / scale;
    s += t * t;
  }
  return scale * Math.sqrt(s);
}

/** Weighted norm ||d ∘ v||. */
function scaledNorm(d: Float64Array, v: Float64Array): number {
  const t = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) t[i] = d[i] * v[i];
  return norm(t);
}

/** Result of the column-pivoted QR of the Jacobian: R (n×n, row-major, pivoted column order), perm, Qᵀr. */
interface PivotedQr {
  r: Float64Array;
  perm: Int32Array;
  qtr: Float64Array;
}

/**
 * Householder QR with column pivoting of a (m×n, column-major, overwritten): a·P = Q·R.
 * Also applies Qᵀ to `res`. A column whose remaining norm is zero leaves a zero on R's diagonal.
 */
function pivotedQr(a: Float64Array, m: number, n: number, res: Float64Array): PivotedQr {
  const perm = new Int32Array(n);
  for (let j = 0; j < n; j++) perm[j] = j;
  const rhs = res.slice();
  const rdiag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    // Pivot: the remaining column with the largest norm below row k.
    let best = k;
    let bestNorm = -1;
    for (let j = k; j < n; j++) {
      const cn = norm(a, m - k, j * m + k);
      if (cn > bestNorm) {
        bestNorm = cn;
        best = j;
      }
    }
    if (best !== k) {
      for (let i = 0; i < m; i++) {
        const t = a[k * m + i];
        a[k * m + i] = a[best * m + i];
        a[best * m + i] = t;
      }
      const t = perm[k];
      perm[k] = perm[best];
      perm[best] = t;
    }
    const ck = k * m;
    const sigma = bestNorm;
    if (sigma === 0) {
      rdiag[k] = 0;
      continue;
    }
    const x0 = a[ck + k];
    const alpha = x0 > 0 ? -sigma : sigma;
    // v = x − alpha·e1 stored in place; vᵀv = 2·sigma·(sigma + |x0|).
    a[ck + k] -= alpha;
    const vtv = 2 * sigma * (sigma + Math.abs(x0));
    const reflect = (col: Float64Array, off: number): void => {
      let dot = 0;
      for (let i = k; i < m; i++) dot += a[ck + i] * col[off + i];
      const f = (2 * dot) / vtv;
      for (let i = k; i < m; i++) col[off + i] -= f * a[ck + i];
    };
    for (let j = k + 1; j < n; j++) reflect(a, j * m);
    reflect(rhs, 0);
    rdiag[k] = alpha;
  }
  // R is read at the end: later pivots swap whole columns, including the R entries above the diagonal.
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    r[i * n + i] = rdiag[i];
    for (let j = i + 1; j < n; j++) r[i * n + j] = a[j * m + i];
  }
  return { r, perm, qtr: rhs.subarray(0, n) };
}

/** Solves the upper-triangular R·z = b (n×n row-major) for the leading `rank` unknowns; the rest are 0. */
function backSubstitute(r: Float64Array, n: number, b: Float64Array, rank: number): Float64Array {
  const z = new Float64Array(n);
  for (let i = rank - 1; i >= 0; i--) {
    let s = b[i];
    for (let j = i + 1; j < rank; j++) s -= r[i * n + j] * z[j];
    z[i] = s / r[i * n + i];
  }
  return z;
}

/** Solves Rᵀ·u = w (forward substitution) with R upper triangular and non-singular. */
function forwardSubstituteTransposed(r: Float64Array, n: number, w: Float64Array): Float64Array {
  const u = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = w[i];
    for (let j = 0; j < i; j++) s -= r[j * n + i] * u[j];
    u[i] = s / r[i * n + i];
  }
  return u;
}

/**
 * The damped least-squares step in pivoted coordinates: minimises ||R·z + qtr||² + par·||dp ∘ z||².
 * Returns z and the triangular factor S of [R; √par·diag(dp)] (SᵀS = RᵀR + par·diag(dp)²).
 */
function dampedStep(
  r: Float64Array,
  n: number,
  qtr: Float64Array,
  dp: Float64Array,
  par: number,
): { z: Float64Array; s: Float64Array } {
  // Augmented (2n × n) system, column-major, reduced by Householder reflections.
  const rows = 2 * n;
  const a = new Float64Array(rows * n);
  const b = new Float64Array(rows);
  const root = Math.sqrt(par);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i <= j; i++) a[j * rows + i] = r[i * n + j];
    a[j * rows + n + j] = root * dp[j];
  }
  for (let i = 0; i < n; i++) b[i] = -qtr[i];
  const s = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const ck = k * rows;
    const sigma = norm(a, rows - k, ck + k);
    if (sigma === 0) continue;
    const alpha = a[ck + k] > 0 ? -sigma : sigma;
    const x0 = a[ck + k];
    a[ck + k] -= alpha;
    const vtv = 2 * sigma * (sigma + Math.abs(x0));
    const reflect = (col: Float64Array, off: number): void => {
      let dot = 0;
      for (let i = k; i < rows; i++) dot += a[ck + i] * col[off + i];
      const f = (2 * dot) / vtv;
      for (let i = k; i < rows; i++) col[off + i] -= f * a[ck + i];
    };
    for (let j = k + 1; j < n; j++) reflect(a, j * rows);
    reflect(b, 0);
    s[k * n + k] = alpha;
    for (let j = k + 1; j < n; j++) s[k * n + j] = a[j * rows + k];
  }
  return { z: backSubstitute(s, n, b, n), s };
}

/**
 * Chooses the damping parameter `par` so that the scaled step ||dp ∘ z|| is within 10 % of the trust
 * radius `delta` (or par = 0 when the Gauss–Newton step is already inside), by Moré's safeguarded
 * Newton iteration on φ(par) = ||dp ∘ z(par)|| − delta.
 */
function chooseDamping(
  r: Float64Array,
  n: number,
  qtr: Float64Array,
  dp: Float64Array,
  delta: number,
  parStart: number,
): { par: number; z: Float64Array } {
  let rank = n;
  for (let j = 0; j < n; j++) {
    if (r[j * n + j] === 0) {
      rank = j;
      break;
    }
  }
  const minusQtr = qtr.map((v) => -v);
  // Gauss–Newton step; with a rank-deficient R the dependent components are set to zero.
  let z = backSubstitute(r, n, minusQtr, rank);
  let dxnorm = scaledNorm(dp, z);
  let fp = dxnorm - delta;
  if (fp <= 0.1 * delta) return { par: 0, z };

  // Lower bound from the Newton step at par = 0 (only when R is non-singular).
  let parl = 0;
  if (rank === n) {
    const w = new Float64Array(n);
    for (let j = 0; j < n; j++) w[j] = (dp[j] * dp[j] * z[j]) / dxnorm;
    const u = forwardSubstituteTransposed(r, n, w);
    const un = norm(u);
    parl = fp / delta / (un * un);
  }
  // Upper bound from the scaled gradient Rᵀ·qtr.
  const g = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i <= j; i++) s += r[i * n + j] * qtr[i];
    g[j] = s / dp[j];
  }
  const gnorm = norm(g);
  let paru = gnorm / delta;
  if (paru === 0) paru = DWARF / Math.min(delta, 0.1);

  let par = Math.min(Math.max(parStart, parl), paru);
  if (par === 0) par = gnorm / dxnorm;

  for (let iter = 1; ; iter++) {
    if (par === 0) par = Math.max(DWARF, 0.001 * paru);
    const step = dampedStep(r, n, qtr, dp, par);
    z = step.z;
    dxnorm = scaledNorm(dp, z);
    const previous = fp;
    fp = dxnorm - delta;
    if (Math.abs(fp) <= 0.1 * delta || (parl === 0 && fp <= previous && previous < 0) || iter === 10) break;
    // Newton correction.
    const w = new Float64Array(n);
    for (let j = 0; j < n; j++) w[j] = (dp[j] * dp[j] * z[j]) / dxnorm;
    const u = forwardSubstituteTransposed(step.s, n, w);
    const un = norm(u);
    const parc = fp / delta / (un * un);
    if (fp > 0) parl = Math.max(parl, par);
    if (fp < 0) paru = Math.min(paru, par);
    par = Math.max(parl, par + parc);
  }
  return { par, z };
}

/** Minimises the sum of squared residuals of `problem` from `start`. */
export function levenbergMarquardt(
  problem: LeastSquaresProblem,
  start: ArrayLike<number>,
  options: LmOptions,
): LmResult {
  const { m } = problem;
  const n = start.length;
  const { ftol, xtol, gtol, maxEvaluations, factor } = options;
  let p = Float64Array.from(start);
  let res = new Float64Array(m);
  problem.residuals(p, res);
  let evaluations = 1;
  let fnorm = norm(res);
  let iterations = 0;
  const finish = (status: LmStatus): LmResult => ({
    params: p,
    residuals: res,
    cost: fnorm * fnorm,
    status,
    converged: status >= 1 && status <= 4,
    iterations,
    evaluations,
  });
  if (!Number.isFinite(fnorm)) return finish(0);

  const jac = new Float64Array(m * n);
  const diag = new Float64Array(n);
  const trial = new Float64Array(n);
  const trialRes = new Float64Array(m);
  let delta = 0;
  let xnorm = 0;
  let par = 0;

  for (;;) {
    iterations++;
    problem.jacobian(p, jac);
    const acnorm = new Float64Array(n);
    for (let j = 0; j < n; j++) acnorm[j] = norm(jac, m, j * m);

    // Scaled gradient test, from the unfactored Jacobian: max_j |J_jᵀ r| / (||r||·||J_j||).
    let gnorm = 0;
    if (fnorm !== 0) {
      for (let j = 0; j < n; j++) {
        if (acnorm[j] === 0) continue;
        let s = 0;
        for (let i = 0; i < m; i++) s += jac[j * m + i] * res[i];
        gnorm = Math.max(gnorm, Math.abs(s / fnorm / acnorm[j]));
      }
    }

    const { r, perm, qtr } = pivotedQr(jac, m, n, res);

    if (iterations === 1) {
      for (let j = 0; j < n; j++) diag[j] = acnorm[j] === 0 ? 1 : acnorm[j];
      xnorm = scaledNorm(diag, p);
      delta = factor * xnorm;
      if (delta === 0) delta = factor;
    }
    if (gnorm <= gtol) return finish(4);
    for (let j = 0; j < n; j++) diag[j] = Math.max(diag[j], acnorm[j]);
    const dp = new Float64Array(n);
    for (let j = 0; j < n; j++) dp[j] = diag[perm[j]];

    // Inner loop: shrink the trust region until a step reduces the sum of squares enough.
    for (;;) {
      const damped = chooseDamping(r, n, qtr, dp, delta, par);
      par = damped.par;
      const z = damped.z;
      const step = new Float64Array(n);
      for (let j = 0; j < n; j++) step[perm[j]] = z[j];
      for (let j = 0; j < n; j++) trial[j] = p[j] + step[j];
      const pnorm = scaledNorm(diag, step);
      if (iterations === 1) delta = Math.min(delta, pnorm);

      problem.residuals(trial, trialRes);
      evaluations++;
      const fnorm1 = norm(trialRes);
      // A non-finite sum of squares fails the comparison and counts as no reduction.
      const actred = 0.1 * fnorm1 < fnorm ? 1 - (fnorm1 / fnorm) ** 2 : -1;

      // Predicted reduction and directional derivative of the linear model.
      const rz = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = i; j < n; j++) s += r[i * n + j] * z[j];
        rz[i] = s;
      }
      const t1 = norm(rz) / fnorm;
      const t2 = (Math.sqrt(par) * pnorm) / fnorm;
      const prered = t1 * t1 + 2 * t2 * t2;
      const dirder = -(t1 * t1 + t2 * t2);
      const ratio = prered !== 0 ? actred / prered : 0;

      if (ratio <= 0.25) {
        let temp = actred >= 0 ? 0.5 : (0.5 * dirder) / (dirder + 0.5 * actred);
        if (0.1 * fnorm1 >= fnorm || !(fnorm1 < Infinity) || temp < 0.1) temp = 0.1;
        delta = temp * Math.min(delta, pnorm / 0.1);
        par /= temp;
      } else if (par === 0 || ratio >= 0.75) {
        delta = pnorm / 0.5;
        par *= 0.5;
      }

      if (ratio >= 1e-4) {
        p = trial.slice();
        res = trialRes.slice();
        fnorm = fnorm1;
        xnorm = scaledNorm(diag, p);
      }

      let status: LmStatus | 0 = 0;
      const smallReduction = Math.abs(actred) <= ftol && prered <= ftol && 0.5 * ratio <= 1;
      const smallStep = delta <= xtol * xnorm;
      if (smallReduction && smallStep) status = 3;
      else if (smallReduction) status = 1;
      else if (smallStep) status = 2;
      else if (evaluations >= maxEvaluations) status = 5;
      else if (Math.abs(actred) <= EPS && prered <= EPS && 0.5 * ratio <= 1) status = 6;
      else if (delta <= EPS * xnorm) status = 7;
      else if (gnorm <= EPS) status = 8;
      if (status !== 0) return finish(status);
      if (ratio >= 1e-4) break;
    }
  }
}
