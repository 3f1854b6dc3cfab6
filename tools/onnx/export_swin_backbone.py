"""torch.onnx's export of a bare Swin backbone, the speed yardstick of bench/onnx-speed.mjs.

timm is not installable here, so the backbone is the project's own PyTorch reference (tools/reference/smart_iqa.py
SwinFeatures: timm's Swin arithmetic and layout, features only: patch embedding and the four stages, no final norm, no
pooling or classifier), with Swin-T's sizes (embed 96, depths 2-2-6-2, heads 3-6-12-24, window 7, 224 input) and its
timm-style random initialisation (the speed does not depend on the weights). torch.onnx writes it as it would write
timm's model: opset 17, a dynamic batch dimension, constant folding on.

  /usr/bin/python3 tools/onnx/export_swin_backbone.py OUT.onnx [--size tiny|small|base]

Needs Debian's PyTorch (apt-get install -y python3-torch: torch 1.13). Inputs `image` [batch, 3, 224, 224] NCHW;
outputs `stage0` … `stage3`, the four NHWC stage maps SMART-IQA's head reads.
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from smart_iqa import SwinFeatures, original_config  # noqa: E402


class Backbone(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.features = SwinFeatures(cfg, 0.0)

    def forward(self, image):
        return tuple(self.features(image))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--size", default="tiny", choices=["tiny", "small", "base"])
    args = ap.parse_args()
    torch.manual_seed(0)
    model = Backbone(original_config(args.size)["backbone"]).eval()
    x = torch.randn(2, 3, 224, 224)
    outputs = [f"stage{i}" for i in range(4)]
    with torch.no_grad():
        torch.onnx.export(
            model,
            (x,),
            args.out,
            opset_version=17,
            input_names=["image"],
            output_names=outputs,
            dynamic_axes={name: {0: "batch"} for name in ["image", *outputs]},
            do_constant_folding=True,
        )
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out}: Swin-{args.size[0].upper()} backbone, {params / 1e6:.2f} M parameters, torch {torch.__version__}")


if __name__ == "__main__":
    main()
