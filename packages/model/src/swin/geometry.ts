/**
 * The shape of a Swin Transformer as timm computes it from a configuration: per-stage width, heads, map side, window
 * and shift, the drop-path schedule, and the checks that a configuration is buildable.
 */
import type { SwinBackboneConfig } from '../config.js';

/** Geometry of one stage (timm: the window is clamped to the map and the shift is 0 when the map fits one window). */
export interface SwinStageGeometry {
  dim: number;
  heads: number;
  depth: number;
  /** Map side (square). */
  size: number;
  window: number;
  /** Shift of the odd blocks (0 when size <= window). */
  shift: number;
}

export function swinStageGeometry(cfg: SwinBackboneConfig): SwinStageGeometry[] {
  validateSwinConfig(cfg);
  const base = cfg.imgSize / cfg.patchSize;
  return cfg.depths.map((depth, i) => {
    const size = base / 2 ** i;
    const window = Math.min(cfg.windowSize, size);
    const shift = size <= cfg.windowSize ? 0 : Math.floor(cfg.windowSize / 2);
    return { dim: cfg.embedDim * 2 ** i, heads: cfg.numHeads[i], depth, size, window, shift };
  });
}

export function validateSwinConfig(cfg: SwinBackboneConfig): void {
  const fail = (msg: string): never => {
    throw new Error(`Swin config: ${msg}`);
  };
  if (cfg.imgSize % cfg.patchSize !== 0)
    fail(`imgSize ${cfg.imgSize} is not a multiple of patchSize ${cfg.patchSize}`);
  const base = cfg.imgSize / cfg.patchSize;
  if (base % 8 !== 0) fail(`imgSize/patchSize = ${base} must be divisible by 8 (three 2x patch mergings)`);
  if (cfg.depths.length !== 4 || cfg.numHeads.length !== 4) fail('depths and numHeads need 4 entries');
  for (let i = 0; i < 4; i++) {
    const dim = cfg.embedDim * 2 ** i;
    const size = base / 2 ** i;
    if (!(cfg.depths[i] >= 1)) fail(`depths[${i}] must be >= 1`);
    if (dim % cfg.numHeads[i] !== 0)
      fail(`stage ${i}: dim ${dim} is not divisible by ${cfg.numHeads[i]} heads`);
    const win = Math.min(cfg.windowSize, size);
    if (size % win !== 0) fail(`stage ${i}: map ${size}x${size} is not a multiple of window ${win}`);
  }
}

/** Drop-path rate of every block: linspace(0, rate, total blocks), in order (timm). */
export function dropPathSchedule(depths: readonly number[], rate: number): number[] {
  const total = depths.reduce((a, b) => a + b, 0);
  return Array.from({ length: total }, (_, i) => (total === 1 ? 0 : (rate * i) / (total - 1)));
}
