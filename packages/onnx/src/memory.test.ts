/**
 * One scorer over many predictions keeps its memory: RSS sampled every 100 of 2,000 micro predictions stays within a
 * bound (an input crop is 588 KiB, so keeping one per prediction would add over 1 GiB). bench/onnx-memory.mjs runs
 * 10,000 full-size predictions.
 */
import { createModel } from '@iqa-bench/model';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openOnnxScorer, type OnnxScorer } from './index.js';
import { exportedFile, normalizedImage, useWasm } from './__tests__/helpers.js';

let scorer: OnnxScorer;
let remove: () => void;

beforeAll(async () => {
  await useWasm();
  const model = createModel('smart-iqa-micro', { seed: 3 });
  const out = await exportedFile(model);
  model.dispose();
  remove = out.remove;
  scorer = await openOnnxScorer(out.file, { intraOpThreads: 1 });
});
afterAll(async () => {
  await scorer.close();
  remove();
});

it('RSS stays flat over 2,000 predictions with one session', { timeout: 300_000 }, async () => {
  const images = [normalizedImage(224, 224, 1), normalizedImage(240, 230, 2)];
  const mib = (): number => process.memoryUsage().rss / 2 ** 20;
  const samples: number[] = [];
  let first: number | undefined;
  for (let round = 0; round < 20; round++) {
    // 100 predictions per round: 60 alone (batch 1), 40 batched across images
    for (let i = 0; i < 60; i++) {
      const r = await scorer.scoreImage(images[i % 2]);
      if (i % 2 === 0) expect(r.score).toBe((first ??= r.score));
    }
    const rs = await scorer.scoreImages(
      Array.from({ length: 40 }, (_, i) => ({ image: images[i % 2] })),
      { batchSize: 8 },
    );
    expect(rs).toHaveLength(40);
    samples.push(mib());
  }
  // after the warm-up rounds, the highest RSS of the last five rounds against the highest of rounds 3-7
  const early = Math.max(...samples.slice(2, 7));
  const late = Math.max(...samples.slice(-5));
  expect(
    late - early,
    `RSS MiB per 100 predictions: ${samples.map((s) => s.toFixed(0)).join(' ')}`,
  ).toBeLessThan(40);
});
