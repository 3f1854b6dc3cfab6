"""Analytic parameter and MAC counts of SMART-IQA (Swin-T/S/B, multiscale + attention) and HyperIQA (ResNet-50) at
224x224, batch 1, derived from the original's layer shapes (`smart_iqa/models/smart_iqa.py`,
`smart_iqa/models/hyperiqa.py`, timm 1.0's Swin) -- an independent reference for the kernel counter of
@iqa-bench/complexity (which counts what tfjs executes).

MACs per module group, split like OpCount:
  weight      products with a parameter operand (conv / linear layers; what ptflops and thop count)
  activation  products of two computed tensors (window attention q.k^T and attn.v; the TargetNet)
  independent products that do not depend on the image (the relative-position bias as one-hot [N*N, (2w-1)^2] x table)
Run: python3 packages/complexity/tools/analytic_complexity.py > packages/complexity/fixtures/analytic-complexity.json
"""
import json

LDA_OUT, HYPER_IN, TARGET_IN, TARGET_FC, FS = 16, 112, 224, (112, 56, 28, 14), 7


def add(groups, name, kind, macs):
    g = groups.setdefault(name, {"weight": 0, "activation": 0, "independent": 0})
    g[kind] += macs


def swin(embed, depths, heads, window=7):
    params, groups = {}, {}
    dims = [embed * 2**i for i in range(4)]
    res = [56 // 2**i for i in range(4)]
    # patch_embed: Conv2d(3->C0, 4, 4) + LayerNorm(C0)
    params["backbone.stem"] = 3 * 16 * dims[0] + dims[0] + 2 * dims[0]
    add(groups, "backbone.stem", "weight", res[0] ** 2 * 48 * dims[0])
    table = (2 * window - 1) ** 2
    for s in range(4):
        g = f"backbone.stage{s + 1}"
        c, n = dims[s], res[s] ** 2
        ws = min(window, res[s])
        p = 0
        if s > 0:  # PatchMerging: LayerNorm(4C') + Linear(4C' -> C, no bias), C' = C/2
            cin = 4 * dims[s - 1]
            p += 2 * cin + cin * c
            add(groups, g, "weight", n * cin * c)
        for _ in range(depths[s]):
            p += 2 * c + ((2 * ws - 1) ** 2) * heads[s] + 3 * c * c + 3 * c + c * c + c + 2 * c + 4 * c * c + 4 * c + 4 * c * c + c
            add(groups, g, "weight", n * c * 3 * c + n * c * c + 8 * n * c * c)
            add(groups, g, "activation", 2 * n * ws * ws * c)  # q.k^T and attn.v over n/ws^2 windows
            add(groups, g, "independent", (ws * ws) ** 2 * ((2 * ws - 1) ** 2) * heads[s])
        params[g] = p
    assert table == 169
    return dims, res, params, groups


def resnet50():
    params, groups = {}, {}
    # stem: conv 7x7/2 3->64 (112x112 out), BN; maxpool
    params["backbone.stem"] = 7 * 7 * 3 * 64 + 2 * 64
    add(groups, "backbone.stem", "weight", 112 * 112 * 64 * 147)
    inplanes, side = 64, 56
    dims, res = [], []
    for s, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512))):
        g = f"backbone.stage{s + 1}"
        p = 0
        out = width * 4
        for b in range(blocks):
            stride = 2 if (b == 0 and s > 0) else 1
            in_side, o_side = side, side // stride
            p += inplanes * width + 2 * width + 9 * width * width + 2 * width + width * out + 2 * out
            add(groups, g, "weight", in_side**2 * inplanes * width + o_side**2 * 9 * width * width + o_side**2 * width * out)
            if b == 0:  # downsample 1x1 conv (stride) + BN
                p += inplanes * out + 2 * out
                add(groups, g, "weight", o_side**2 * inplanes * out)
            inplanes, side = out, o_side
        params[g] = p
        dims.append(out)
        res.append(side)
    return dims, res, params, groups


def head(dims, res, params, groups, attention):
    c0, c1, c2, c3 = dims
    lda = 0
    for i, (c, side) in enumerate(zip(dims[:3], res[:3])):
        k = LDA_OUT * 2**i
        pooled = side // FS
        fc_in = k * pooled * pooled
        lda += c * k + fc_in * LDA_OUT + LDA_OUT
        add(groups, "lda", "weight", side * side * c * k + fc_in * LDA_OUT)
    lda4 = TARGET_IN - 3 * LDA_OUT
    lda += c3 * lda4 + lda4
    add(groups, "lda", "weight", c3 * lda4)
    params["lda"] = lda
    if attention:
        params["fusion"] = c3 * 256 + 256 + 256 * 4 + 4
        add(groups, "fusion", "weight", c3 * 256 + 256 * 4)
        cin = sum(dims)
        hidden = (512, 256)
    else:
        cin = c3
        hidden = (1024, 512)
    widths = (cin, *hidden, HYPER_IN)
    params["hypernet"] = sum(widths[i] * widths[i + 1] + widths[i + 1] for i in range(3))
    add(groups, "hypernet", "weight", FS * FS * sum(widths[i] * widths[i + 1] for i in range(3)))
    sizes = (TARGET_IN, *TARGET_FC)
    gen = 0
    for l in range(4):
        conv_out = sizes[l] * sizes[l + 1] // (FS * FS)
        gen += 9 * HYPER_IN * conv_out + conv_out + HYPER_IN * sizes[l + 1] + sizes[l + 1]
        add(groups, "generators", "weight", FS * FS * 9 * HYPER_IN * conv_out + HYPER_IN * sizes[l + 1])
    gen += HYPER_IN * TARGET_FC[3] + TARGET_FC[3] + HYPER_IN + 1
    add(groups, "generators", "weight", HYPER_IN * TARGET_FC[3] + HYPER_IN)
    params["generators"] = gen
    target = sum(a * b for a, b in zip((TARGET_IN, *TARGET_FC), (*TARGET_FC, 1)))
    add(groups, "target_net", "activation", target)
    return params, groups


out = {}
for name, (embed, depths, heads) in {
    "smart-iqa-tiny": (96, (2, 2, 6, 2), (3, 6, 12, 24)),
    "smart-iqa-small": (96, (2, 2, 18, 2), (3, 6, 12, 24)),
    "smart-iqa-base": (128, (2, 2, 18, 2), (4, 8, 16, 32)),
}.items():
    dims, res, params, groups = swin(embed, depths, heads)
    params, groups = head(dims, res, params, groups, attention=True)
    out[name] = {"params": params, "macs": groups}
dims, res, params, groups = resnet50()
params, groups = head(dims, res, params, groups, attention=False)
out["hyperiqa-resnet50"] = {"params": params, "macs": groups}
for v in out.values():
    v["totalParams"] = sum(v["params"].values())
    v["totalMacs"] = {k: sum(g[k] for g in v["macs"].values()) for k in ("weight", "activation", "independent")}
print(json.dumps(out, indent=1))
