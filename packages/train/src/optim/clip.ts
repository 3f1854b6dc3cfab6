import * as tf from '@tensorflow/tfjs';

/**
 * Global L2-norm gradient clipping with torch `clip_grad_norm_(params, max_norm)` semantics (norm_type 2):
 * total = ||(||g_1||, ..., ||g_n||)||, coef = maxNorm / (total + 1e-6), and every gradient is multiplied by coef
 * when coef < 1. Returns new gradient tensors (the caller owns them; the inputs are not disposed) and the total norm
 * before clipping.
 */
export function clipGradNorm(
  grads: ReadonlyMap<string, tf.Tensor>,
  maxNorm: number,
): { grads: Map<string, tf.Tensor>; totalNorm: number } {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const names = [...grads.keys()];
  if (names.length === 0) return { grads: new Map(), totalNorm: 0 };
  const totalT = tf.tidy(() => tf.norm(tf.stack(names.map((n) => tf.norm(grads.get(n) as tf.Tensor)))));
  const totalNorm = totalT.dataSync()[0];
  totalT.dispose();
  const coef = maxNorm / (totalNorm + 1e-6);
  const out = new Map<string, tf.Tensor>();
  for (const n of names) {
    const g = grads.get(n) as tf.Tensor;
    out.set(n, coef < 1 ? tf.tidy(() => g.mul(tf.scalar(coef, 'float32'))) : g.clone());
  }
  return { grads: out, totalNorm };
}
