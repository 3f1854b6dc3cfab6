/**
 * torchvision's ResNet checkpoints (ImageNet weights such as `resnet50-19c8e357.pth`, or `.safetensors`) in this
 * backbone's names: the same names (`conv1.weight`, `bn1.*`, `layer{1-4}.{k}.*`) under the backbone's prefix; the
 * classifier `fc.*` is dropped (the backbone gives features only).
 */
import type { StateDict } from '../weights/state-dict.js';

/** Whether the state dict is a torchvision ResNet (a stem conv and a first bottleneck). */
export function isTorchvisionResNetStateDict(sd: StateDict): boolean {
  return sd.has('conv1.weight') && sd.has('layer1.0.conv1.weight');
}

/**
 * Renames a torchvision ResNet state dict to the backbone's parameter names under `prefix` (HyperIQA: `res`);
 * `dropped` lists the source keys left out on purpose.
 */
export function torchvisionResNetToBackbone(
  sd: StateDict,
  prefix: string,
): { stateDict: StateDict; dropped: string[] } {
  const out: StateDict = new Map();
  const dropped: string[] = [];
  for (const [k, v] of sd) {
    if (k.startsWith('fc.')) dropped.push(k);
    else out.set(`${prefix}.${k}`, v);
  }
  return { stateDict: out, dropped };
}
