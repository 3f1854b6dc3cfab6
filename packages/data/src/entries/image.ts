/**
 * `@iqa-bench/data/image`: the image operations underneath the loaders and the patch sampler — decoding details
 * (size probe, float conversion, normalisation tables, ImageNet statistics), Pillow-exact bilinear resizing, crops,
 * and torchvision's ColorJitter.
 */
export {
  readImageSize,
  normalizationTables,
  DEFAULT_MAX_PIXELS,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type Normalization,
  type PixelBox,
} from '../image/decode.js';
export { resizeBilinear, sourceBox, type SourcePart } from '../image/resize.js';
export {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  colorJitter,
  SEED_JITTER,
  type JitterRanges,
} from '../image/jitter.js';
export { centerCrop, randomCrop, targetSize } from '../image/presets.js';
