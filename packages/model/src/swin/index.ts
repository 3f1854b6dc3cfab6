/**
 * `@iqa-bench/model/swin`: the Swin Transformer backbone of SMART-IQA (timm's arithmetic and features_only names),
 * its geometry and drop-path schedule, and the map from timm's checkpoint names to its own. The paper's units are in
 * this folder: patch-embed.ts, window-attention.ts, block.ts, patch-merging.ts, stage.ts, backbone.ts.
 */
export { createSwinBackbone, SwinBackbone, type SwinBackboneOptions } from './backbone.js';
export {
  dropPathSchedule,
  swinStageGeometry,
  validateSwinConfig,
  type SwinStageGeometry,
} from './geometry.js';
export { isTimmSwinStateDict, timmSwinToBackbone } from './timm-keys.js';
