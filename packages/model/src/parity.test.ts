import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PARITY_MICRO, useBackend } from './__tests__/helpers.js';
import { createModel } from './model.js';
import { loadParityFixture, runParity, type ParityFixture } from './parity.js';
import { readWeights } from './weights/read.js';

// Goldens from the independent PyTorch reference (tools/reference/smart_iqa.py, make_fixtures.py): micro SMART-IQA
// models (dims 8-64, two blocks per stage: shifted windows with masks in stages 0-2, patch merging, the clamped
// unshifted 7x7 stage) with the three fusion modes, and a micro HyperIQA (ResNet of tools/reference/resnet.py with
// BatchNorm running statistics, same head), checkpoints written by torch.save(model.state_dict()).
let fix: ParityFixture;

beforeAll(async () => {
  await useBackend('wasm');
  fix = loadParityFixture(PARITY_MICRO);
});

describe('parity with the PyTorch reference (wasm)', () => {
  it('covers the three fusion modes and both architectures', () => {
    expect(fix.index.models.map((m) => `${m.config.arch}/${m.config.fusion}`).sort()).toEqual([
      'hyperiqa/single',
      'smart-iqa/attention',
      'smart-iqa/concat',
      'smart-iqa/single',
    ]);
  });

  for (const name of ['micro-attention', 'micro-concat', 'micro-single', 'hyperiqa-micro']) {
    it(`${name}: stage maps within 1e-5 relative, scores within 1e-4`, async () => {
      const entry = fix.index.models.find((m) => m.name === name)!;
      const fusion = entry.config.fusion;
      const r = await runParity(fix, entry);
      for (const [name, e] of Object.entries(r.rel)) expect(e, name).toBeLessThan(1e-5);
      expect(r.scoreAbs).toBeLessThan(1e-4);
      expect(Object.keys(r.rel)).toEqual(
        expect.arrayContaining(['target_in_vec', 'target_fc1w', 'target_fc5b']),
      );
      if (fusion === 'attention') {
        expect(Object.keys(r.rel)).toEqual(expect.arrayContaining(['stage0', 'stage1', 'stage2', 'stage3']));
        expect(r.attentionAbs).toBeLessThan(1e-5);
      } else {
        expect(r.attentionAbs).toBeNull();
      }
      // The reference scores differ between images, so a constant output would fail.
      expect(Math.abs(entry.scores[0] - entry.scores[1])).toBeGreaterThan(1e-3);
    });
  }

  it('registers parameters under the checkpoint names, in state-dict order', async () => {
    for (const entry of fix.index.models) {
      const wf = await readWeights(path.join(fix.dir, entry.checkpoint));
      const model = createModel(entry.config, { seed: 3 });
      try {
        expect(model.params.names()).toEqual([...wf.stateDict.keys()]);
      } finally {
        model.dispose();
      }
    }
  });

  it('leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    await runParity(fix, fix.index.models[0]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
