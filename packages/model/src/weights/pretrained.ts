/**
 * ImageNet backbone weights as the starting point for training: timm Swin Transformer and torchvision ResNet-50
 * state dicts (.pth or .safetensors) renamed to the HyperNet's keys (`swin.backbone.*`, `res.*`).
 *
 * - timm Swin: the key map lives beside the backbone (swin/timm-keys.ts).
 * - torchvision ResNet: `conv1.weight`, `bn1.*`, `layer{1-4}.{k}.*` -> `res.*`; `fc.*` is dropped.
 */
import type { ParamStore } from '../params.js';
import type { LoadReport } from './load.js';
import { loadEntries } from './load.js';
import type { StateDict } from './state-dict.js';
import { isTimmSwinStateDict, timmSwinToBackbone } from '../swin/timm-keys.js';

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
  if (isTimmSwinStateDict(sd)) return 'timm-swin';
  if (sd.has('conv1.weight') && sd.has('layer1.0.conv1.weight')) return 'torchvision-resnet';
  return null;
}

/** Renames a timm Swin or torchvision ResNet state dict to HyperNet keys (throws when it is neither). */
export function mapPretrained(sd: StateDict, source = 'weights'): MappedBackbone {
  const kind = detectPretrained(sd);
  let out: StateDict = new Map();
  let dropped: string[] = [];
  if (kind === 'timm-swin') {
    ({ stateDict: out, dropped } = timmSwinToBackbone(sd, 'swin.backbone'));
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
