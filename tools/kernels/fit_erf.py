"""Fits the rational erf approximation used by the wasm GELU kernel and writes the test's golden values.

erf(a) ~= a * P(a^2) / Q(a^2) on 0 <= a <= 3.92 (P degree 5, Q degree 5, Q(0) = 1); beyond 3.92 float32 erf is 1.
The fit is a weighted linear least squares on x*P(t) - erf(x)*(Q(t) - 1) = erf(x), reweighted towards the largest
errors (Lawson's iteration), in float64 against scipy.special.erf. It prints the coefficients (float32, shortest repr)
for packages/model/src/ops/simd/kernels.wat and the error of the float32 evaluation in the kernel's order (Horner).

Run: python3 tools/kernels/fit_erf.py   (numpy, scipy)
"""
import json
import os

import numpy as np
from scipy.special import erf

CLAMP = 3.92
NP, NQ = 5, 5


def fit(iters=60):
    x = np.linspace(1e-4, CLAMP, 20000)
    t = x * x
    y = erf(x)
    w = np.ones_like(x)
    for _ in range(iters):
        a = np.concatenate(
            [x[:, None] * t[:, None] ** np.arange(NP + 1), -y[:, None] * t[:, None] ** np.arange(1, NQ + 1)], axis=1
        )
        sol, *_ = np.linalg.lstsq(a * (w / y)[:, None], y * (w / y), rcond=None)
        p = sol[: NP + 1]
        q = np.concatenate([[1.0], sol[NP + 1 :]])
        err = np.abs(x * np.polyval(p[::-1], t) / np.polyval(q[::-1], t) - y)
        w = w * (err / err.max()) ** 0.3 + 1e-12
        w /= w.max()
    return p.astype(np.float32), q.astype(np.float32)


def erf32(p, q, x):
    """The kernel's arithmetic in float32: a = min(|x|, CLAMP), Horner in t = a^2, sign restored."""
    x = np.asarray(x, np.float32)
    a = np.minimum(np.abs(x), np.float32(CLAMP))
    t = a * a
    pp = np.full_like(t, p[-1])
    for c in p[-2::-1]:
        pp = pp * t + c
    qq = np.full_like(t, q[-1])
    for c in q[-2::-1]:
        qq = qq * t + c
    return np.copysign(a * pp / qq, x)


def main():
    p, q = fit()
    print("P (t^0 .. t^%d):" % NP, " ".join(repr(float(c)) for c in p))
    print("Q (t^0 .. t^%d):" % NQ, " ".join(repr(float(c)) for c in q))
    xs = np.linspace(-6, 6, 2_000_001).astype(np.float32)
    err = np.abs(erf32(p, q, xs).astype(np.float64) - erf(xs.astype(np.float64)))
    print("max |erf32 - erf| = %.3g at x = %.6g" % (err.max(), xs[err.argmax()]))

    # Golden values for the tests: a grid, tiny and huge magnitudes, and the clamp point.
    grid = np.linspace(-6, 6, 1201)
    extra = np.array([0.0, 1e-30, -1e-30, 1e-7, -1e-7, CLAMP, -CLAMP, 3.9199, 3.9201, 10.0, -10.0, 1e30, -1e30])
    x32 = np.concatenate([grid, extra]).astype(np.float32)
    out = {
        "source": "scipy.special.erf " + __import__("scipy").__version__ + ", tools/kernels/fit_erf.py",
        "x": [float(v) for v in x32],
        "erf": [float(v) for v in erf(x32.astype(np.float64))],
    }
    path = os.path.join(os.path.dirname(__file__), "..", "..", "packages", "model", "fixtures", "kernels", "erf.json")
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print("wrote", os.path.normpath(path), len(x32), "points")


if __name__ == "__main__":
    main()
