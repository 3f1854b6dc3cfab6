"""Golden token orders for @iqa-bench/onnx's window index helpers (packages/onnx/src/windows.ts), computed the way
timm's Swin does it, with numpy: np.roll for torch.roll, reshape/transpose for window_partition, timm's slice-based
image mask for the shifted-window attention mask, and its relative_position_index construction.

  /usr/bin/python3 tools/onnx/make_window_fixtures.py   # writes packages/onnx/fixtures/windows.json

For a side×side map whose tokens carry their raster index, the "order" of a block is the raster index found at each
position of the partitioned (rolled) map: windows row-major, tokens row-major inside a window.
"""

import json
import os

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "packages", "onnx", "fixtures", "windows.json")


def window_partition(x, ws):
    """timm: [H, W, C] -> [nW, ws*ws, C] (windows row-major)."""
    h, w, c = x.shape
    x = x.reshape(h // ws, ws, w // ws, ws, c).transpose(0, 2, 1, 3, 4)
    return x.reshape(-1, ws * ws, c)


def block_order(side, ws, shift):
    raster = np.arange(side * side).reshape(side, side, 1)
    if shift:
        raster = np.roll(raster, shift=(-shift, -shift), axis=(0, 1))
    return window_partition(raster, ws).reshape(-1)


def attn_mask(side, ws, shift):
    """timm SwinTransformerBlock: img_mask regions by slices, partitioned, pairwise label differences -> -100."""
    img_mask = np.zeros((side, side, 1))
    cnt = 0
    for h in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
        for w in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
            img_mask[h, w, :] = cnt
            cnt += 1
    mw = window_partition(img_mask, ws).reshape(-1, ws * ws)
    m = mw[:, None, :] - mw[:, :, None]
    return np.where(m != 0, -100.0, 0.0)


def relative_position_index(ws):
    coords = np.stack(np.meshgrid(np.arange(ws), np.arange(ws), indexing="ij"))
    flat = coords.reshape(2, -1)
    rel = (flat[:, :, None] - flat[:, None, :]).transpose(1, 2, 0)
    rel[:, :, 0] += ws - 1
    rel[:, :, 1] += ws - 1
    rel[:, :, 0] *= 2 * ws - 1
    return rel.sum(-1).reshape(-1)


def patch_merge_sources(side):
    """timm PatchMerging: [H, W] -> [H/2, W/2, 4] in the order x0=(0::2,0::2), x1=(1::2,0::2), x2=(0::2,1::2), x3=(1::2,1::2)."""
    r = np.arange(side * side).reshape(side, side)
    parts = [r[0::2, 0::2], r[1::2, 0::2], r[0::2, 1::2], r[1::2, 1::2]]
    return np.stack(parts, axis=-1).reshape(-1, 4)


def main():
    cases = []
    for side, ws, shift in [(8, 4, 2), (12, 3, 1), (14, 7, 3)]:
        cases.append({
            "side": side, "window": ws, "shift": shift,
            "order0": block_order(side, ws, 0).tolist(),
            "orderShift": block_order(side, ws, shift).tolist(),
            "mask": attn_mask(side, ws, shift).reshape(-1).astype(int).tolist(),
            "mergeSources": patch_merge_sources(side).reshape(-1).tolist(),
        })
    data = {
        "generator": "tools/onnx/make_window_fixtures.py",
        "numpy": np.__version__,
        "cases": cases,
        "relativePositionIndex": {str(ws): relative_position_index(ws).tolist() for ws in (2, 3, 7)},
    }
    with open(OUT, "w") as f:
        json.dump(data, f)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
