"""An independent PyTorch reference of SMART-IQA (HyperIQA with a Swin backbone) and of the HyperIQA head.

Written from a description of timm 1.0's Swin arithmetic and of the original HyperNet / TargetNet
(`smart_iqa/models/smart_iqa.py`), not from timm or the original code, so that @iqa-bench/model's TensorFlow.js port can
be checked against numbers it did not produce itself. Module and attribute names reproduce the original state-dict keys
(`swin.backbone.patch_embed.proj.weight` … `fc5b_fc.bias`), so `model.state_dict()` has exactly the original layout
and order.

Runs with Debian's PyTorch 1.13 (`/usr/bin/python3`); no timm needed.

Configuration (a dict, the same fields as the TypeScript ModelConfig):
  backbone: {embedDim, depths[4], numHeads[4], windowSize, patchSize, imgSize, mlpRatio}
  head: {ldaOut, hyperInChannels, targetInSize, targetFc[4], featureSize, conv1Hidden[2], attentionHidden}
  fusion: 'single' | 'concat' | 'attention'; dropPathRate; dropoutRate; attentionDropout
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------------------------------------------------
# Swin backbone (features only: patch_embed + layers_0..3, no final norm), NHWC inside like timm >= 0.9.
# --------------------------------------------------------------------------------------------------------------------


class DropPath(nn.Module):
    """Stochastic depth per sample; scales kept samples by 1/keep; identity in eval."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        mask = x.new_empty(shape).bernoulli_(keep)
        return x * mask / keep


class PatchEmbed(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)
        self.norm = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x):  # NCHW image -> NHWC tokens
        return self.norm(self.proj(x).permute(0, 2, 3, 1))


def window_partition(x, ws):
    """[B,H,W,C] -> [B*nW, ws, ws, C], windows row-major, batch-major."""
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws, ws, c)


def window_reverse(windows, ws, h, w):
    c = windows.shape[-1]
    x = windows.view(-1, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, h, w, c)


def relative_position_index(ws):
    """index[i, j] = (y_i - y_j + ws - 1) * (2ws - 1) + (x_i - x_j + ws - 1), tokens row-major in the window."""
    ys, xs = torch.meshgrid(torch.arange(ws), torch.arange(ws), indexing="ij")
    coords = torch.stack([ys.flatten(), xs.flatten()])  # [2, N]
    rel = coords[:, :, None] - coords[:, None, :]  # [2, N, N]
    rel = rel.permute(1, 2, 0) + (ws - 1)
    return rel[:, :, 0] * (2 * ws - 1) + rel[:, :, 1]


def shift_mask(h, w, ws, shift):
    """The 3x3-region mask: 0 inside a region, -100 across regions. [nW, N, N]."""
    img = torch.zeros(1, h, w, 1)
    label = 0
    for hs in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
        for wsl in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
            img[:, hs, wsl, :] = label
            label += 1
    win = window_partition(img, ws).view(-1, ws * ws)
    diff = win.unsqueeze(1) - win.unsqueeze(2)
    return diff.masked_fill(diff != 0, -100.0).masked_fill(diff == 0, 0.0)


class WindowAttention(nn.Module):
    def __init__(self, dim, heads, ws):
        super().__init__()
        self.heads = heads
        self.ws = ws
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * ws - 1) ** 2, heads))
        self.register_buffer("relative_position_index", relative_position_index(ws).view(-1), persistent=False)
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x, mask):
        bw, n, c = x.shape
        qkv = self.qkv(x).reshape(bw, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q = q * self.scale
        attn = q @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index].view(n, n, -1).permute(2, 0, 1)
        attn = attn + bias.unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(-1, nw, self.heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.heads, n, n)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(bw, n, c)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()  # exact erf
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class SwinBlock(nn.Module):
    def __init__(self, dim, res, heads, window, shift, mlp_ratio, drop_path):
        super().__init__()
        # timm: window clamped to the map, no shift when the map fits in one window
        self.ws = min(window, res)
        self.shift = 0 if res <= window else shift
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.attn = WindowAttention(dim, heads, self.ws)
        self.drop_path1 = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.drop_path2 = DropPath(drop_path)
        mask = shift_mask(res, res, self.ws, self.shift) if self.shift > 0 else None
        self.register_buffer("attn_mask", mask, persistent=False)

    def _attn(self, x):
        b, h, w, c = x.shape
        if self.shift:
            x = torch.roll(x, shifts=(-self.shift, -self.shift), dims=(1, 2))
        win = window_partition(x, self.ws).view(-1, self.ws * self.ws, c)
        out = self.attn(win, self.attn_mask)
        x = window_reverse(out.view(-1, self.ws, self.ws, c), self.ws, h, w)
        if self.shift:
            x = torch.roll(x, shifts=(self.shift, self.shift), dims=(1, 2))
        return x

    def forward(self, x):
        b, h, w, c = x.shape
        x = x + self.drop_path1(self._attn(self.norm1(x)))
        x = x.reshape(b, -1, c)
        x = x + self.drop_path2(self.mlp(self.norm2(x)))
        return x.reshape(b, h, w, c)


