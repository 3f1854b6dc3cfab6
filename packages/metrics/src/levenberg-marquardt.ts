/**
 * Levenberg–Marquardt least squares for a few parameters: the trust-region algorithm of Moré (1978,
 * "The Levenberg–Marquardt algorithm: implementation and theory") as the MINPACK user guide describes
 * its `lmdif` driver, which `scipy.optimize.curve_fit` runs when it is given no Jacobian:
 *
 * - the Jacobian by forward differences, step √max(epsfcn, ε)·|p_j| (ε itself when p_j = 0);
 * - column-pivoted Householder QR of the Jacobian;
 * - variables scaled by D = the largest Jacobian column norms seen so far (a zero norm counts as 1);
 * - initial step bound Δ = factor·‖D·p‖, cut to the length of the first step;
 * - the damping parameter from Moré's safeguarded Newton iteration, until ‖D·step‖ is within 10 % of Δ
 *   (at most 10 trials), the damped system solved by Givens rotations;
 * - Δ halved (or cut further, never below a tenth) when the actual reduction of the sum of squares is at
 *   most a quarter of the predicted one, doubled past the step when it is at least three quarters; a step
 *   is taken when the ratio is at least 1e-4;
 * - the stopping tests and status codes of MINPACK (1–4 converged, 5–8 gave up), and its evaluation count
 *   (one per residual vector, the n of each difference Jacobian included).
 *
 * Following the same steps matters beyond rounding: with the 5-parameter logistic from its customary
 * start the fit crosses flat regions where the difference Jacobian (not the analytic one) decides which
 * optimum it ends in, and where the ftol test stops it.
 */

/** A least-squares problem: m residuals of n parameters. */
export interface LeastSquaresProblem {
  /** Number of residuals. */
  readonly m: number;
  /** Writes the residuals at `p` into `out` (length m). Must not keep or change `p`. */
  residuals(p: Float64Array, out: Float64Array): void;
}

export interface LmOptions {
  /** Relative reduction of the sum of squares (actual and predicted) at which the fit stops (status 1). */
  ftol: number;
  /** Relative size of the step bound at which the fit stops (status 2). */
  xtol: number;
  /** Cosine between residuals and Jacobian columns at which the fit stops (status 4). */
  gtol: number;
  /** Limit on residual evaluations, checked after each trial step (status 5). */
  maxEvaluations: number;
  /** Initial step bound as a multiple of the scaled parameter norm. */
  factor: number;
  /** Assumed relative error of the residuals; sets the difference step √max(epsfcn, ε)·|p_j|. */
  epsfcn: number;
}

/** Defaults of `scipy.optimize.leastsq` (which curve_fit calls) for n parameters: maxfev = 200·(n + 1). */
export function lmDefaults(n: number): LmOptions {
  return {
    ftol: 1.49012e-8,
    xtol: 1.49012e-8,
    gtol: 0,
    maxEvaluations: 200 * (n + 1),
    factor: 100,
    epsfcn: EPS,
  };
}

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
  /** Residual evaluations, those of the difference Jacobians included. */
  readonly evaluations: number;
}

const EPS = Number.EPSILON;
const DWARF = 2 ** -1022; // smallest normal double

/** Euclidean norm of v[offset .. offset + len): the plain sum of squares, rescaled only when it under- or overflows. */
function enorm(v: Float64Array, len = v.length, offset = 0): number {
  let s = 0;
  for (let i = offset; i < offset + len; i++) s += v[i] * v[i];
  if (s >= 1e-280 && s < Infinity) return Math.sqrt(s);
  let scale = 0;
  for (let i = offset; i < offset + len; i++) scale = Math.max(scale, Math.abs(v[i]));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  s = 0;
  for (let i = offset; i < offset + len; i++) {
    const t = v[i] / scale;
    s += t * t;
  }
  return scale * Math.sqrt(s);
}

/** ‖d ∘ v‖. */
function scaledNorm(d: Float64Array, v: Float64Array, work: Float64Array): number {
  for (let i = 0; i < v.length; i++) work[i] = d[i] * v[i];
  return enorm(work, v.length);
}

/**
 * Forward-difference Jacobian (column-major, column j at out[j·m ..]) of the residuals `f` at `p`.
 * `p` is changed one entry at a time and restored exactly.
 */
