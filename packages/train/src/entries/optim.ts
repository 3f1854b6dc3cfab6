/**
 * `@iqa-bench/train/optim`: the optimizer and its schedule — Adam/AdamW with the original's parameter groups
 * (`lr × lrRatio` for the head), gradient-norm clipping as torch computes it, and the learning-rate schedules.
 */
export {
  Adam,
  originalParamGroups,
  type AdamOptions,
  type AdamState,
  type NamedVariable,
  type ParamGroupSpec,
} from '../optim/adam.js';
export { clipGradNorm } from '../optim/clip.js';
export { learningRate, type LrQuery } from '../schedule.js';