class PatchMerging(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim, eps=1e-5)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x):
        b, h, w, c = x.shape
        # channel order x0,x1,x2,x3 = (r0,c0),(r1,c0),(r0,c1),(r1,c1)
        x = x.reshape(b, h // 2, 2, w // 2, 2, c).permute(0, 1, 3, 4, 2, 5).flatten(3)
        return self.reduction(self.norm(x))


class SwinStage(nn.Module):
    def __init__(self, dim, res, depth, heads, window, mlp_ratio, dprs, downsample):
        super().__init__()
        self.downsample = PatchMerging(dim // 2) if downsample else nn.Identity()
        self.blocks = nn.Sequential(
            *[
                SwinBlock(dim, res, heads, window, 0 if j % 2 == 0 else window // 2, mlp_ratio, dprs[j])
                for j in range(depth)
            ]
        )

    def forward(self, x):
        return self.blocks(self.downsample(x))


class SwinFeatures(nn.Module):
    """timm FeatureListNet(features_only) equivalent: patch_embed, layers_0..layers_3; returns 4 NHWC maps."""

    def __init__(self, cfg, drop_path_rate):
        super().__init__()
        e = cfg["embedDim"]
        self.patch_embed = PatchEmbed(cfg["patchSize"], e)
        total = sum(cfg["depths"])
        dpr = [x.item() for x in torch.linspace(0, drop_path_rate, total)]
        base = cfg["imgSize"] // cfg["patchSize"]
        k = 0
        for i in range(4):
            d = cfg["depths"][i]
            stage = SwinStage(
                e * 2**i, base // 2**i, d, cfg["numHeads"][i], cfg["windowSize"], cfg["mlpRatio"], dpr[k : k + d], i > 0
            )
            k += d
            setattr(self, f"layers_{i}", stage)
        # timm init: Linear trunc_normal(0.02), bias 0; LayerNorm 1/0; conv keeps PyTorch's default
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.patch_embed(x)
        feats = []
        for i in range(4):
            x = getattr(self, f"layers_{i}")(x)
            feats.append(x)
        return feats


# --------------------------------------------------------------------------------------------------------------------
# LDA heads, fusion, HyperNet and TargetNet (the original's arithmetic).
# --------------------------------------------------------------------------------------------------------------------


def add_lda_modules(owner, channels, head):
    """Registers lda1_pool, lda1_fc, ..., lda4_pool, lda4_fc on `owner` (in the original's order).

    channels: the four stage widths; head: the head config. Used by the Swin and the ResNet reference alike.
    """
    lda, fs = head["ldaOut"], head["featureSize"]
    for i in range(3):
        conv_out = lda * 2**i
        side = fs * 2 ** (3 - i)
        pooled = side // fs
        setattr(
            owner,
            f"lda{i + 1}_pool",
            nn.Sequential(nn.Conv2d(channels[i], conv_out, kernel_size=1, stride=1, padding=0, bias=False), nn.AvgPool2d(fs, stride=fs)),
        )
        setattr(owner, f"lda{i + 1}_fc", nn.Linear(conv_out * pooled * pooled, lda))
    owner.lda4_pool = nn.AvgPool2d(fs, stride=fs)
    owner.lda4_fc = nn.Linear(channels[3], head["targetInSize"] - 3 * lda)
    # kaiming_normal_ (fan_in) on LDA conv / fc weights; fc biases keep PyTorch's default
    for i in range(3):
        nn.init.kaiming_normal_(getattr(owner, f"lda{i + 1}_pool")[0].weight.data)
    for i in range(4):
        nn.init.kaiming_normal_(getattr(owner, f"lda{i + 1}_fc").weight.data)


def lda_forward(owner, feats):
    """feats: four NCHW maps -> target_in_vec [B, targetInSize]."""
    b = feats[0].shape[0]
    out = [getattr(owner, f"lda{i + 1}_fc")(getattr(owner, f"lda{i + 1}_pool")(feats[i]).view(b, -1)) for i in range(4)]
    return torch.cat(out, 1)


class SwinBackbone(nn.Module):
    """The original `swin` module: timm backbone + LDA heads; returns NCHW stage maps and target_in_vec."""

    def __init__(self, cfg):
        super().__init__()
        bb, head = cfg["backbone"], cfg["head"]
        self.backbone = SwinFeatures(bb, cfg["dropPathRate"])
        self.channels = [bb["embedDim"] * 2**i for i in range(4)]
        add_lda_modules(self, self.channels, head)

    def forward(self, img):
        nhwc = self.backbone(img)
        feats = [f.permute(0, 3, 1, 2).contiguous() for f in nhwc]
        return {"nhwc": nhwc, "feats": feats, "target_in_vec": lda_forward(self, feats)}


class MultiScaleAttention(nn.Module):
    def __init__(self, c_last, hidden, p_drop, fs):
        super().__init__()
        self.fs = fs
        self.attention_net = nn.Sequential(
            nn.Linear(c_last, hidden), nn.ReLU(inplace=True), nn.Dropout(p_drop), nn.Linear(hidden, 4), nn.Softmax(dim=1)
        )
        for idx in (0, 3):
            nn.init.normal_(self.attention_net[idx].weight, 0, 0.01)
            nn.init.zeros_(self.attention_net[idx].bias)

    def forward(self, feats):
        pooled = [F.adaptive_avg_pool2d(f, (self.fs, self.fs)) for f in feats]
        g = F.adaptive_avg_pool2d(feats[3], 1).flatten(1)
        alpha = self.attention_net(g)
        weighted = [p * alpha[:, i].view(-1, 1, 1, 1) for i, p in enumerate(pooled)]
        return torch.cat(weighted, 1), alpha


class HyperNet(nn.Module):
    """HyperNet with the original's module order: <feature module>, pool, [multiscale_attention], conv1, dropout, fc*.

    feature_name: 'swin' (SMART-IQA) or 'res' (HyperIQA); feature_module must return {'feats', 'target_in_vec'} and
    expose `channels` (the four stage widths).
    """

    def __init__(self, cfg, feature_name, feature_module):
        super().__init__()
        head = cfg["head"]
        self.cfg = cfg
        self.feature_name = feature_name
        setattr(self, feature_name, feature_module)
        ch = feature_module.channels
        fs = head["featureSize"]
        self.fs = fs
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        fusion = cfg["fusion"]
        self.fusion = fusion
        if fusion == "attention":
            self.multiscale_attention = MultiScaleAttention(ch[3], head["attentionHidden"], cfg["attentionDropout"], fs)
        cin = ch[3] if fusion == "single" else sum(ch)
        h1, h2 = head["conv1Hidden"]
        hin = head["hyperInChannels"]
        self.hin = hin
        self.conv1 = nn.Sequential(
            nn.Conv2d(cin, h1, 1, padding=0), nn.ReLU(inplace=True),
            nn.Conv2d(h1, h2, 1, padding=0), nn.ReLU(inplace=True),
            nn.Conv2d(h2, hin, 1, padding=0), nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout(cfg["dropoutRate"])
        sizes = [head["targetInSize"]] + list(head["targetFc"])
        self.sizes = sizes
        for l in range(4):
            conv_out = sizes[l] * sizes[l + 1] // (fs * fs)
            setattr(self, f"fc{l + 1}w_conv", nn.Conv2d(hin, conv_out, 3, padding=1))
            setattr(self, f"fc{l + 1}b_fc", nn.Linear(hin, sizes[l + 1]))
        self.fc5w_fc = nn.Linear(hin, sizes[4])
        self.fc5b_fc = nn.Linear(hin, 1)
        for l in range(4):
            nn.init.kaiming_normal_(getattr(self, f"fc{l + 1}w_conv").weight.data)
            nn.init.kaiming_normal_(getattr(self, f"fc{l + 1}b_fc").weight.data)
        nn.init.kaiming_normal_(self.fc5w_fc.weight.data)
        nn.init.kaiming_normal_(self.fc5b_fc.weight.data)

    def forward(self, img):
        fm = getattr(self, self.feature_name)(img)
        feats = fm["feats"]
        attn = None
        if self.fusion == "attention":
            hyper_in, attn = self.multiscale_attention(feats)
        elif self.fusion == "concat":
            hyper_in = torch.cat([F.adaptive_avg_pool2d(f, (self.fs, self.fs)) for f in feats], 1)
        else:
            hyper_in = feats[3]
        h = self.conv1(hyper_in).view(-1, self.hin, self.fs, self.fs)
        h = self.dropout(h)
        s = self.sizes
        out = {"target_in_vec": fm["target_in_vec"].view(-1, s[0], 1, 1)}
        g = self.pool(h).squeeze()
        for l in range(4):
            out[f"target_fc{l + 1}w"] = getattr(self, f"fc{l + 1}w_conv")(h).view(-1, s[l + 1], s[l], 1, 1)
            out[f"target_fc{l + 1}b"] = getattr(self, f"fc{l + 1}b_fc")(g).view(-1, s[l + 1])
        out["target_fc5w"] = self.fc5w_fc(g).view(-1, 1, s[4], 1, 1)
        out["target_fc5b"] = self.fc5b_fc(g).view(-1, 1)
        out["_feats_nhwc"] = fm.get("nhwc")
        out["_attention"] = attn
        return out


class TargetFC(nn.Module):
    """y_b = W_b x_b + b_b for each image, as one grouped 1x1 conv (the original's formulation)."""

    def __init__(self, weight, bias):
        super().__init__()
        self.weight = weight
        self.bias = bias

    def forward(self, x):
        b = self.weight.shape[0]
        x = x.view(-1, b * x.shape[1], x.shape[2], x.shape[3])
        w = self.weight.view(b * self.weight.shape[1], self.weight.shape[2], self.weight.shape[3], self.weight.shape[4])
        out = F.conv2d(x, w, self.bias.view(-1), groups=b)
        return out.view(b, self.weight.shape[1], x.shape[2], x.shape[3])


class TargetNet(nn.Module):
    """224 -> 112 -> 56 -> 28 -> 14 -> 1, sigmoid after layers 1-4, dropout after 1-3 (SMART)."""

    def __init__(self, paras, dropout_rate):
        super().__init__()
        self.l1 = nn.Sequential(TargetFC(paras["target_fc1w"], paras["target_fc1b"]), nn.Sigmoid())
        self.l2 = nn.Sequential(TargetFC(paras["target_fc2w"], paras["target_fc2b"]), nn.Sigmoid())
        self.l3 = nn.Sequential(TargetFC(paras["target_fc3w"], paras["target_fc3b"]), nn.Sigmoid())
        self.l4 = nn.Sequential(TargetFC(paras["target_fc4w"], paras["target_fc4b"]), nn.Sigmoid())
        self.l5 = TargetFC(paras["target_fc5w"], paras["target_fc5b"])
        self.drop = nn.Dropout(dropout_rate)

    def forward(self, x):
        q = self.drop(self.l1(x))
        q = self.drop(self.l2(q))
        q = self.drop(self.l3(q))
        q = self.l4(q)
        return self.l5(q).view(-1)


def build_smart_iqa(cfg):
    return HyperNet(cfg, "swin", SwinBackbone(cfg))


def score(model, img):
    """Eval-mode scores [B] plus the intermediate dict."""
    paras = model(img)
    net = TargetNet(paras, model.cfg["dropoutRate"])
    net.train(model.training)
    return net(paras["target_in_vec"]), paras


SIZES = {
    "tiny": dict(embedDim=96, depths=[2, 2, 6, 2], numHeads=[3, 6, 12, 24], dp=0.2, do=0.3),
    "small": dict(embedDim=96, depths=[2, 2, 18, 2], numHeads=[3, 6, 12, 24], dp=0.25, do=0.35),
    "base": dict(embedDim=128, depths=[2, 2, 18, 2], numHeads=[4, 8, 16, 32], dp=0.3, do=0.4),
}


def original_config(size, fusion="attention"):
    s = SIZES[size]
    return {
        "arch": "smart-iqa",
        "backbone": {
            "kind": "swin", "embedDim": s["embedDim"], "depths": s["depths"], "numHeads": s["numHeads"],
            "windowSize": 7, "patchSize": 4, "imgSize": 224, "mlpRatio": 4,
        },
        "fusion": fusion,
        "head": {
            "ldaOut": 16, "hyperInChannels": 112, "targetInSize": 224, "targetFc": [112, 56, 28, 14],
            "featureSize": 7, "conv1Hidden": [512, 256], "attentionHidden": 256,
        },
        "dropPathRate": s["dp"],
        "dropoutRate": s["do"],
        "attentionDropout": 0.5,
    }


def test_image(b, size=224):
    """A deterministic NCHW float32 test input defined by a formula (the TypeScript tests compute the same one)."""
    import numpy as np

    y = np.arange(size, dtype=np.float64)[:, None]
    x = np.arange(size, dtype=np.float64)[None, :]
    out = np.empty((b, 3, size, size), dtype=np.float32)
    for bi in range(b):
        for c in range(3):
            v = np.sin(0.37 * y + 0.11 * x * (c + 1) + 1.3 * bi) + 0.5 * np.cos(0.013 * x * y + 0.7 * c + 0.2 * bi)
            out[bi, c] = v.astype(np.float32)
    return torch.from_numpy(out)


def count_params(model):
    return sum(p.numel() for p in model.state_dict().values())


if __name__ == "__main__":
    # Parameter counts of the full-size models against the original's (sum(p.numel()) of its HyperNet).
    expected = {"tiny": 29_521_479, "small": 50_839_383, "base": 89_111_941}
    for size, want in expected.items():
        m = build_smart_iqa(original_config(size))
        n = count_params(m)
        keys = len(m.state_dict())
        print(f"SMART-{size}: {n:,} parameters ({'OK' if n == want else 'MISMATCH, expected %s' % f'{want:,}'}), {keys} tensors")
        del m
