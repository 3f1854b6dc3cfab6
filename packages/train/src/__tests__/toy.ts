/**
 * A small real tfjs model and a small procedural image set for the trainer's fast tests (not mocks: they implement
 * the trainer's interfaces with real tensors, seeded dropout and seeded crops). The end-to-end tests with
 * @iqa-bench/model's micro preset and @iqa-bench/data's synthetic dataset live in e2e.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import type { ForwardContext, ImageSet, ModelParam, PatchRef, TrainableModel } from '../trainer/types.js';

export const TOY_SIZE = 16;
const IMG = 24;

/** Procedural images whose quality label drives their noise; `train` sets cut seeded random crops and flips. */
export function toyImageSet(
  n: number,
  seed: number,
  prefix: string,
  mode: 'train' | 'test' = 'test',
): ImageSet {
  const rng = seedrandom(`toy/${seed}/${prefix}`);
  const images: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const q = rng();
    const fx = 1 + rng() * 3;
    const fy = 1 + rng() * 3;
    const img = new Float32Array(IMG * IMG * 3);
    for (let y = 0; y < IMG; y++) {
      for (let x = 0; x < IMG; x++) {
        const base = Math.sin((x * fx) / 3) * Math.cos((y * fy) / 3);
        for (let c = 0; c < 3; c++) {
          const noise = (rng() - 0.5) * 2 * (1 - q);
          img[(y * IMG + x) * 3 + c] = 0.5 * base + noise;
        }
      }
    }
    images.push(img);
    labels.push(q);
  }
  return {
    ids: images.map((_, i) => `${prefix}${i}`),
    labels,
    patchSize: TOY_SIZE,
    async patches(refs: readonly PatchRef[], epoch: number): Promise<Float32Array> {
      const size = TOY_SIZE;
      const out = new Float32Array(refs.length * size * size * 3);
      refs.forEach((r, k) => {
        const pr = seedrandom(
          `crop/${seed}/${mode === 'train' ? epoch : 'test'}/${prefix}${r.image}/${r.patch}`,
        );
        const oy = Math.floor(pr() * (IMG - size + 1));
        const ox = Math.floor(pr() * (IMG - size + 1));
        const flip = mode === 'train' && pr() < 0.5;
        const img = images[r.image];
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) {
            const sx = flip ? size - 1 - x : x;
            for (let c = 0; c < 3; c++) {
              out[((k * size + y) * size + x) * 3 + c] = img[((oy + y) * IMG + ox + sx) * 3 + c];
            }
          }
        }
      });
      return out;
    },
  };
}

/** Pooled first and second moments -> linear (backbone group) -> seeded dropout -> linear (head group). */
export function toyModel(seed: number, dropout = 0.2): TrainableModel {
  const hidden = 16;
  const inDim = 2 * 4 * 4 * 3;
  const mk = (name: string, t: tf.Tensor, trainable = true): ModelParam => {
    const variable = tf.variable(t, trainable, undefined, t.dtype);
    t.dispose();
    return { name, variable, trainable };
  };
  const params: ModelParam[] = [
    mk('swin.embed.weight', tf.randomNormal([inDim, hidden], 0, 0.3, 'float32', seed)),
    mk('swin.embed.bias', tf.zeros([hidden])),
    mk('fc.weight', tf.randomNormal([hidden, 1], 0, 0.3, 'float32', seed + 1)),
    mk('fc.bias', tf.zeros([1])),
    // an int32 buffer updated by every training forward, like BatchNorm's num_batches_tracked
    mk('stats.forwards', tf.scalar(0, 'int32'), false),
  ];
  const forwards = params[4].variable;
  const [w1, b1, w2, b2] = params.map((p) => p.variable);
  return {
    params,
    score(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor1D {
      return tf.tidy(() => {
        const k = x.shape[1] / 4;
        const m1 = tf.avgPool(x, k, k, 'valid');
        const m2 = tf.avgPool(x.square(), k, k, 'valid');
        const f = tf.concat([m1, m2], 3).reshape([x.shape[0], inDim]);
        let h = f.matMul(w1).add(b1);
        if (ctx.training) forwards.assign(forwards.add(tf.scalar(1, 'int32')));
        if (ctx.training && dropout > 0) {
          if (!ctx.seeds) throw new Error('toyModel: training needs seeds');
          h = tf.dropout(h, dropout, undefined, ctx.seeds());
        }
        return h.matMul(w2).add(b2).reshape([x.shape[0]]) as tf.Tensor1D;
      });
    },
    dispose() {
      for (const p of params) p.variable.dispose();
    },
  };
}