function differenceJacobian(
  problem: LeastSquaresProblem,
  p: Float64Array,
  f: Float64Array,
  epsfcn: number,
  out: Float64Array,
  work: Float64Array,
): void {
  const { m } = problem;
  const rel = Math.sqrt(Math.max(epsfcn, EPS));
  for (let j = 0; j < p.length; j++) {
    const pj = p[j];
    let h = rel * Math.abs(pj);
    if (h === 0) h = rel;
    p[j] = pj + h;
    problem.residuals(p, work);
    p[j] = pj;
    for (let i = 0; i < m; i++) out[j * m + i] = (work[i] - f[i]) / h;
  }
}

/**
 * Householder QR with column pivoting of a (m×n, column-major, overwritten): a·P = Q·R. At each step the
 * remaining column with the largest norm below the diagonal comes next (the first of equals).
 * Returns R (n×n, column-major, pivoted order: r[i + j·n] = R_ij) and the permutation (perm[j] = the
 * original column in position j); Qᵀ is applied to `rhs` in place. A column with nothing left below the
 * diagonal gets a zero on R's diagonal and no reflection.
 */
function pivotedQr(
  a: Float64Array,
  m: number,
  n: number,
  rhs: Float64Array,
): { r: Float64Array; perm: Int32Array } {
  const perm = new Int32Array(n);
  for (let j = 0; j < n; j++) perm[j] = j;
  const rdiag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let best = k;
    let bestNorm = enorm(a, m - k, k * m + k);
    for (let j = k + 1; j < n; j++) {
      const cn = enorm(a, m - k, j * m + k);
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
    if (bestNorm === 0) continue;
    // Reflector v = x/σ' + e1 with σ' = ±‖x‖ of x[k]'s sign: H = I − v·vᵀ/v_k maps x to −σ'·e1.
    const ck = k * m;
    const sigma = a[ck + k] < 0 ? -bestNorm : bestNorm;
    for (let i = k; i < m; i++) a[ck + i] /= sigma;
    a[ck + k] += 1;
    const vk = a[ck + k];
    const reflect = (col: Float64Array, off: number): void => {
      let dot = 0;
      for (let i = k; i < m; i++) dot += a[ck + i] * col[off + i];
      const f = dot / vk;
      for (let i = k; i < m; i++) col[off + i] -= f * a[ck + i];
    };
    for (let j = k + 1; j < n; j++) reflect(a, j * m);
    reflect(rhs, 0);
    rdiag[k] = -sigma;
  }
  const r = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < j; i++) r[i + j * n] = a[j * m + i];
    r[j + j * n] = rdiag[j];
  }
  return { r, perm };
}

/**
 * Solves the upper-triangular U·z = b (n×n column-major) for the leading `rank` unknowns, the rest 0,
 * by columns (each solved unknown is removed from the right-hand side).
 */
function solveUpper(u: Float64Array, n: number, b: Float64Array, rank: number): Float64Array {
  const z = new Float64Array(n);
  for (let i = 0; i < rank; i++) z[i] = b[i];
  for (let j = rank - 1; j >= 0; j--) {
    z[j] /= u[j + j * n];
    const t = z[j];
    for (let i = 0; i < j; i++) z[i] -= u[i + j * n] * t;
  }
  return z;
}

/** Solves Uᵀ·y = w (forward substitution) with U upper triangular (n×n column-major) and non-singular. */
function solveUpperTransposed(u: Float64Array, n: number, w: Float64Array): Float64Array {
  const y = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = w[j];
    for (let i = 0; i < j; i++) s -= u[i + j * n] * y[i];
    y[j] = s / u[j + j * n];
  }
  return y;
}

/**
 * The damped step in pivoted coordinates: z minimising ‖R·z + qtf‖² + par·‖dp ∘ z‖², with the rows
 * √par·dp_j folded into R one at a time by Givens rotations. Returns z and the upper-triangular S with
 * SᵀS = RᵀR + par·diag(dp)². If S turns out singular, the unknowns from its first zero pivot on are 0.
 */
