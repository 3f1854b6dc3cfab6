"""Golden whole-image scores for @iqa-bench/scorer, from the independent PyTorch reference (tools/reference).

The original's test pipeline, in PIL and PyTorch: open the file, convert('RGB'), Resize((512, 384)) (bilinear, PIL),
crops of 224 at fixed corners, ToTensor + Normalize(ImageNet), the model in eval mode, the mean of the crop scores.
Crops: 'center' (torchvision CenterCrop) and 'grid' with 4 crops (2 x 2 spanning the image: corners 0 and max).

  /usr/bin/python3 tools/scorer/make_golden.py     # writes packages/scorer/fixtures/golden.json
"""

import json
import os
import sys

import numpy as np
import torch
from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))
import smart_iqa as ref  # noqa: E402

FIX = os.path.join(ROOT, "packages", "scorer", "fixtures")
CONFIG = os.path.join(ROOT, "packages", "model", "fixtures", "checkpoints", "hypernet-swin-attention.pkl.config.json")
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def crops_of(img, origins, size=224):
    a = np.asarray(img, dtype=np.float32) / np.float32(255.0)
    a = (a - MEAN) / STD
    return torch.from_numpy(
        np.stack([a[y : y + size, x : x + size].transpose(2, 0, 1) for y, x in origins]).astype(np.float32)
    )


def main():
    cfg = json.load(open(CONFIG))
    model = ref.build_smart_iqa(cfg)
    model.load_state_dict(torch.load(os.path.join(FIX, "micro-attention.pkl"), map_location="cpu"))
    model.eval()
    out = {"torch": torch.__version__, "checkpoint": "micro-attention.pkl", "preprocess": "seed", "images": {}}
    for name in ["q90.jpg", "rgb.png"]:
        img = Image.open(os.path.join(FIX, name)).convert("RGB").resize((384, 512), Image.BILINEAR)
        h, w = 512, 384
        center = [(int(round((h - 224) / 2.0)), int(round((w - 224) / 2.0)))]
        grid = [(0, 0), (0, w - 224), (h - 224, 0), (h - 224, w - 224)]
        entry = {}
        for mode, origins in [("center", center), ("grid", grid)]:
            with torch.no_grad():
                s, paras = ref.score(model, crops_of(img, origins))
            entry[mode] = {
                "origins": [list(o) for o in origins],
                "cropScores": [float(v) for v in s.reshape(-1)],
                "score": float(s.double().mean()),
                "attention": [[float(v) for v in row] for row in paras["_attention"]],
            }
        out["images"][name] = entry
    json.dump(out, open(os.path.join(FIX, "golden.json"), "w"), indent=1)
    print(json.dumps(out)[:600])


if __name__ == "__main__":
    main()
