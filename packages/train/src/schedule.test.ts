import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTrainConfig } from './config.js';
import { learningRate } from './schedule.js';

const goldens = JSON.parse(
  readFileSync(new URL('../fixtures/torch-goldens.json', import.meta.url), 'utf8'),
) as {
  cosine: {
    T_max: number;
    eta_min: number;
    base: { head: number; backbone: number };
    lrs: [number, number][];
  };
};

const schedule = (s: unknown) =>
  parseTrainConfig({ dataset: { kind: 'csv', root: '/d' }, model: { preset: 'm' }, schedule: s }).schedule;

describe('learningRate', () => {
  it("cosine 'absolute' reproduces torch CosineAnnealingLR incl. the original's rising backbone LR", () => {
    const s = schedule({ kind: 'cosine', etaMin: goldens.cosine.eta_min, etaMinMode: 'absolute' });
    goldens.cosine.lrs.forEach(([head, backbone], epoch) => {
      const q = { epoch, step: 0, epochs: goldens.cosine.T_max };
      expect(learningRate(s, { ...q, base: goldens.cosine.base.head, group: 'head' })).toBeCloseTo(head, 15);
      expect(learningRate(s, { ...q, base: goldens.cosine.base.backbone, group: 'backbone' })).toBeCloseTo(
        backbone,
        15,
      );
    });
    // the quirk: the backbone LR rises from 5e-7 to ~9.88e-7
    expect(goldens.cosine.lrs[9][1]).toBeGreaterThan(goldens.cosine.lrs[0][1]);
  });

  it("cosine 'relative' (default) and 'absolute-clamped' never rise", () => {
    const rel = schedule({ kind: 'cosine', etaMin: 0.1 });
    const clamped = schedule({ kind: 'cosine', etaMin: 1e-6, etaMinMode: 'absolute-clamped' });
    let prevR = Infinity;
    let prevC = Infinity;
    for (let epoch = 0; epoch < 10; epoch++) {
      const q = { epoch, step: 0, epochs: 10, base: 5e-7, group: 'backbone' };
      const r = learningRate(rel, q);
      const c = learningRate(clamped, q);
      expect(r).toBeLessThanOrEqual(prevR);
      expect(c).toBeLessThanOrEqual(prevC);
      prevR = r;
      prevC = c;
    }
    expect(learningRate(rel, { epoch: 10, step: 0, epochs: 10, base: 5e-7, group: 'backbone' })).toBeCloseTo(
      5e-8,
      20,
    );
    expect(learningRate(clamped, { epoch: 3, step: 0, epochs: 10, base: 5e-7, group: 'backbone' })).toBe(
      5e-7,
    );
  });

  it('step decays every stepSize epochs, all groups or the head only (original SMART)', () => {
    const all = schedule({ kind: 'step', stepSize: 6, gamma: 0.1 });
    const head = schedule({ kind: 'step', stepSize: 6, gamma: 0.1, groups: 'head' });
    const q = (epoch: number, group: string) => ({ epoch, step: 0, epochs: 16, base: 2e-4, group });
    expect([0, 5, 6, 11, 12].map((e) => learningRate(all, q(e, 'head')))).toEqual([
      2e-4,
      2e-4,
      2e-4 * 0.1,
      2e-4 * 0.1,
      2e-4 * 0.1 ** 2,
    ]);
    expect(learningRate(all, q(7, 'backbone'))).toBeCloseTo(2e-5, 18);
    expect(learningRate(head, q(7, 'backbone'))).toBe(2e-4);
    expect(learningRate(head, q(7, 'head'))).toBeCloseTo(2e-5, 18);
  });

  it('linear warm-up scales the first optimizer steps', () => {
    const s = schedule({ kind: 'constant', warmupSteps: 4 });
    const lrs = [0, 1, 2, 3, 4, 100].map((step) =>
      learningRate(s, { epoch: 0, step, epochs: 1, base: 1, group: 'head' }),
    );
    expect(lrs).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
  });
});