function dampedStep(
  r: Float64Array,
  n: number,
  qtf: Float64Array,
  dp: Float64Array,
  par: number,
): { z: Float64Array; s: Float64Array } {
  const s = r.slice();
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) b[i] = -qtf[i];
  const w = new Float64Array(n);
  const root = Math.sqrt(par);
  for (let j = 0; j < n; j++) {
    if (dp[j] === 0) continue;
    w.fill(0);
    w[j] = root * dp[j];
    let beta = 0;
    for (let k = j; k < n; k++) {
      if (w[k] === 0) continue;
      const skk = s[k + k * n];
      const h = Math.hypot(skk, w[k]);
      const c = skk / h;
      const sn = w[k] / h;
      s[k + k * n] = h;
      const bk = b[k];
      b[k] = c * bk + sn * beta;
      beta = c * beta - sn * bk;
      for (let i = k + 1; i < n; i++) {
        const ski = s[k + i * n];
        s[k + i * n] = c * ski + sn * w[i];
        w[i] = c * w[i] - sn * ski;
      }
    }
  }
  let rank = n;
  for (let j = 0; j < n; j++) {
    if (s[j + j * n] === 0) {
      rank = j;
      break;
    }
  }
  return { z: solveUpper(s, n, b, rank), s };
}

/**
 * Chooses the damping parameter: par = 0 when the Gauss–Newton step is inside the bound (‖dp ∘ z‖ ≤ 1.1·Δ),
 * else the par at which ‖dp ∘ z(par)‖ is within 10 % of Δ, by Moré's safeguarded Newton iteration on
 * φ(par) = ‖dp ∘ z(par)‖ − Δ between bounds that tighten as it goes (at most 10 trials).
 */
function chooseDamping(
  r: Float64Array,
  n: number,
  qtf: Float64Array,
  dp: Float64Array,
  delta: number,
  parStart: number,
): { par: number; z: Float64Array } {
  const work = new Float64Array(n);
  let rank = n;
  for (let j = 0; j < n; j++) {
    if (r[j + j * n] === 0) {
      rank = j;
      break;
    }
  }
  const minusQtf = qtf.map((v) => -v);
  // Gauss–Newton step; when R is singular, the components from its first zero pivot on are 0.
  let z = solveUpper(r, n, minusQtf, rank);
  let dxnorm = scaledNorm(dp, z, work);
  let fp = dxnorm - delta;
  if (fp <= 0.1 * delta) return { par: 0, z };

  const newtonDenominator = (u: Float64Array): number => {
    const w = new Float64Array(n);
    for (let j = 0; j < n; j++) w[j] = dp[j] * ((dp[j] * z[j]) / dxnorm);
    const y = solveUpperTransposed(u, n, w);
    const yn = enorm(y);
    return yn * yn;
  };
  // Lower bound: the Newton step from par = 0 (φ is convex), only when R is non-singular.
  let parl = rank === n ? fp / delta / newtonDenominator(r) : 0;
  // Upper bound: ‖(RᵀQᵀf) / dp‖ / Δ.
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i <= j; i++) s += r[i + j * n] * qtf[i];
    work[j] = s / dp[j];
  }
  const gnorm = enorm(work);
  let paru = gnorm / delta;
  if (paru === 0) paru = DWARF / Math.min(delta, 0.1);

  let par = Math.min(Math.max(parStart, parl), paru);
  if (par === 0) par = gnorm / dxnorm;

  for (let iter = 1; ; iter++) {
    if (par === 0) par = Math.max(DWARF, 0.001 * paru);
    const step = dampedStep(r, n, qtf, dp, par);
    z = step.z;
    dxnorm = scaledNorm(dp, z, work);
    const previous = fp;
    fp = dxnorm - delta;
    if (Math.abs(fp) <= 0.1 * delta || (parl === 0 && fp <= previous && previous < 0) || iter === 10) {
      return { par, z };
    }
    const parc = fp / delta / newtonDenominator(step.s);
    if (fp > 0) parl = Math.max(parl, par);
    if (fp < 0) paru = Math.min(paru, par);
    par = Math.max(parl, par + parc);
  }
}

