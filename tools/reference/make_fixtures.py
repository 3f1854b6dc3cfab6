"""Parity fixtures for @iqa-bench/model, made with the independent PyTorch reference in smart_iqa.py.

For each model: a checkpoint written exactly as the original writes it (`torch.save(model.state_dict(), path)`, zip
format, `.pkl`), and golden eval-mode outputs for a fixed input defined by a formula (`smart_iqa.test_image`): the four
NHWC stage maps, target_in_vec, the generated TargetNet weights and biases, the attention weights and the scores.

  /usr/bin/python3 tools/reference/make_fixtures.py                       # committed micro fixtures
  /usr/bin/python3 tools/reference/make_fixtures.py --size tiny --out DIR  # full-size Swin-T (not committed)

Output (DIR, default packages/model/fixtures/parity/micro):
  fixture.json   index: torch version, input spec, per model its config, checkpoint file, scores, attention, and
                 {name: {offset, shape}} into goldens.bin (float32 little-endian, offsets in elements)
  goldens.bin
  <model>.pkl    one checkpoint per model

The micro SMART-IQA models share one Swin backbone and differ in the fusion mode (single / concat / attention); the
HyperIQA micro model is the ResNet of tools/reference/resnet.py (BatchNorm in eval mode with non-trivial running
statistics) under the same head code. Weights are
re-drawn with larger spreads than the training init (LayerNorm affine, biases and relative-position tables far from
their 1/0/small init) so that a wrong layout, order or sign anywhere changes the outputs.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smart_iqa as ref  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(ROOT, "packages", "model", "fixtures", "parity", "micro")

MICRO_BACKBONE = {
    "kind": "swin", "embedDim": 8, "depths": [2, 2, 2, 2], "numHeads": [1, 2, 2, 4],
    "windowSize": 7, "patchSize": 4, "imgSize": 224, "mlpRatio": 4,
}
# HyperIQA micro: ResNet (tools/reference/resnet.py) with base width 8 and one block per stage (32..256 channels).
MICRO_RESNET = {"kind": "resnet", "layers": [1, 1, 1, 1], "baseWidth": 8, "imgSize": 224}
MICRO_HEAD = {
    "ldaOut": 4, "hyperInChannels": 16, "targetInSize": 28, "targetFc": [14, 14, 7, 7],
    "featureSize": 7, "conv1Hidden": [32, 24], "attentionHidden": 16,
}


def micro_config(fusion):
    return {
        "arch": "smart-iqa", "backbone": dict(MICRO_BACKBONE), "fusion": fusion, "head": dict(MICRO_HEAD),
        "dropPathRate": 0.2, "dropoutRate": 0.3, "attentionDropout": 0.5,
    }


def hyperiqa_micro_config():
    return {
        "arch": "hyperiqa", "backbone": dict(MICRO_RESNET), "fusion": "single", "head": dict(MICRO_HEAD),
        "dropPathRate": 0.0, "dropoutRate": 0.0, "attentionDropout": 0.5,
    }


def build_hyperiqa(cfg):
    """The original ResNet HyperNet: `res` = ResNet layers + LDA heads, then the same head as SMART-IQA."""
    import resnet as resnet_ref  # the ResNet reference of tools/reference/resnet.py

    bb, head = cfg["backbone"], cfg["head"]

    class ResWithLda(resnet_ref.ResNetBackbone):
        def __init__(self):
            super().__init__(bb["layers"], bb["baseWidth"])
            self.channels = [bb["baseWidth"] * 4 * 2**i for i in range(4)]
            ref.add_lda_modules(self, self.channels, head)

        def forward(self, img):
            feats = super().forward(img)
            return {"feats": feats, "nhwc": [f.permute(0, 2, 3, 1) for f in feats], "target_in_vec": ref.lda_forward(self, feats)}

    return ref.HyperNet(cfg, "res", ResWithLda())


def spread_weights(model, gen):
    """Re-draws every tensor so that nothing sits at an init value that would hide a mistake."""
    with torch.no_grad():
        for name, p in model.state_dict().items():
            if not p.is_floating_point():
                continue  # BatchNorm num_batches_tracked
            if name.endswith("relative_position_bias_table"):
                p.copy_(torch.randn(p.shape, generator=gen))
            elif name.endswith("running_mean"):
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))
            elif name.endswith("running_var"):
                p.copy_(0.5 + torch.rand(p.shape, generator=gen))
            elif p.dim() == 1 and name.endswith(".weight"):  # LayerNorm / BatchNorm scale
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
            elif p.dim() >= 2:
                fan_in = int(np.prod(p.shape[1:]))
                p.copy_(torch.randn(p.shape, generator=gen) / np.sqrt(fan_in))


class Goldens:
    def __init__(self):
        self.chunks = []
        self.offset = 0

    def add(self, t):
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        entry = {"offset": self.offset, "shape": list(a.shape)}
        self.chunks.append(a.reshape(-1))
        self.offset += a.size
        return entry

    def write(self, path):
        with open(path, "wb") as f:
            for c in self.chunks:
                f.write(c.tobytes())


def run_model(model, img, goldens, with_features):
    model.eval()
    with torch.no_grad():
        scores, paras = ref.score(model, img)
    tensors = {"target_in_vec": goldens.add(paras["target_in_vec"].view(img.shape[0], -1))}
    for l in range(1, 6):
        w = paras[f"target_fc{l}w"]
        tensors[f"target_fc{l}w"] = goldens.add(w.view(w.shape[0], w.shape[1], w.shape[2]))
        tensors[f"target_fc{l}b"] = goldens.add(paras[f"target_fc{l}b"])
    if with_features:
        for i, f in enumerate(paras["_feats_nhwc"]):
            tensors[f"stage{i}"] = goldens.add(f)
    attn = paras["_attention"]
    return {
        "scores": [float(s) for s in scores],
        "attention": None if attn is None else attn.tolist(),
        "tensors": tensors,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=["micro", "tiny", "small", "base", "resnet50"], default="micro")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20251223)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    img = ref.test_image(args.batch)

    if args.size == "micro":
        plan = [("micro-attention", micro_config("attention")), ("micro-concat", micro_config("concat")),
                ("micro-single", micro_config("single")), ("hyperiqa-micro", hyperiqa_micro_config())]
    elif args.size == "resnet50":
        cfg = hyperiqa_micro_config()
        cfg["backbone"] = {"kind": "resnet", "layers": [3, 4, 6, 3], "baseWidth": 64, "imgSize": 224}
        cfg["head"] = dict(ref.original_config("tiny")["head"], conv1Hidden=[1024, 512])
        plan = [("hyperiqa-resnet50", cfg)]
    else:
        plan = [(f"smart-iqa-{args.size}", ref.original_config(args.size, "attention"))]

    goldens = Goldens()
    models = []
    shared_backbone = None
    for i, (name, cfg) in enumerate(plan):
        resnet = cfg["arch"] == "hyperiqa"
        model = build_hyperiqa(cfg) if resnet else ref.build_smart_iqa(cfg)
        spread_weights(model, gen)
        if not resnet:
            if shared_backbone is None:
                shared_backbone = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("swin.")}
            else:
                model.load_state_dict(shared_backbone, strict=False)
        ckpt = f"{name}.pkl"
        torch.save(model.state_dict(), os.path.join(args.out, ckpt))
        # stage maps of the first model (the ResNet backbone has its own fixtures in fixtures/resnet/)
        res = run_model(model, img, goldens, with_features=(i == 0))
        models.append({"name": name, "config": cfg, "checkpoint": ckpt, **res})
        print(f"{name}: {ref.count_params(model):,} parameters, scores {res['scores']}")

    goldens.write(os.path.join(args.out, "goldens.bin"))
    index = {
        "generator": "tools/reference/make_fixtures.py",
        "torch": torch.__version__,
        "seed": args.seed,
        "input": {"formula": "smart_iqa.test_image", "batch": args.batch, "size": 224, "layout": "NCHW in torch, NHWC in tfjs"},
        "goldens": "goldens.bin",
        "models": models,
    }
    with open(os.path.join(args.out, "fixture.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
