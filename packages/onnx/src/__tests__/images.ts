/** Test images, without Node imports (the Chromium test bundles this module into its page). */

/**
 * An ImageNet-normalised-looking HWC image (@iqa-bench/model's NormalizedImage) with structure at every scale, so that
 * crops at different places score differently: smooth waves per channel plus a fixed LCG's noise.
 */
export function normalizedImage(
  width: number,
  height: number,
  seed: number,
): { width: number; height: number; data: Float32Array } {
  const data = new Float32Array(width * height * 3);
  let s = seed >>> 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        data[(y * width + x) * 3 + c] =
          1.2 * Math.sin(0.05 * x * (c + 1) + 0.031 * y + seed) +
          0.8 * Math.cos(0.011 * x * y + 0.5 * c) +
          (s / 2 ** 32 - 0.5);
      }
  return { width, height, data };
}
