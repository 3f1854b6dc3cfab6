import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTrainConfig } from './config.js';
import {
  averageRanks,
  computeLoss,
  fidelityLoss,
  l1Loss,
  l2Loss,
  marginRankingLoss,
  plccLoss,
  rankLoss,
  spearmanLoss,
} from './losses.js';

interface LossCase {
  loss: string;
  kw: { scale?: number; sigma?: number; margin?: number; tau?: number };
  p: number[];
  y: number[];
  value: number;
  grad: number[];
}
const goldens = JSON.parse(
  readFileSync(new URL('../fixtures/torch-goldens.json', import.meta.url), 'utf8'),
) as {
  losses: LossCase[];
};

type Fn = (p: tf.Tensor1D, y: tf.Tensor1D) => tf.Scalar;
function fnFor(c: LossCase): Fn {
  switch (c.loss) {
    case 'l1':
      return l1Loss;
    case 'l2':
      return l2Loss;
    case 'plcc':
      return plccLoss;
    case 'rank':
      return rankLoss;
    case 'fidelity':
      return (p, y) => fidelityLoss(p, y, c.kw.scale ?? 1, c.kw.sigma ?? 0.1);
    case 'margin':
      return (p, y) => marginRankingLoss(p, y, c.kw.margin ?? 0.1);
    case 'spearman':
      return (p, y) => spearmanLoss(p, y, c.kw.tau ?? 0.1);
    default:
      throw new Error(c.loss);
  }
}

function valueAndGrad(fn: Fn, p: number[], y: number[]): { value: number; grad: Float32Array } {
  const pt = tf.tensor1d(p);
  const yt = tf.tensor1d(y);
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => fn(x as tf.Tensor1D, yt))(pt);
  const out = { value: value.dataSync()[0], grad: grad.dataSync() as Float32Array };
  tf.dispose([pt, yt, value, grad]);
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('losses against torch float64 goldens', () => {
  for (const c of goldens.losses) {
    it(`${c.loss} ${JSON.stringify(c.kw)} (B=${c.p.length}, labels up to ${Math.max(...c.y).toFixed(1)})`, () => {
      const { value, grad } = valueAndGrad(fnFor(c), c.p, c.y);
      const scale = Math.max(1, Math.abs(c.value));
      expect(Math.abs(value - c.value) / scale).toBeLessThan(2e-5);
      const gscale = Math.max(1e-3, ...c.grad.map(Math.abs));
      for (let i = 0; i < grad.length; i++) expect(Math.abs(grad[i] - c.grad[i]) / gscale).toBeLessThan(5e-4);
    });
  }
});

describe('losses: gradients by finite differences', () => {
  const p = [0.31, 0.72, 0.18, 0.55, 0.93, 0.4];
  const y = [0.2, 0.8, 0.1, 0.5, 0.9, 0.5];
  const fns: [string, Fn][] = [
    ['l2', l2Loss],
    ['plcc', plccLoss],
    ['fidelity', (a, b) => fidelityLoss(a, b, 0.1, 0.2)],
    ['spearman', (a, b) => spearmanLoss(a, b, 0.3)],
  ];
  for (const [name, fn] of fns) {
    it(name, () => {
      const { grad } = valueAndGrad(fn, p, y);
      const h = 1e-2 * 0.05;
      for (let i = 0; i < p.length; i++) {
        const pp = [...p];
        pp[i] += h;
        const pm = [...p];
        pm[i] -= h;
        const fd = (valueAndGrad(fn, pp, y).value - valueAndGrad(fn, pm, y).value) / (2 * h);
        expect(Math.abs(grad[i] - fd)).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)));
      }
    });
  }
});

describe('loss properties', () => {
  it('pair losses with no valid pair are 0 and still differentiable', () => {
    const { value, grad } = valueAndGrad(rankLoss, [0.1, 0.5, 0.9], [3, 3, 3]);
    expect(value).toBe(0);
    expect(Array.from(grad)).toEqual([0, 0, 0]);
    expect(valueAndGrad((a, b) => fidelityLoss(a, b), [0.1, 0.5], [1, 1]).value).toBe(0);
    expect(valueAndGrad((a, b) => marginRankingLoss(a, b), [0.1, 0.5], [1, 1]).value).toBe(0);
  });

  it('the Spearman surrogate tends to 1 - SRCC as the temperature falls, and ignores monotone rescaling', () => {
    const p = [0.3, 0.1, 0.7, 0.5, 0.9, 0.2, 0.65];
    const y = [2, 1, 5, 6, 7, 3, 4];
    // exact SRCC of p vs y: ranks p = [3,1,6,4,7,2,5], y = [2,1,5,6,7,3,4]
    const rp = averageRanks(p);
    const ry = averageRanks(y);
    const n = p.length;
    let d2 = 0;
    for (let i = 0; i < n; i++) d2 += (rp[i] - ry[i]) ** 2;
    const srcc = 1 - (6 * d2) / (n * (n * n - 1));
    const cold = valueAndGrad((a, b) => spearmanLoss(a, b, 1e-3), p, y).value;
    expect(cold).toBeCloseTo(1 - srcc, 4);
    const scaled = valueAndGrad(
      (a, b) => spearmanLoss(a, b, 0.2),
      p.map((v) => 100 * v + 3),
      y,
    ).value;
    expect(scaled).toBeCloseTo(valueAndGrad((a, b) => spearmanLoss(a, b, 0.2), p, y).value, 5);
  });

  it('average ranks match scipy.stats.rankdata (ties share the mean rank)', () => {
    expect(Array.from(averageRanks([10, 20, 10, 30, 20, 20]))).toEqual([1.5, 4, 1.5, 6, 4, 4]);
  });

  it("computeLoss: 'srcc' is an alias of plcc and alpha adds the margin term", () => {
    const base = { dataset: { kind: 'csv', root: '/d' }, model: { preset: 'm' } };
    const cfg = parseTrainConfig({ ...base, loss: { kind: 'srcc', alpha: 0.5, margin: 0.2 } });
    expect(cfg.loss.kind).toBe('plcc');
    const p = [0.1, 0.9, 0.4, 0.6];
    const y = [0.2, 0.7, 0.6, 0.4];
    const total = valueAndGrad((a, b) => computeLoss(cfg.loss, a, b), p, y).value;
    const plcc = valueAndGrad(plccLoss, p, y).value;
    const margin = valueAndGrad((a, b) => marginRankingLoss(a, b, 0.2), p, y).value;
    expect(total).toBeCloseTo(plcc + 0.5 * margin, 6);
  });
});