/** Minimises the sum of squared residuals of `problem` from `start`, as MINPACK's lmdif does. */
export function levenbergMarquardt(
  problem: LeastSquaresProblem,
  start: ArrayLike<number>,
  options: LmOptions,
): LmResult {
  const { m } = problem;
  const n = start.length;
  const { ftol, xtol, gtol, maxEvaluations, factor, epsfcn } = options;
  let p = Float64Array.from(start);
  let res = new Float64Array(m);
  problem.residuals(p, res);
  let evaluations = 1;
  let fnorm = enorm(res);
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
  const acnorm = new Float64Array(n);
  const work = new Float64Array(n);
  const shifted = new Float64Array(m);
  const trial = new Float64Array(n);
  const step = new Float64Array(n);
  const rz = new Float64Array(n);
  let trialRes = new Float64Array(m);
  let delta = 0;
  let xnorm = 0;
  let par = 0;

  for (;;) {
    iterations++;
    differenceJacobian(problem, p, res, epsfcn, jac, shifted);
    evaluations += n;
    for (let j = 0; j < n; j++) acnorm[j] = enorm(jac, m, j * m);
    const qt = res.slice();
    const { r, perm } = pivotedQr(jac, m, n, qt);
    const qtf = qt.subarray(0, n);

    if (iterations === 1) {
      for (let j = 0; j < n; j++) diag[j] = acnorm[j] === 0 ? 1 : acnorm[j];
      xnorm = scaledNorm(diag, p, work);
      delta = factor * xnorm;
      if (delta === 0) delta = factor;
    }

    // Scaled gradient: max_j |J_jᵀ·f| / (‖f‖·‖J_j‖), from the factored form (J_jᵀ·f = (Rᵀ·Qᵀf)_j).
    let gnorm = 0;
    if (fnorm !== 0) {
      for (let j = 0; j < n; j++) {
        const l = perm[j];
        if (acnorm[l] === 0) continue;
        let s = 0;
        for (let i = 0; i <= j; i++) s += r[i + j * n] * (qtf[i] / fnorm);
        gnorm = Math.max(gnorm, Math.abs(s / acnorm[l]));
      }
    }
    if (gnorm <= gtol) return finish(4);
    for (let j = 0; j < n; j++) diag[j] = Math.max(diag[j], acnorm[j]);
    const dp = new Float64Array(n);
    for (let j = 0; j < n; j++) dp[j] = diag[perm[j]];

    // Inner loop: shrink the step bound until a step reduces the sum of squares enough.
    for (;;) {
      const damped = chooseDamping(r, n, qtf, dp, delta, par);
      par = damped.par;
      const z = damped.z;
      for (let j = 0; j < n; j++) step[perm[j]] = z[j];
      for (let j = 0; j < n; j++) trial[j] = p[j] + step[j];
      const pnorm = scaledNorm(diag, step, work);
      if (iterations === 1) delta = Math.min(delta, pnorm);

      problem.residuals(trial, trialRes);
      evaluations++;
      const fnorm1 = enorm(trialRes);
      // Actual relative reduction; a residual norm that grows tenfold (or is not finite) counts as −1.
      const shrink = fnorm1 / fnorm;
      const actred = 0.1 * fnorm1 < fnorm ? 1 - shrink * shrink : -1;

      // Predicted reduction and directional derivative of the linear model: ‖R·z‖ and √par·‖D·step‖.
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = i; j < n; j++) s += r[i + j * n] * z[j];
        rz[i] = s;
      }
      const t1 = enorm(rz) / fnorm;
      const t2 = (Math.sqrt(par) * pnorm) / fnorm;
      const prered = t1 * t1 + (t2 * t2) / 0.5;
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
        const swap = res;
        res = trialRes;
        trialRes = swap;
        fnorm = fnorm1;
        xnorm = scaledNorm(diag, p, work);
      }

      const smallReduction = Math.abs(actred) <= ftol && prered <= ftol && 0.5 * ratio <= 1;
      const smallBound = delta <= xtol * xnorm;
      let status: LmStatus = 0;
      if (smallReduction && smallBound) status = 3;
      else if (smallReduction) status = 1;
      else if (smallBound) status = 2;
      else if (evaluations >= maxEvaluations) status = 5;
      else if (Math.abs(actred) <= EPS && prered <= EPS && 0.5 * ratio <= 1) status = 6;
      else if (delta <= EPS * xnorm) status = 7;
      else if (gnorm <= EPS) status = 8;
      if (status !== 0) return finish(status);
      if (ratio >= 1e-4) break;
    }
  }
}
