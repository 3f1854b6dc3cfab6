/**
 * timm's Swin Transformer checkpoints (ImageNet weights, `.pth` or `.safetensors`) in this backbone's names.
 *
 * - timm >= 0.9: `patch_embed.*`, `layers.{i}.downsample.*` (stages 1-3), `layers.{i}.blocks.{j}.*`, `norm.*`,
 *   `head.fc.*`.
 * - Older timm and the original Microsoft release put the downsample at the end of stages 0-2: `layers.{i}.downsample`
 *   is stage i+1's (same weights), and they store the `relative_position_index` / `attn_mask` buffers.
 * - timm's features_only wrapper, whose names the backbone uses, flattens `layers.{i}` to `layers_{i}`.
 *
 * The final `norm` and the classifier `head` are dropped (the backbone gives features only), and so are the buffers
 * (the backbone computes them from the window size).
 */
import type { StateDict } from '../weights/state-dict.js';

/** Whether the state dict is a timm Swin backbone (either layout, with or without the features_only names). */
export function isTimmSwinStateDict(sd: StateDict): boolean {
  return sd.has('patch_embed.proj.weight') && [...sd.keys()].some((k) => /^layers[._]0\.blocks\.0\./.test(k));
}

/**
 * Renames a timm Swin state dict to the backbone's parameter names under `prefix` (HyperIQA: `swin.backbone`);
 * `dropped` lists the source keys left out on purpose.
 */
export function timmSwinToBackbone(
  sd: StateDict,
  prefix: string,
): { stateDict: StateDict; dropped: string[] } {
  const out: StateDict = new Map();
  const dropped: string[] = [];
  // Old layout: the downsample at the end of stage i belongs to stage i+1 in timm >= 0.9.
  const old = [...sd.keys()].some((k) => /^layers[._]0\.downsample\./.test(k));
  for (const [k, v] of sd) {
    if (/^(norm|head)\./.test(k) || /\.(relative_position_index|attn_mask)$/.test(k)) {
      dropped.push(k);
      continue;
    }
    let name = k;
    const m = /^layers[._](\d+)\.(.*)$/.exec(k);
    if (m) {
      const stage = Number(m[1]) + (old && m[2].startsWith('downsample.') ? 1 : 0);
      name = `layers_${stage}.${m[2]}`;
    }
    out.set(`${prefix}.${name}`, v);
  }
  return { stateDict: out, dropped };
}
