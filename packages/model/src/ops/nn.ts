/** Element-wise and normalisation layers with PyTorch's arithmetic (LayerNorm eps, exact erf GELU, dropout scaling). */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from '../backbone.js';
import { simdGeluGate, simdNormalize } from './simd.js';

/** LayerNorm over the last axis (biased variance, as torch.nn.LayerNorm): normalize(x)·γ + β. */
export function layerNorm<T extends tf.Tensor>(x: T, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): T {
  return tf.tidy(() => tf.add(tf.mul(normalize(x, eps), gamma), beta) as T);
}

/**
 * LayerNorm without the affine part: (x - mean) / √(var + eps) over the last axis. Written out rather than with
 * tf.moments, which adds a float32→float32 Cast (a full copy on wasm) and recomputes x - mean; one fused kernel on wasm
 * in inference (ops/simd.ts).
 */
export function normalize<T extends tf.Tensor>(x: T, eps = 1e-5): T {
  return (
    simdNormalize(x, eps) ??
    tf.tidy(() => {
      const xc = tf.sub(x, tf.mean(x, -1, true));
      return tf.mul(xc, tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps))) as T;
    })
  );
}

/**
 * u + u·erf(u) = √2·GELU(√2·u): the exact GELU with its 1/√2 scalings left to the caller (the Swin MLP folds them
 * into its weights). One fused kernel on wasm in inference (ops/simd.ts).
 */
export function geluGate<T extends tf.Tensor>(u: T): T {
  return simdGeluGate(u) ?? tf.tidy(() => tf.add(u, tf.mul(u, tf.erf(u))) as T);
}

/** Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (torch.nn.GELU() default, not the tanh approximation). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(geluGate(tf.mul(x, Math.SQRT1_2)), Math.SQRT1_2) as T);
}

/** The next seed for a random mask; throws when training without a seed source (tfjs treats seed 0 as unseeded). */
export function nextSeed(ctx: ForwardContext, what: string): number {
  if (!ctx.seeds) throw new Error(`${what}: training needs ctx.seeds (a source of non-zero integer seeds)`);
  const s = ctx.seeds();
  if (!Number.isInteger(s) || s === 0)
    throw new Error(`${what}: seed source returned ${s}; seeds must be non-zero integers`);
  return s;
}

/** Element-wise dropout (torch semantics: zero with probability `rate`, scale survivors by 1/(1-rate)); identity in eval. */
export function dropout<T extends tf.Tensor>(x: T, rate: number, ctx: ForwardContext, what = 'dropout'): T {
  if (!ctx.training || rate <= 0) return x;
  return tf.dropout(x, rate, undefined, nextSeed(ctx, what)) as T;
}

/**
 * Stochastic depth: drops the whole residual branch of a sample with probability `rate` and scales kept samples by
 * 1/(1-rate) (timm DropPath, scale_by_keep). `batch` is the number of samples along the leading rows of x.
 */
export function dropPath<T extends tf.Tensor>(x: T, rate: number, batch: number, ctx: ForwardContext): T {
  if (!ctx.training || rate <= 0) return x;
  const seed = nextSeed(ctx, 'drop path');
  return tf.tidy(() => {
    const perSample = x.size / batch;
    const flat = tf.reshape(x, [batch, perSample]);
    const dropped = tf.dropout(flat, rate, [batch, 1], seed);
    return tf.reshape(dropped, x.shape) as T;
  });
}
