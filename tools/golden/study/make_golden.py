#!/usr/bin/env python3
"""
Golden values for the study statistics, computed independently of the TypeScript code with numpy, scipy and statsmodels:

- packages/metrics/fixtures/seeded-golden.json: the two-level (seeds x images) paired bootstrap (`seededBootstrap`,
  `seededDifference`) and Holm's adjustment (`holm`, against statsmodels' multipletests).
- packages/study/fixtures/report-golden.json: a synthetic study (predictions generated here) and the numbers
  `aggregateStudy` must report for it: per-variant median / quartiles / min / max over seeds, every comparison's
  delta, interval, p-value and Holm-adjusted p-value, and the forward-ablation shares with their intervals.

The bootstrap draws come from xoshiro128** seeded as @iqa-bench/metrics seeds it (reimplemented below from the
generator's description), in the documented order: per resample, first the seed indices, then the image indices. The
metrics are scipy's (spearmanr, pearsonr, kendalltau tau-b), quantiles numpy's default (linear).

Run: /usr/bin/python3 tools/golden/study/make_golden.py   (Debian: python3-numpy python3-scipy python3-statsmodels)
"""
import json
import math
import os
import warnings

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

warnings.simplefilter("ignore")  # scipy warns on constant input; the value is NaN, which is what is tested
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
M32 = 0xFFFFFFFF


def fmix32(h):
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Xoshiro128ss:
    def __init__(self, seed):
        weyl = seed
        self.s = []
        for _ in range(4):
            weyl = (weyl + 0x9E3779B9) & M32
            self.s.append(fmix32(weyl))
        if not any(self.s):
            self.s[0] = 1

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & M32, 7) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        return result

    def below(self, bound):
        limit = 2**32 - (2**32 % bound)
        while True:
            x = self.next()
            if x < limit:
                return x % bound


def metric(name, x, y, sign):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if name == "rmse":
        return float(np.sqrt(np.mean((x - y) ** 2)))
    if np.all(x == x[0]) or np.all(y == y[0]):
        return math.nan
    if name == "srcc":
        v = stats.spearmanr(x, y).statistic
    elif name == "plcc":
        v = stats.pearsonr(x, y).statistic
    else:
        v = stats.kendalltau(x, y).statistic
    return sign * float(v)


def seeded_bootstrap(runs, mos, metrics, seed, resamples, sign):
    """runs[g][s]: predictions; returns estimates[m][g] and replicates[m][g] (numpy arrays)."""
    G, S, n = len(runs), len(runs[0]), len(mos)
    mos = np.asarray(mos, dtype=float)
    runs = [[np.asarray(r, dtype=float) for r in g] for g in runs]
    est = {m: [float(np.mean([metric(m, runs[g][s], mos, sign) for s in range(S)])) for g in range(G)] for m in metrics}
    reps = {m: np.zeros((G, resamples)) for m in metrics}
    rng = Xoshiro128ss(seed)
    for b in range(resamples):
        drawn = [rng.below(S) for _ in range(S)]
        rows = np.array([rng.below(n) for _ in range(n)])
        ys = mos[rows]
        for m in metrics:
            for g in range(G):
                vals = {s: metric(m, runs[g][s][rows], ys, sign) for s in set(drawn)}
                reps[m][g, b] = np.mean([vals[s] for s in drawn])
    return est, reps


def summarise(a, b, deltas, level):
    finite = np.sort(deltas[~np.isnan(deltas)])
    alpha = (1 - level) / 2
    if len(finite) == 0:
        lo = hi = p = math.nan
    else:
        lo = float(np.quantile(finite, alpha))
        hi = float(np.quantile(finite, 1 - alpha))
        at_most = int(np.sum(finite <= 0))
        at_least = int(np.sum(finite >= 0))
        p = min(1.0, 2 * (min(at_most, at_least) + 1) / (len(finite) + 1))
    se = float(np.std(finite, ddof=1)) if len(finite) >= 2 else math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.float64(abs(a - b)) / np.float64(se)
    pz = min(1.0, 2 * float(stats.norm.sf(z))) if not math.isnan(z) else math.nan
    return {
        "standardError": se,
        "zPValue": pz,
        "a": a,
        "b": b,
        "difference": a - b,
        "lower": lo,
        "upper": hi,
        "pValue": p,
        "undefinedResamples": int(np.sum(np.isnan(deltas))),
    }


