#!/usr/bin/env python3
"""Golden cases for @iqa-bench/metrics, computed with scipy (the reference the field uses).

Writes packages/metrics/fixtures/golden.json. Run from anywhere:

    python3 tools/golden/metrics/make_golden.py

Needs numpy and scipy. Values are written with repr() precision, so JSON.parse in JS gets the same doubles.
NaN results are written as null. Large cases are not stored value by value but as a "recipe": a 32-bit LCG
with integer arithmetic that JS reproduces bit for bit (packages/metrics/src/golden-recipes.test-helper.ts).
"""
import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
from scipy import optimize, stats

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
OUT = os.path.join(ROOT, "packages", "metrics", "fixtures", "golden.json")

warnings.simplefilter("ignore", stats.ConstantInputWarning)


# ---------------------------------------------------------------------------------------------
# Recipes: integer-only data generators shared with the JS tests.
# state <- (1664525 * state + 1013904223) mod 2^32; a draw is the top 16 bits of the new state.
# ---------------------------------------------------------------------------------------------
def lcg_draws(seed, count):
    state = seed & 0xFFFFFFFF
    out = []
    for _ in range(count):
        state = (1664525 * state + 1013904223) & 0xFFFFFFFF
        out.append(state >> 16)
    return out


def recipe_data(recipe):
    kind, seed, n = recipe["kind"], recipe["seed"], recipe["n"]
    offset = recipe.get("offset", 0)
    draws = lcg_draws(seed, 2 * n)
    pred, mos = [], []
    for i in range(n):
        a, b = draws[2 * i], draws[2 * i + 1]
        if kind == "ties":  # heavy ties in both: 16384 pred levels, 161 mos levels
            pred.append((a // 4) / 16384)
            mos.append(((4 * a + b) // 2048) / 8)
        elif kind == "offset":  # exact dyadic fractions on top of a large offset
            pred.append(offset + a / 65536)
            mos.append(offset + (4 * a + b) / 262144)
        elif kind == "negative":
            pred.append(a / 65536)
            mos.append(-(a + b) / 131072)
        else:
            raise ValueError(kind)
    return np.array(pred, dtype=np.float64), np.array(mos, dtype=np.float64)


def num(v):
    v = float(v)
    return None if math.isnan(v) else v


def floats(a):
    return [float(v) for v in a]


# ---------------------------------------------------------------------------------------------
# Correlations
# ---------------------------------------------------------------------------------------------
def correlation_case(name, pred, mos, stored=None, float32=False):
    pred = np.asarray(pred, dtype=np.float64)
    mos = np.asarray(mos, dtype=np.float64)
    case = {"name": name, "n": int(pred.size)}
    if stored is None:
        case["pred"] = floats(pred)
        case["mos"] = floats(mos)
    else:
        case["recipe"] = stored
    if float32:
        case["float32"] = True
    case["srcc"] = num(stats.spearmanr(pred, mos).statistic)
    case["plcc"] = num(stats.pearsonr(pred, mos).statistic)
    case["krcc"] = num(stats.kendalltau(pred, mos).statistic)  # tau-b is the default variant
    case["rmse"] = num(np.sqrt(np.mean((pred - mos) ** 2)))
    case["mae"] = num(np.mean(np.abs(pred - mos)))
    return case


def correlation_cases(rng):
    cases = []
    cases.append(correlation_case("scipy doc-style example", [1, 2, 3, 4], [10, 20, 40, 30]))
    cases.append(correlation_case("n=2 positive", [1, 2], [3, 7]))
    cases.append(correlation_case("n=2 negative", [0.5, 0.25], [1, 2]))
    cases.append(correlation_case("n=3 ties", [1, 1, 2], [3, 4, 4]))
    cases.append(correlation_case("constant pred", [2, 2, 2, 2], [1, 2, 3, 4]))
    cases.append(correlation_case("constant mos", [1, 3, 2, 5], [7, 7, 7, 7]))
    cases.append(correlation_case("both constant", [1, 1, 1], [0, 0, 0]))
    cases.append(correlation_case("monotone nonlinear", np.exp(np.arange(12) / 3), np.arange(12) ** 2 + 1))
    cases.append(correlation_case("reversed", np.arange(9.0), -np.sqrt(np.arange(9.0))))
    cases.append(correlation_case("signed zeros are ties", [0.0, -0.0, 1.0, -1.0, 0.0], [1, 2, 3, 4, 5]))

    # Integer ratings 1..5 against integer predictions 1..4: ties everywhere.
    mos = rng.integers(1, 6, size=30)
    pred = np.clip(mos + rng.integers(-1, 2, size=30), 1, 4)
    cases.append(correlation_case("integer ratings, ties in both (n=30)", pred, mos))

    # Negative correlation, no ties.
    x = rng.normal(size=10)
    cases.append(correlation_case("negative correlation (n=10)", x, -0.7 * x + 0.5 * rng.normal(size=10)))

    # Pred rounded to one decimal: many ties in pred only.
    mos = rng.uniform(0, 100, size=100)
    pred = np.round(mos / 10 + rng.normal(0, 1.5, size=100), 1)
    cases.append(correlation_case("ties in pred only (n=100)", pred, mos))

    # Large offsets: MOS around 1e6 +- 1; a one-pass formula loses every digit here.
    base = rng.uniform(-1, 1, size=50)
    mos = 1e6 + base
    pred = 1e6 + 0.8 * base + 0.3 * rng.uniform(-1, 1, size=50)
    cases.append(correlation_case("offset 1e6 +- 1 (n=50)", pred, mos))

    # MOS-like: KonIQ-10k style test set, MOS in [3.91, 88.39] with 2 decimals, 2010 images.
    mos = np.round(np.clip(rng.normal(58, 15, size=2010), 3.91, 88.39), 2)
    pred = np.round(1 / (1 + np.exp(-(mos - 55) / 18)) + rng.normal(0, 0.05, size=2010), 5)
    cases.append(correlation_case("MOS-like KonIQ test set (n=2010)", pred, mos))

    # Float32 predictions (what a tfjs model returns): values exactly representable in float32.
    mos = np.round(rng.uniform(1, 5, size=500), 3)
    pred = (mos / 5 + rng.normal(0, 0.08, size=500)).astype(np.float32).astype(np.float64)
    cases.append(correlation_case("float32 predictions (n=500)", pred, mos, float32=True))

    for recipe in (
        {"kind": "ties", "seed": 1, "n": 1000},
        {"kind": "ties", "seed": 7, "n": 20000},
        {"kind": "offset", "seed": 11, "n": 20000, "offset": 1e6},
        {"kind": "offset", "seed": 12, "n": 5000, "offset": 1e9},
        {"kind": "negative", "seed": 13, "n": 20000},
    ):
        pred, mos = recipe_data(recipe)
        label = f"recipe {recipe['kind']} seed={recipe['seed']} n={recipe['n']}"
        cases.append(correlation_case(label, pred, mos, stored=recipe))
    return cases


# ---------------------------------------------------------------------------------------------
# Logistic mapping (curve_fit without a Jacobian = MINPACK lmdif, forward differences, from the same start)
# ---------------------------------------------------------------------------------------------
def logistic4_with(exp):
    def f(x, b1, b2, b3, b4):
        return (b1 - b2) / (1 + exp(-(x - b3) / np.abs(b4))) + b2

    return f


def logistic5_with(exp):
    def f(x, b1, b2, b3, b4, b5):
        return b1 * (0.5 - 1 / (1 + exp(b2 * (x - b3)))) + b4 * x + b5

    return f


logistic4 = logistic4_with(np.exp)
logistic5 = logistic5_with(np.exp)


def start4(x, y):
    return [np.max(y), np.min(y), np.mean(x), np.std(x) / 4]


def start5(x, y):
    return [10, 0, np.mean(y), 0.1, 0.1]


def fit(f, x, y, p0, **kw):
    popt, _pcov, info, _msg, ier = optimize.curve_fit(f, x, y, p0=p0, full_output=True, **kw)
    return popt, info, ier


def libm_exp(z):
    return np.array([math.exp(v) for v in z])


def one_ulp_up_at(i):
    def exp(z):
        e = np.exp(z)
        e[i] = np.nextafter(e[i], np.inf)
        return e

    return exp


def canonical(params, p):
    """b4 enters the 4-parameter logistic as |b4|."""
    return np.array([p[0], p[1], p[2], abs(p[3])]) if params == 4 else np.asarray(p, dtype=np.float64)


def logistic_result(params, x, target, y, p0, sign, exp=np.exp):
    """curve_fit of target = sign·y with its defaults, then tightly converged: what the JS tests compare."""
    f = (logistic4_with if params == 4 else logistic5_with)(exp)
    exact = logistic4 if params == 4 else logistic5
    popt, info, ier = fit(f, x, target, p0)
    tight, _i, ier_t = fit(f, x, target, p0, maxfev=10000, ftol=1e-15, xtol=1e-15)
    fitted = sign * exact(x, *popt)  # back to the y scale
    return {
        "popt": canonical(params, popt),
        "poptTight": canonical(params, tight),
        "ier": ier,
        "ierTight": ier_t,
        "nfev": int(info["nfev"]),
        "cost": float(np.sum((exact(x, *popt) - target) ** 2)),
        "costTight": float(np.sum((exact(x, *tight) - target) ** 2)),
        "mappedPlcc": float(stats.pearsonr(fitted, y).statistic),
        "mappedRmse": float(np.sqrt(np.mean((fitted - y) ** 2))),
    }


def scipy_spread(params, x, target, y, p0, sign, ref):
    """How far curve_fit's own answer moves when exp() changes by an ulp: with the C library's exp instead
    of numpy's, and with one value of numpy's exp one ulp larger (at the first, middle and last point). The
    mapped PLCC of a flat fit can move by 1e-6 under such changes; no reimplementation can agree with scipy
    more closely than scipy agrees with itself, so the tests allow twice this spread (and at least their
    own floor). Relative changes, the largest over the four variants and over the parameters."""
    keys = ("mappedPlcc", "mappedRmse", "cost", "popt", "poptTight")
    spread = dict.fromkeys(keys, 0.0)
    same_nfev = True
    for exp in (libm_exp, one_ulp_up_at(0), one_ulp_up_at(x.size // 2), one_ulp_up_at(x.size - 1)):
        try:
            r = logistic_result(params, x, target, y, p0, sign, exp)
        except RuntimeError:  # a variant that does not converge: nothing about this case is stable
            return {**dict.fromkeys(keys, math.inf), "sameNfev": False}
        for k in keys:
            spread[k] = max(spread[k], float(np.max(np.abs(r[k] - ref[k]) / np.abs(ref[k]))))
        same_nfev = same_nfev and r["nfev"] == ref["nfev"] and r["ier"] in (1, 2, 3, 4)
    return {**spread, "sameNfev": same_nfev}


def logistic_case(name, params, x, y, lower_is_better=False, cost_gap=1e-8, unique=True):
    """curve_fit from the VQEG start with its default tolerances and maxfev (what fitLogistic defaults to);
    with lower_is_better, fits -y from the usual start (what the JS option does). cost_gap: how far above
    the sum of squares of the tightly converged fit the default fit may stop (relative). unique: check that
    the tightly converged fit is the only optimum nearby."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    sign = -1.0 if lower_is_better else 1.0
    target = sign * y
    p0 = start4(x, target) if params == 4 else start5(x, target)
    ref = logistic_result(params, x, target, y, p0, sign)
    assert ref["ier"] in (1, 2, 3, 4) and ref["ierTight"] in (1, 2, 3, 4), (name, ref["ier"], ref["ierTight"])
    cost, tight_cost = ref["cost"], ref["costTight"]
    assert tight_cost <= cost * (1 + 1e-12) and cost - tight_cost <= cost_gap * cost, (name, cost, tight_cost)
    if unique:
        # From perturbed starts the tight fit lands on the same parameters.
        f = logistic4 if params == 4 else logistic5
        rng = np.random.default_rng(99)
        for _trial in range(5):
            start = ref["poptTight"] * (1 + 0.1 * rng.standard_normal(params))
            p2, _i, ier2 = fit(f, x, target, start, maxfev=10000, ftol=1e-15, xtol=1e-15)
            assert ier2 in (1, 2, 3, 4), (name, ier2)
            assert np.allclose(canonical(params, p2), ref["poptTight"], rtol=1e-6, atol=1e-9), (name, p2)
    return {
        "name": name,
        "params": params,
        "lowerIsBetter": lower_is_better,
        "pred": floats(x),
        "mos": floats(y),
        "start": floats(p0),
        "popt": floats(ref["popt"]),
        "poptTight": floats(ref["poptTight"]),
        "ier": int(ref["ier"]),
        "nfev": ref["nfev"],
        "cost": cost,
        "mappedPlcc": ref["mappedPlcc"],
        "mappedRmse": ref["mappedRmse"],
        "scipySpread": scipy_spread(params, x, target, y, p0, sign, ref),
    }


def mos_like_0_to_5(seed, n=600):
    """Scores 0-5 (2 decimals) saturating in a latent quality, against a model score linear in it."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=n)
    mos = np.clip(np.round(5 / (1 + np.exp(-1.5 * q)) + rng.normal(0, 0.35, n), 2), 0, 5)
    pred = np.round(0.5 + 0.15 * q + rng.normal(0, 0.04, n), 6)
    return pred, mos


def weak_gaussian(seed, rho=0.2, n=5000):
    """Standard normal pred and mos with correlation rho (6 decimals)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    y = rho * x + math.sqrt(1 - rho * rho) * rng.standard_normal(n)
    return np.round(x, 6), np.round(y, 6)


def logistic_cases(rng):
    cases = []
    x = rng.uniform(0, 1, size=500)
    y = 1 + 4 / (1 + np.exp(-(x - 0.5) / 0.12)) + rng.normal(0, 0.25, size=500)
    cases.append(logistic_case("4-param, pred in [0,1], MOS 1-5 (n=500)", 4, np.round(x, 6), np.round(y, 4)))

    # A model score roughly linear in a latent quality whose MOS saturates at both ends of the scale.
    q = rng.normal(size=2010)
    mos = np.round(4 + 84 / (1 + np.exp(-1.6 * q)) + rng.normal(0, 3, size=2010), 2)
    pred = 0.5 + 0.2 * q + rng.normal(0, 0.04, size=2010)
    cases.append(logistic_case("4-param, KonIQ-like (n=2010)", 4, np.round(pred, 6), mos))

    x = rng.uniform(0, 1, size=300)
    dmos = 80 - 70 / (1 + np.exp(-(x - 0.45) / 0.1)) + rng.normal(0, 5, size=300)
    cases.append(logistic_case("4-param, DMOS lower-is-better (n=300)", 4, np.round(x, 6), np.round(dmos, 3), True))

    x = rng.uniform(0, 100, size=400)
    y = 40 * (0.5 - 1 / (1 + np.exp(0.1 * (x - 50)))) + 0.3 * x + 20 + rng.normal(0, 3, size=400)
    cases.append(logistic_case("5-param, both on 0-100 (n=400)", 5, np.round(x, 4), np.round(y, 4)))

    # A model trained on the MOS scale (linear in latent quality) against a MOS that saturates.
    q = rng.normal(size=2010)
    mos = np.round(4 + 84 / (1 + np.exp(-1.6 * q)) + rng.normal(0, 3, size=2010), 2)
    pred = 55 + 15 * q + rng.normal(0, 3, size=2010)
    cases.append(logistic_case("5-param, KonIQ-like (n=2010)", 5, np.round(pred, 4), mos))

    # Held-out cases, each from its own seed. The 5-parameter start [10, 0, mean y, 0.1, 0.1] has two zero
    # Jacobian columns; from it the fit crosses flat ground where the difference Jacobian decides the
    # optimum, and where the ftol test may stop it early. Seeds 40 and 38 were picked from 0-59 as sets on
    # which scipy's answer does not move when exp() changes by an ulp (scipySpread) while a fit with the
    # analytic Jacobian ends elsewhere (mapped PLCC 0.901 and 0.932 against scipy's 0.925 and 0.912).
    mos_like = "5-param, MOS-like 0-5, seed {} (n=600)"
    cases.append(logistic_case(mos_like.format(40), 5, *mos_like_0_to_5(40), unique=False))
    x, y = mos_like_0_to_5(38)
    cases.append(logistic_case(mos_like.format(38) + ", early ftol stop", 5, x, y, cost_gap=0.3, unique=False))
    # Noise-free data on which curve_fit stops at a local optimum, not at the generating parameters.
    x = np.arange(80) * 100 / 79
    y = logistic5(x, 30, 0.12, 48, 0.25, 12)
    cases.append(logistic_case("5-param, noise-free, local optimum (n=80)", 5, x, y))
    # Weak correlation: the logistic is barely determined and the fit stops on flat ground. Seed 1 gives a
    # stable answer; on seed 0 one ulp of one exp() value moves scipy's mapped PLCC by 2e-6 (scipySpread),
    # the size of the difference reported against the analytic-Jacobian fit, and no implementation can
    # agree more closely there.
    weak = "4-param, weakly correlated Gaussian, seed {} (n=5000)"
    cases.append(logistic_case(weak.format(1), 4, *weak_gaussian(1), unique=False))
    cases.append(logistic_case(weak.format(0), 4, *weak_gaussian(0), cost_gap=1e-5, unique=False))
    return cases


# ---------------------------------------------------------------------------------------------
# Williams' t for two dependent correlations sharing the MOS (Steiger 1980, eq. 7), and Student t
# ---------------------------------------------------------------------------------------------
def williams(r12, r13, r23, n):
    detR = 1 - r12**2 - r13**2 - r23**2 + 2 * r12 * r13 * r23
    rbar = (r12 + r13) / 2
    t = (r12 - r13) * math.sqrt((n - 1) * (1 + r23) / (2 * (n - 1) / (n - 3) * detR + rbar**2 * (1 - r23) ** 3))
    return t, 2 * stats.t.sf(abs(t), n - 3)


def williams_cases(rng):
    cases = []
    for n, noise_a, noise_b in ((2010, 0.30, 0.33), (50, 0.5, 0.9), (500, 0.4, 0.4)):
        mos = rng.normal(size=n)
        common = rng.normal(size=n)
        a = mos + noise_a * rng.normal(size=n) + 0.2 * common
        b = mos + noise_b * rng.normal(size=n) + 0.2 * common
        a, b, mos = np.round(a, 6), np.round(b, 6), np.round(mos, 6)
        r12 = stats.pearsonr(a, mos).statistic
        r13 = stats.pearsonr(b, mos).statistic
        r23 = stats.pearsonr(a, b).statistic
        t, p = williams(r12, r13, r23, n)
        s12 = stats.spearmanr(a, mos).statistic
        s13 = stats.spearmanr(b, mos).statistic
        s23 = stats.spearmanr(a, b).statistic
        ts, ps = williams(s12, s13, s23, n)
        cases.append(
            {
                "n": n,
                "predA": floats(a),
                "predB": floats(b),
                "mos": floats(mos),
                "plcc": {"t": t, "pValue": p, "rA": r12, "rB": r13, "rAB": r23},
                "srcc": {"t": ts, "pValue": ps, "rA": s12, "rB": s13, "rAB": s23},
            }
        )
    return cases


def student_t_cases():
    out = []
    for df in (1, 2, 3, 5, 7.5, 10, 30, 100, 2007, 1e5):
        for t in (0, 0.1, 0.5, 1, 1.96, 2.5, 4, 10, 40):
            out.append({"t": t, "df": df, "sf": float(stats.t.sf(t, df))})
    return out


def main():
    rng = np.random.default_rng(20260101)
    golden = {
        "generator": "tools/golden/metrics/make_golden.py",
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "correlation": correlation_cases(rng),
        "logistic": logistic_cases(rng),
        "williams": williams_cases(rng),
        "studentT": student_t_cases(),
    }
    text = json.dumps(golden, separators=(",", ":"), allow_nan=False)
    tmp = OUT + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(text + "\n")
    os.replace(tmp, OUT)
    print(f"wrote {OUT} ({len(text) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
