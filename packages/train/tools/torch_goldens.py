"""Golden values for @iqa-bench/train tests, computed with PyTorch (Debian python3-torch 1.13).

Run:  /usr/bin/python3 packages/train/tools/torch_goldens.py > packages/train/fixtures/torch-goldens.json

- optimizers: torch.optim.AdamW with two parameter groups + clip_grad_norm_(1.0), and torch.optim.Adam (coupled L2),
  5 steps from fixed float32 parameters and gradient sequences (inputs stored in the JSON).
- cosine: torch CosineAnnealingLR(T_max=10, eta_min=1e-6) with group LRs 5e-7 / 5e-6 (the original's rising-LR quirk),
  LR of each epoch.
- losses: the original's loss formulas (seed-spec 2.5) written in torch float64, value and gradient wrt predictions;
  plus the soft-rank Spearman surrogate as specified in src/losses.ts.
"""
import json
import math

import numpy as np
import torch

torch.set_default_dtype(torch.float32)
rng = np.random.RandomState(1234)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def opt_case(kind):
    p_a0 = f32(rng.randn(3, 4))
    p_b0 = f32(rng.randn(5))
    # scale gradients so that clipping triggers on some steps and not on others
    scales = [3.0, 0.05, 1.5, 0.1, 4.0]
    grads = [(f32(rng.randn(3, 4) * s), f32(rng.randn(5) * s)) for s in scales]
    a = torch.nn.Parameter(torch.tensor(p_a0))
    b = torch.nn.Parameter(torch.tensor(p_b0))
    groups = [{"params": [b], "lr": 0.1}, {"params": [a], "lr": 0.01}]
    if kind == "adamw":
        opt = torch.optim.AdamW(groups, weight_decay=0.05, betas=(0.9, 0.999), eps=1e-8)
    else:
        opt = torch.optim.Adam(groups, weight_decay=0.05, betas=(0.9, 0.999), eps=1e-8)
    steps = []
    for ga, gb in grads:
        opt.zero_grad()
        a.grad = torch.tensor(ga)
        b.grad = torch.tensor(gb)
        total = None
        if kind == "adamw":
            total = float(torch.nn.utils.clip_grad_norm_([a, b], max_norm=1.0))
        opt.step()
        steps.append({
            "total_norm": total,
            "a": a.detach().numpy().astype(np.float64).ravel().tolist(),
            "b": b.detach().numpy().astype(np.float64).ravel().tolist(),
        })
    return {
        "kind": kind,
        "lr": {"swin.a": 0.01, "fc.b": 0.1},
        "weight_decay": 0.05,
        "clip": 1.0 if kind == "adamw" else None,
        "a0": p_a0.astype(np.float64).ravel().tolist(),
        "b0": p_b0.astype(np.float64).ravel().tolist(),
        "grads": [{"a": ga.astype(np.float64).ravel().tolist(), "b": gb.astype(np.float64).ravel().tolist()} for ga, gb in grads],
        "steps": steps,
    }


def cosine_case():
    p1 = torch.nn.Parameter(torch.zeros(1))
    p2 = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([{"params": [p1], "lr": 5e-6}, {"params": [p2], "lr": 5e-7}])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=1e-6)
    lrs = []
    for _ in range(10):
        lrs.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    return {"T_max": 10, "eta_min": 1e-6, "base": {"head": 5e-6, "backbone": 5e-7}, "lrs": lrs}


def pair(v):
    return v.unsqueeze(1) - v.unsqueeze(0)


def masked_mean(l, mask):
    n = mask.sum()
    if n == 0:
        return (l * 0).sum()
    return (l * mask).sum() / n


def loss_l1(p, y):
    return (p - y).abs().mean()


def loss_l2(p, y):
    return ((p - y) ** 2).mean()


def loss_plcc(p, y):
    dp = p - p.mean()
    dy = y - y.mean()
    return 1 - (dp * dy).sum() / (torch.sqrt((dp ** 2).sum() * (dy ** 2).sum()) + 1e-8)


def label_mask(y):
    return ((pair(y).abs() > 1e-6) & ~torch.eye(len(y), dtype=torch.bool)).double()


def loss_rank(p, y):
    d = pair(p)
    e = torch.sign(d).detach()
    e[e == 0] = 1
    l = torch.clamp(d.abs() - e * pair(y), min=0)
    return masked_mean(l, label_mask(y))


def loss_fidelity(p, y, scale=1.0, sigma=0.1):
    pgt = torch.sigmoid(pair(y) / scale)
    ppr = torch.sigmoid(1.702 * pair(p) / (math.sqrt(2) * sigma))
    l = 1 - torch.sqrt(pgt * ppr + 1e-8) - torch.sqrt((1 - pgt) * (1 - ppr) + 1e-8)
    return masked_mean(l, label_mask(y))


def loss_margin(p, y, margin=0.1):
    s = torch.sign(pair(y))
    l = torch.clamp(-pair(p) * s + margin, min=0)
    return masked_mean(l, (s != 0).double())


def rankdata(v):
    order = sorted(range(len(v)), key=lambda i: (v[i], i))
    r = [0.0] * len(v)
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def loss_spearman(p, y, tau=0.1):
    z = (p - p.mean()) / torch.sqrt(p.var(unbiased=False) + 1e-12)
    soft = torch.sigmoid(pair(z) / tau).sum(1)
    yr = torch.tensor(rankdata(y.tolist()), dtype=torch.float64)
    return loss_plcc(soft, yr)


def loss_case(name, fn, p0, y0, **kw):
    p = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(y0, dtype=torch.float64)
    v = fn(p, y, **kw)
    v.backward()
    return {"loss": name, "kw": kw, "p": p0, "y": y0, "value": float(v), "grad": p.grad.tolist()}


def losses():
    out = []
    # labels on the 0-100 MOS scale with one tie; predictions near them
    y100 = [62.5, 40.0, 71.25, 40.0, 55.5, 80.0]
    p100 = [float(np.float32(v)) for v in (np.array(y100) + rng.randn(6) * 8)]
    # normalised labels
    y1 = [float(np.float32(v)) for v in rng.rand(7)]
    p1 = [float(np.float32(v)) for v in rng.rand(7)]
    for p0, y0 in ((p100, y100), (p1, y1)):
        out.append(loss_case("l1", loss_l1, p0, y0))
        out.append(loss_case("l2", loss_l2, p0, y0))
        out.append(loss_case("plcc", loss_plcc, p0, y0))
        out.append(loss_case("rank", loss_rank, p0, y0))
        out.append(loss_case("fidelity", loss_fidelity, p0, y0))
        out.append(loss_case("margin", loss_margin, p0, y0))
        out.append(loss_case("spearman", loss_spearman, p0, y0))
    out.append(loss_case("fidelity", loss_fidelity, p1, y1, scale=0.2, sigma=0.3))
    out.append(loss_case("margin", loss_margin, p100, y100, margin=5.0))
    out.append(loss_case("spearman", loss_spearman, p1, y1, tau=0.5))
    return out


print(json.dumps({
    "generator": "packages/train/tools/torch_goldens.py",
    "torch": torch.__version__,
    "optimizers": [opt_case("adamw"), opt_case("adam")],
    "cosine": cosine_case(),
    "losses": losses(),
}, indent=1))