def clean(v):
    """JSON without NaN: NaN -> None, recursively."""
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v]
    if isinstance(v, np.floating):
        return clean(float(v))
    if isinstance(v, np.integer):
        return int(v)
    return v


def r6(a):
    return [round(float(x), 6) for x in a]


# ---------------------------------------------------------------------------------------------------------------
# seeded bootstrap unit cases


def seeded_cases():
    rng = np.random.default_rng(20261206)
    cases = []

    n = 50
    mos = rng.uniform(1, 5, n)
    shared = rng.normal(size=n)
    runs = [[r6(mos + 0.5 * shared + q * rng.normal(size=n)) for _ in range(3)] for q in (0.3, 0.6)]
    cases.append(dict(name="two groups, three seeds", runs=runs, mos=r6(mos), lowerIsBetter=False,
                      metrics=["srcc", "plcc", "krcc", "rmse"], seed=11, resamples=300, level=0.95))

    n = 40
    mos = rng.uniform(0, 100, n)
    runs = [[[float(round(v)) for v in (-mos / 20 + q * rng.normal(size=n))]] for q in (0.5, 0.8, 1.5)]
    cases.append(dict(name="three groups, one seed, tied ranks, lower-is-better", runs=runs, mos=r6(mos),
                      lowerIsBetter=True, metrics=["srcc", "krcc"], seed=5, resamples=250, level=0.9))

    n = 30
    mos = rng.uniform(1, 5, n)
    runs = [[r6(mos + 0.4 * rng.normal(size=n)) for _ in range(4)] for _ in range(2)]
    runs[1][2] = [3.0] * n  # a collapsed run: its correlations are undefined
    cases.append(dict(name="a constant run makes the resamples that draw its seed undefined", runs=runs,
                      mos=r6(mos), lowerIsBetter=False, metrics=["srcc", "plcc"], seed=3, resamples=200, level=0.95))

    out = []
    for c in cases:
        sign = -1 if c["lowerIsBetter"] else 1
        est, reps = seeded_bootstrap(c["runs"], c["mos"], c["metrics"], c["seed"], c["resamples"], sign)
        G = len(c["runs"])
        expected = {}
        for m in c["metrics"]:
            diffs = []
            for a in range(G):
                for b in range(G):
                    if a != b and a < b:
                        diffs.append(dict(groupA=a, groupB=b, **summarise(est[m][a], est[m][b], reps[m][a] - reps[m][b], c["level"])))
            expected[m] = dict(estimates=est[m], firstReplicates=[list(reps[m][g, :5]) for g in range(G)],
                               differences=diffs)
        out.append(dict(c, expected=expected))
    return out


def holm_cases():
    rng = np.random.default_rng(7)
    cases = [
        [0.01, 0.04, 0.03, 0.005],
        [0.02, 0.02, 0.5, 0.001, 0.2, 0.04],
        list(rng.uniform(0, 0.2, 12)),
        [0.6, 0.9, 0.3],
    ]
    return [dict(p=[float(x) for x in p], adjusted=[float(x) for x in multipletests(p, method="holm")[1]]) for p in cases]


def normal_cases():
    zs = [0, 1e-8, 0.1, 0.5, 1, 1.3, 1.4142, 1.96, 2, 2.5, 3, 3.5, 4, 5, 6, 8, 10, 20, 37, -0.5, -1, -3, -8]
    return [dict(z=z, sf=float(stats.norm.sf(z))) for z in zs]


# ---------------------------------------------------------------------------------------------------------------
# a synthetic study and its aggregate


METRICS = ["srcc", "plcc", "krcc", "rmse"]


