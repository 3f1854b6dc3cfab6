/**
 * ImageNet backbone weights as the starting point for training: a timm Swin Transformer or torchvision ResNet-50 state
 * dict (.pth or .safetensors) recognised, renamed to the HyperNet's keys (`swin.backbone.*`, `res.*`) by the key map
 * that lives beside each backbone (swin/timm-keys.ts, resnet/torchvision-keys.ts), and loaded into a model's backbone.
 */
import type { ParamStore } from '../params.js';
import type { LoadReport } from './load.js';
import { loadEntries } from './load.js';
import type { StateDict } from './state-dict.js';
import { isTorchvisionResNetStateDict, torchvisionResNetToBackbone } from '../resnet/torchvision-keys.js';
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
  if (isTorchvisionResNetStateDict(sd)) return 'torchvision-resnet';
  return null;
}

/** Renames a timm Swin or torchvision ResNet state dict to HyperNet keys (throws when it is neither). */
export function mapPretrained(sd: StateDict, source = 'weights'): MappedBackbone {
  const kind = detectPretrained(sd);
  if (kind === 'timm-swin') return { kind, ...timmSwinToBackbone(sd, 'swin.backbone') };
  if (kind === 'torchvision-resnet') return { kind, ...torchvisionResNetToBackbone(sd, 'res') };
  throw new Error(
    `${source}: not a timm Swin or torchvision ResNet state dict (no patch_embed.proj.weight / conv1.weight + layer1.* keys)`,
  );
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
