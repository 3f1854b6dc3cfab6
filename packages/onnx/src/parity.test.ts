/**
 * Parity of the exported graph run by onnxruntime (CPU) with the PyTorch reference (the micro checkpoints written by
 * tools/reference/make_fixtures.py, in the original's torch.save `.pkl` format, loaded with the model's loader) and
 * with the TF.js model itself at batch 1 and 8: scores within 1e-4, attention fusion weights within 1e-5.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { createModel, loadCheckpoint, type IqaModel, type ModelConfig } from '@iqa-bench/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportOnnx } from './export.js';
import {
  CHECKPOINTS,
  maxAbs,
  PARITY_MICRO,
  randomImages,
  referenceIndex,
  runOnnx,
  session,
  spread,
  testImage,
  useWasm,
} from './__tests__/helpers.js';

const SCORE_TOL = 1e-4;
const ATTENTION_TOL = 1e-5;

beforeAll(useWasm);

describe('the PyTorch reference (micro .pkl checkpoints, batch 2)', () => {
  const index = referenceIndex();
  it.each(index.models.map((m) => [m.name, m] as const))('%s', async (_name, entry) => {
    const { model } = await loadCheckpoint(`${PARITY_MICRO}${entry.checkpoint}`, { config: entry.config });
    try {
      const s = await session(exportOnnx(model, { source: entry.checkpoint }));
      const { batch, size } = index.input;
      const out = await runOnnx(s, testImage(batch, size).nchw, batch, size);
      expect(spread(entry.scores)).toBeGreaterThan(10 * SCORE_TOL);
      expect(maxAbs(out.score, entry.scores)).toBeLessThan(SCORE_TOL);
      if (entry.attention) {
        expect(out.fusionWeights).not.toBeNull();
        expect(maxAbs(out.fusionWeights!, entry.attention.flat())).toBeLessThan(ATTENTION_TOL);
      } else {
        expect(out.fusionWeights).toBeNull();
      }
      // one image at a time: the same numbers
      const one = await runOnnx(s, testImage(1, size).nchw, 1, size);
      expect(Math.abs(one.score[0] - entry.scores[0])).toBeLessThan(SCORE_TOL);
      await s.release();
    } finally {
      model.dispose();
    }
  });
});

/** Every family and fusion mode in micro size: the reference's checkpoints and @iqa-bench/model's fixtures. */
function cases(): [string, () => Promise<IqaModel>][] {
  const ref = referenceIndex().models.map(
    (m) =>
      [
        `${m.name} (${m.config.backbone.kind}, ${m.config.fusion})`,
        async () => (await loadCheckpoint(`${PARITY_MICRO}${m.checkpoint}`, { config: m.config })).model,
      ] as [string, () => Promise<IqaModel>],
  );
  const fixture = (file: string): [string, () => Promise<IqaModel>] => {
    const config = JSON.parse(readFileSync(`${CHECKPOINTS}${file}.config.json`, 'utf8')) as ModelConfig;
    return [
      `${file} (${config.backbone.kind}, ${config.fusion}, depths/layers ${JSON.stringify(config.backbone.kind === 'swin' ? config.backbone.depths : config.backbone.layers)})`,
      async () => (await loadCheckpoint(`${CHECKPOINTS}${file}`, { config })).model,
    ];
  };
  return [
    ...ref,
    fixture('hypernet-swin-attention.pkl'),
    fixture('hypernet-swin-concat.pkl'),
    fixture('hypernet-swin-single.pkl'),
    fixture('hypernet-resnet.legacy.pkl'),
    [
      'smart-iqa-micro preset (random init)',
      () => Promise.resolve(createModel('smart-iqa-micro', { seed: 5 })),
    ],
  ];
}

describe.each(cases())('the TF.js model: %s', (_name, build) => {
  let model: IqaModel;
  let bytes: Uint8Array;
  beforeAll(async () => {
    model = await build();
    bytes = exportOnnx(model);
  });
  afterAll(() => model.dispose());

  it.each([1, 8])('batch %i', async (batch) => {
    const images = batch === 1 ? testImage(1) : randomImages(batch, 42);
    const x = tf.tensor4d(images.nhwc, [batch, 224, 224, 3]);
    const ref = model.forward(x);
    x.dispose();
    const score = ref.score.dataSync() as Float32Array;
    const attention = ref.attention ? (ref.attention.dataSync() as Float32Array) : null;
    tf.dispose([ref.score, ref.attention ?? []]);
    const s = await session(bytes);
    const out = await runOnnx(s, images.nchw, batch);
    await s.release();
    if (batch > 1) expect(spread(score)).toBeGreaterThan(1e-4);
    expect(maxAbs(out.score, score)).toBeLessThan(SCORE_TOL);
    if (attention) expect(maxAbs(out.fusionWeights!, attention)).toBeLessThan(ATTENTION_TOL);
    else expect(out.fusionWeights).toBeNull();
  });
});
