/**
 * ImageNet backbone weights as the starting point for training: timm Swin Transformer and torchvision ResNet-50
 * state dicts (.pth or .safetensors) renamed to the HyperNet's keys (`swin.backbone.*`, `res.*`).
 *
 * - timm >= 0.9 Swin: `patch_embed.*`, `layers.{i}.downsample.*` (stages 1-3), `layers.{i}.blocks.{j}.*`, `norm.*`,
 *   `head.fc.*`. Older timm and the original Microsoft release put the downsample at the end of stages 0-2
 *   (`layers.{i}.downsample` -> stage i+1, same weights) and store the `relative_position_index` / `attn_mask` buffers.
 *   timm's features_only wrapper names stages `layers_{i}`. The final `norm` and the `head` are dropped (the HyperNet
 *   uses features only), and so are the buffers (recomputed from the window size).
 * - torchvision ResNet: `conv1.weight`, `bn1.*`, `layer{1-4}.{k}.*` -> `res.*`; `fc.*` is dropped.
 */
import type { ParamStore } from '../params.js';
import type { LoadReport } from './load.js';
import { loadEntries } from './load.js';
import type { StateDict } from './state-dict.js';

export type PretrainedKind = 'timm-swin' | 'torchvision-resnet';

export interface MappedBackbone {
  kind: PretrainedKind;
  /** Tensors renamed to HyperNet keys. */
  stateDict: StateDict;
  /** Source keys that were dropped on purpose (classifier head, final norm, recomputed buffers). */
  dropped: string[];
}

/** Which kind of backbone state dict this is, or null when it is not one (e.g. a full HyperNet). */
export function detectPretrained(sd: StateDict): PretrainedKind | null {
  if (sd.has('patch_embed.proj.weight') && [...sd.keys()].some((k) => /^layers[._]0\.blocks\.0\./.test(k)))
    return 'timm-swin';
  if (sd.has('conv1.weight') && sd.has('layer1.0.conv1.weight')) return 'torchvision-resnet';
  return null;
}

/** Renames a timm Swin or torchvision ResNet state dict to HyperNet keys (throws when it is neither). */
export function mapPretrained(sd: StateDict, source = 'weights'): MappedBackbone {
  const kind = detectPretrained(sd);
  const out: StateDict = new Map();
  const dropped: string[] = [];
  if (kind === 'timm-swin') {
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
      out.set(`swin.backbone.${name}`, v);
    }
  } else if (kind === 'torchvision-resnet') {
    for (const [k, v] of sd) {
      if (k.startsWith('fc.')) dropped.push(k);
      else out.set(`res.${k}`, v);
    }
  } else {
    throw new Error(
      `${source}: not a timm Swin or torchvision ResNet state dict (no patch_embed.proj.weight / conv1.weight + layer1.* keys)`,
    );
  }
  return { kind, stateDict: out, dropped };
}

/** The ParamStore entries that belong to the ImageNet backbone (not the LDA heads nor the HyperNet). */
export function backboneEntryNames(store: ParamStore): string[] {
  return store
    .names()
    .filter((n) => n.startsWith('swin.backbone.') || (n.startsWith('res.') && !n.startsWith('res.lda')));
}

/**
 * Loads ImageNet backbone weights into a freshly built model's backbone, leaving the head as initialised. Every
 * backbone tensor must be present and fit, except BatchNorm `num_batches_tracked` counters (absent from old
 * torchvision files; they keep their initial value); anything else is an error naming the tensors.
 */
export function loadPretrainedBackbone(
  store: ParamStore,
  sd: StateDict,
  source = 'weights',
): LoadReport & { kind: PretrainedKind; dropped: string[] } {
  const mapped = mapPretrained(sd, source);
  const names = new Set(backboneEntryNames(store));
  const entries = store
    .list()
    .filter(
      (e) => names.has(e.name) && (mapped.stateDict.has(e.name) || !e.name.endsWith('.num_batches_tracked')),
    );
  const report = loadEntries(entries, mapped.stateDict, {
    strict: true,
    source: `${source} (${mapped.kind} backbone)`,
  });
  return { ...report, kind: mapped.kind, dropped: mapped.dropped };
}
