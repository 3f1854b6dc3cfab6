/** The requests a ScoringPool's workers serve: one image scored with scoreImage (its crops as the batch). */
import * as tf from '@tensorflow/tfjs';
import type { IqaModel } from '../model.js';
import { scoreImage, type ImageScore, type NormalizedImage, type ScoreImageOptions } from '../score.js';
import { defineReplicaHandler } from './runtime.js';

export default defineReplicaHandler({
  setup: (model: IqaModel) => model,
  requests: {
    async score(
      model: IqaModel,
      { image, options }: { image: NormalizedImage; options: ScoreImageOptions },
    ): Promise<{ score: ImageScore; ms: number; numTensors: number }> {
      const t0 = performance.now();
      const score = await scoreImage(model, image, options);
      return { score, ms: performance.now() - t0, numTensors: tf.memory().numTensors };
    },
  },
});