def make_study():
    rng = np.random.default_rng(16)
    seeds = [0, 1, 2]
    n_in, n_x = 80, 50
    mos_in = rng.uniform(1, 5, n_in)
    mos_x = rng.uniform(0, 100, n_x)  # DMOS-like: lower is better
    shared_in = rng.normal(size=n_in)
    shared_x = rng.normal(size=n_x)
    variants = [
        ("baseline", {}, 0.30, None),
        ("A1-concat", {"model.fusion": "concat"}, 0.42, None),
        ("A2-single", {"model.multiScale": False}, 0.60, None),
        ("B1-tiny", {"model.backbone": "swin-t"}, 0.50, {"params": 28.3e6, "gmacs": 4.5}),
        ("E1-lr-1e-07", {"optim.lr": 1e-7}, 0.80, None),
        ("E2-lr-1e-06", {"optim.lr": 1e-6}, 0.33, None),
        ("E3-lr-1e-05", {"optim.lr": 1e-5}, 0.55, None),
        ("C1-alpha-0.3", {"loss.rankAlpha": 0.3}, 0.31, None),
    ]
    status = {("B1-tiny", 1): "running", ("E3-lr-1e-05", 2): "failed"}
    status.update({("C1-alpha-0.3", s): "missing" for s in seeds})
    base_size = {"params": 88.1e6, "gmacs": 15.4}
    runs = []
    for name, overrides, q, size in variants:
        for s in seeds:
            st = status.get((name, s), "done")
            rec = dict(runId=f"{name}-{s}", variant=name, seed=s, status=st, overrides=overrides,
                       config={"seed": s, **overrides}, complexity=size or base_size)
            if st == "failed":
                rec["error"] = "loss became NaN at epoch 3"
            if st == "done":
                z = q * rng.normal(size=n_in)
                pin = r6((mos_in - 3) / 2 + q * 0.6 * shared_in + z)
                px = r6(-(mos_x - 50) / 25 + q * 0.6 * shared_x + q * rng.normal(size=n_x))
                rec["result"] = {"schema": "iqa-bench/result@1", "datasets": [
                    {"name": "koniq-test", "n": n_in, "metrics": {},
                     "predictions": {"image": [f"k{i:04d}.jpg" for i in range(n_in)], "score": pin, "mos": r6(mos_in)}},
                    {"name": "live", "n": n_x, "direction": "lower-better", "metrics": {},
                     "predictions": {"image": [f"l{i:03d}.bmp" for i in range(n_x)], "score": px, "mos": r6(mos_x)}},
                ]}
                rec["curve"] = [dict(epoch=e, trainLoss=round(1.0 / (e + 1) + q, 6), valSrcc=round(0.9 - q / (e + 1), 6))
                                for e in range(1, 4)]
            runs.append(rec)
    return dict(
        name="synthetic-ablation",
        baseline="baseline",
        chain=["A2-single", "A1-concat", "baseline"],
        seeds=seeds,
        sweeps=[dict(field="optim.lr", variants=[dict(name="E1-lr-1e-07", value=1e-7),
                                                  dict(name="E2-lr-1e-06", value=1e-6),
                                                  dict(name="E3-lr-1e-05", value=1e-5)])],
        settings={"patches": 25, "crop": "random", "preprocess": "resize-512", "split": "sha256:0f3a"},
        runs=runs,
    )


