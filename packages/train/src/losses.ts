/**
 * Training losses on a batch of predictions p [B] and labels y [B], as the original's solver implements them (its
 * `srcc` loss is really a Pearson loss with no ranking step). Pair terms run over the B x B
 * pairs of the batch (both orders of each pair count), so every loss except l1/l2 is a *batch-level* loss: it does
 * not decompose over samples (the trainer handles micro-batches accordingly).
 */
import * as tf from '@tensorflow/tfjs';
import type { LossConfig } from './config.js';

type Vec = tf.Tensor1D;

/** mean |p - y| */
export function l1Loss(p: Vec, y: Vec): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(p.sub(y))) as tf.Scalar);
}

/** mean (p - y)^2 */
export function l2Loss(p: Vec, y: Vec): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(p.sub(y))) as tf.Scalar);
}

/**
 * 1 - Pearson correlation, as the original's `srcc` loss (which has no ranking step):
 * 1 - sum(dp dy) / (sqrt(sum(dp^2) sum(dy^2)) + 1e-8).
 */
export function plccLoss(p: Vec, y: Vec): tf.Scalar {
  return tf.tidy(() => {
    const dp = p.sub(tf.mean(p));
    const dy = y.sub(tf.mean(y));
    const num = tf.sum(dp.mul(dy));
    const den = tf.sqrt(tf.sum(dp.square()).mul(tf.sum(dy.square()))).add(1e-8);
    return tf.scalar(1).sub(num.div(den)) as tf.Scalar;
  });
}

/** d_ij = v_i - v_j */
function pairDiff(v: Vec): tf.Tensor2D {
  return v.expandDims(1).sub(v.expandDims(0)) as tf.Tensor2D;
}

/** Masked mean over pairs; 0 (still connected to p, so gradients are defined) when no pair is valid. */
function maskedPairMean(l: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  const n = tf.sum(mask);
  return tf.sum(l.mul(mask)).div(tf.maximum(n, 1)) as tf.Scalar;
}

/** mask_ij = |y_i - y_j| > 1e-6 and i != j */
function labelPairMask(y: Vec): tf.Tensor2D {
  const dy = pairDiff(y);
  return tf.cast(tf.greater(tf.abs(dy), 1e-6), 'float32') as tf.Tensor2D;
}

/**
 * The original's `rank` loss: e_ij = sign(p_i - p_j) with 0 -> +1,
 * L_ij = max(0, |p_i - p_j| - e_ij (y_i - y_j)) over pairs with distinct labels. |d| is written e d (equal values);
 * its gradient at an exact prediction tie is e (= +1) where torch's abs gives 0.
 */
export function rankLoss(p: Vec, y: Vec): tf.Scalar {
  return tf.tidy(() => {
    const d = pairDiff(p);
    const dy = pairDiff(y);
    const e = tf.where(tf.greaterEqual(d, 0), tf.onesLike(d), tf.onesLike(d).neg());
    const l = tf.relu(e.mul(d.sub(dy))) as tf.Tensor2D;
    return maskedPairMean(l, labelPairMask(y));
  });
}

/**
 * The original's `pairwise` (fidelity) loss: p_gt = sigmoid((y_i - y_j) / labelScale),
 * p_pr = sigmoid(1.702 (p_i - p_j) / (sqrt(2) sigma)),
 * L_ij = 1 - sqrt(p_gt p_pr + 1e-8) - sqrt((1 - p_gt)(1 - p_pr) + 1e-8), masked mean as `rank`.
 * The original's quirks are the defaults of the config (labelScale 1 = raw label differences, sigma 0.1).
 */
export function fidelityLoss(p: Vec, y: Vec, labelScale = 1, sigma = 0.1): tf.Scalar {
  return tf.tidy(() => {
    const pgt = tf.sigmoid(pairDiff(y).div(labelScale));
    const ppr = tf.sigmoid(pairDiff(p).mul(1.702 / (Math.SQRT2 * sigma)));
    const one = tf.scalar(1);
    const l = one
      .sub(tf.sqrt(pgt.mul(ppr).add(1e-8)))
      .sub(tf.sqrt(one.sub(pgt).mul(one.sub(ppr)).add(1e-8))) as tf.Tensor2D;
    return maskedPairMean(l, labelPairMask(y));
  });
}

/**
 * The original's extra margin-ranking term: L_ij = max(0, -(p_i - p_j) sign(y_i - y_j) + margin) over pairs with
 * sign(y_i - y_j) != 0, masked mean.
 */
export function marginRankingLoss(p: Vec, y: Vec, margin = 0.1): tf.Scalar {
  return tf.tidy(() => {
    const s = tf.sign(pairDiff(y));
    const l = tf.relu(pairDiff(p).mul(s).neg().add(margin)) as tf.Tensor2D;
    return maskedPairMean(l, tf.cast(tf.notEqual(s, 0), 'float32') as tf.Tensor2D);
  });
}

/** Average ranks (1-based, ties get their mean rank) of `values`, as scipy.stats.rankdata. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && values[idx[j + 1]] === values[idx[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]] = r;
    i = j + 1;
  }
  return ranks;
}

/**
 * A differentiable Spearman surrogate: 1 - Pearson(softrank(p), rank(y)). Predictions are standardised
 * (z = (p - mean) / std, so the loss is invariant to the prediction scale) and
 * softrank_i = sum_j sigmoid((z_i - z_j) / temperature), which tends to the average rank (+ constant) as the
 * temperature goes to 0. Label ranks are exact average ranks (labels carry no gradient).
 */
export function spearmanLoss(p: Vec, y: Vec, temperature = 0.1): tf.Scalar {
  const yr = averageRanks(y.dataSync());
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(p);
    const z = p.sub(mean).div(tf.sqrt(variance.add(1e-12))) as Vec;
    const soft = tf.sum(tf.sigmoid(pairDiff(z).div(temperature)), 1) as Vec;
    return plccLoss(soft, tf.tensor1d(Float32Array.from(yr)));
  });
}

/** The configured primary loss plus alpha x the margin-ranking term (when alpha > 0). */
export function computeLoss(cfg: LossConfig, p: Vec, y: Vec): tf.Scalar {
  return tf.tidy(() => {
    let primary: tf.Scalar;
    switch (cfg.kind) {
      case 'l1':
        primary = l1Loss(p, y);
        break;
      case 'l2':
        primary = l2Loss(p, y);
        break;
      case 'plcc':
        primary = plccLoss(p, y);
        break;
      case 'rank':
        primary = rankLoss(p, y);
        break;
      case 'fidelity':
        primary = fidelityLoss(p, y, cfg.fidelityLabelScale, cfg.fidelitySigma);
        break;
      case 'spearman':
        primary = spearmanLoss(p, y, cfg.spearmanTemperature);
        break;
    }
    return cfg.alpha > 0
      ? (primary.add(marginRankingLoss(p, y, cfg.margin).mul(cfg.alpha)) as tf.Scalar)
      : primary;
  });
}

/** Whether the configured loss is a mean of per-sample terms (so micro-batches can backpropagate independently). */
export function isSampleDecomposable(cfg: LossConfig): boolean {
  return (cfg.kind === 'l1' || cfg.kind === 'l2') && cfg.alpha === 0;
}
