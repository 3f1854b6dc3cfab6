/**
 * `@iqa-bench/model/resnet`: the ResNet-50 backbone of HyperIQA (torchvision's v1.5 layout and names), its geometry and
 * parameter count, and the map from torchvision's checkpoints to its names. The units are in this folder: stem.ts,
 * bottleneck.ts (with conv-bn.ts), backbone.ts.
 */
export {
  createResNetBackbone,
  ResNetBackbone,
  resnetParamCount,
  resnetStageSizes,
  validateResNetConfig,
  type ResNetBackboneOptions,
} from './backbone.js';
export { RESNET_EXPANSION } from './bottleneck.js';
export { isTorchvisionResNetStateDict, torchvisionResNetToBackbone } from './torchvision-keys.js';