def expected_aggregate(study, seed, resamples, level, compared):
    names = []
    for r in study["runs"]:
        if r["variant"] not in names:
            names.append(r["variant"])
    ds_names = ["koniq-test", "live"]
    signs = [1, -1]

    def usable(v, i):
        return {r["seed"]: r for r in study["runs"] if r["variant"] == v and r["status"] == "done"}

    def preds(r, i):
        return r["result"]["datasets"][i]["predictions"]

    variants = {}
    for v in names:
        per = []
        for i in range(2):
            rs = [usable(v, i)[s] for s in sorted(usable(v, i))]
            vals = {}
            for m in METRICS:
                xs = [metric(m, preds(r, i)["score"], preds(r, i)["mos"], signs[i]) for r in rs]
                if xs:
                    a = np.array(xs)
                    vals[m] = dict(n=len(xs), median=float(np.quantile(a, 0.5)), q1=float(np.quantile(a, 0.25)),
                                   q3=float(np.quantile(a, 0.75)), min=float(a.min()), max=float(a.max()))
                else:
                    vals[m] = dict(n=0, median=None, q1=None, q3=None, min=None, max=None)
            per.append(dict(dataset=ds_names[i], values=vals))
        variants[v] = per

    def boot(group, i):
        maps = [usable(v, i) for v in group]
        seeds = sorted(s for s in maps[0] if all(s in m for m in maps))
        if not seeds:
            return seeds, None
        mos = preds(maps[0][seeds[0]], i)["mos"]
        runs = [[preds(m[s], i)["score"] for s in seeds] for m in maps]
        return seeds, seeded_bootstrap(runs, mos, compared, seed, resamples, signs[i])

    comparisons = []
    for v in names:
        if v == study["baseline"]:
            continue
        for i in range(2):
            seeds, b = boot([v, study["baseline"]], i)
            for m in compared:
                if b is None:
                    comparisons.append(dict(kind="baseline", variant=v, dataset=ds_names[i], metric=m, seeds=seeds,
                                            delta=None, lower=None, upper=None, pValue=None))
                    continue
                est, reps = b
                d = summarise(est[m][0], est[m][1], reps[m][0] - reps[m][1], level)
                comparisons.append(dict(kind="baseline", variant=v, dataset=ds_names[i], metric=m, seeds=seeds,
                                        delta=d["difference"], lower=d["lower"], upper=d["upper"], pValue=d["zPValue"]))
    ablation = []
    chain = study["chain"]
    for i in range(2):
        seeds, b = boot(chain, i)
        est, reps = b
        for m in compared:
            total = reps[m][-1] - reps[m][0]
            t = summarise(est[m][-1], est[m][0], total, level)
            steps = []
            for k in range(1, len(chain)):
                d = summarise(est[m][k], est[m][k - 1], reps[m][k] - reps[m][k - 1], level)
                with np.errstate(divide="ignore", invalid="ignore"):
                    sh = (reps[m][k] - reps[m][k - 1]) / total
                sh = np.sort(sh[np.isfinite(sh)])
                alpha = (1 - level) / 2
                steps.append(dict(variant=chain[k], delta=d["difference"], lower=d["lower"], upper=d["upper"],
                                  share=d["difference"] / t["difference"], shareLower=float(np.quantile(sh, alpha)),
                                  shareUpper=float(np.quantile(sh, 1 - alpha))))
                comparisons.append(dict(kind="chain", variant=chain[k], dataset=ds_names[i], metric=m, seeds=seeds,
                                        delta=d["difference"], lower=d["lower"], upper=d["upper"], pValue=d["zPValue"]))
            ablation.append(dict(dataset=ds_names[i], metric=m, seeds=seeds,
                                 total=dict(delta=t["difference"], lower=t["lower"], upper=t["upper"]), steps=steps))
    idx = [k for k, c in enumerate(comparisons) if c["pValue"] is not None]
    adj = multipletests([comparisons[k]["pValue"] for k in idx], method="holm")[1]
    for c in comparisons:
        c["pHolm"] = None
    for k, a in zip(idx, adj):
        comparisons[k]["pHolm"] = float(a)
    return dict(variants=variants, comparisons=comparisons, ablation=ablation, family=len(idx))


def write(path, obj):
    full = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        json.dump(clean(obj), f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(full)} bytes)")


def main():
    write("packages/metrics/fixtures/seeded-golden.json", dict(seeded=seeded_cases(), holm=holm_cases(), normal=normal_cases()))
    study = make_study()
    options = dict(seed=7, resamples=200, level=0.95, metrics=["srcc", "plcc"])
    exp = expected_aggregate(study, options["seed"], options["resamples"], options["level"], options["metrics"])
    write("packages/study/fixtures/report-golden.json", dict(input=study, options=options, expected=exp))


if __name__ == "__main__":
    main()
