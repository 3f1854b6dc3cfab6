import { describe, expect, it } from 'vitest';
import {
  datasetNotes,
  datasetResult,
  logisticCurve,
  logisticReversesSign,
  meanCounts,
  meanMetrics,
  rawErrorOffScale,
} from './evaluation.js';

// The 12 images of @iqa-bench/metrics' README; scipy.stats gives spearmanr 0.972028, pearsonr 0.964120,
// kendalltau 0.878788 for them.
const score = [0.12, 0.25, 0.31, 0.38, 0.45, 0.52, 0.58, 0.64, 0.71, 0.79, 0.86, 0.93];
const mos = [8.5, 24.9, 15.2, 27.3, 47.0, 41.8, 55.6, 74.9, 61.2, 80.3, 86.7, 84.1];
const image = score.map((_, i) => `img${i}.jpg`);

describe('datasetResult', () => {
  it('fills every metric of the result schema from the evaluation', () => {
    const d = datasetResult('koniq', { image, score, mos }, { key: 'koniq10k', split: 'test' });
    expect(d.n).toBe(12);
    expect(d.metrics.srcc).toBeCloseTo(0.972028, 6);
    expect(d.metrics.plcc).toBeCloseTo(0.96412, 6);
    expect(d.metrics.krcc).toBeCloseTo(0.878788, 6);
    expect(d.metrics.plccLogistic).toBeGreaterThan(d.metrics.plcc as number); // the mapping only helps PLCC here
    expect(d.logistic?.model).toBe(4);
    expect(d.logistic?.converged).toBe(true);
    expect(d.reasons).toBeUndefined();
    expect(d.predictions?.score).toBe(score);
    expect(d).toMatchObject({ name: 'koniq', key: 'koniq10k', split: 'test' });
  });

  it('correlates against −MOS for lower-is-better ground truth, so agreement stays positive', () => {
    const dmos = mos.map((m) => 100 - m);
    const d = datasetResult(
      'live',
      { image, score, mos: dmos },
      { lowerIsBetter: true, keepPredictions: false },
    );
    expect(d.metrics.srcc).toBeCloseTo(0.972028, 6);
    expect(d.direction).toBe('lower-better');
    expect(d.predictions).toBeUndefined();
  });

  it('undefined metrics become null with their reason', () => {
    const d = datasetResult(
      'flat',
      { image: ['a', 'b', 'c', 'd', 'e'], score: [1, 1, 1, 1, 1], mos: [1, 2, 3, 4, 5] },
      {},
    );
    expect(d.metrics.srcc).toBeNull();
    expect(d.metrics.plccLogistic).toBeNull();
    expect(d.reasons?.srcc).toContain('constant');
    expect(d.reasons?.plccLogistic).toContain('constant');
  });
});

describe('meanMetrics and logisticCurve', () => {
  it('averages correlations over the datasets that have them', () => {
    const mean = meanMetrics([
      { name: 'a', n: 3, metrics: { srcc: 0.5, plcc: 0.7, rmse: 3 } },
      { name: 'b', n: 3, metrics: { srcc: 0.9, plcc: null } },
    ]);
    expect(mean.srcc).toBeCloseTo(0.7, 15);
    expect(mean.plcc).toBe(0.7);
    expect(mean.krcc).toBeNull();
    expect(mean).not.toHaveProperty('rmse');
  });

  it('gives the fitted curve, or null where no logistic can be fitted', () => {
    const curve = logisticCurve(score, mos);
    expect(curve).not.toBeNull();
    // A monotone increasing fit through data rising from ~10 to ~85.
    expect((curve as (x: number) => number)(0.12)).toBeLessThan((curve as (x: number) => number)(0.93));
    expect(logisticCurve([1, 1, 1, 1, 1], [1, 2, 3, 4, 5])).toBeNull();
  });
});

describe('what a reader of the numbers must know', () => {
  it('counts the datasets each mean covers', () => {
    expect(
      meanCounts([
        { name: 'a', n: 3, metrics: { srcc: 0.5, plcc: 0.7, plccLogistic: null } },
        { name: 'b', n: 3, metrics: { srcc: 0.9, plcc: null, plccLogistic: null } },
      ]),
    ).toEqual({ srcc: 2, plcc: 1, plccLogistic: 0, krcc: 0 });
  });

  it('warns when the fitted logistic reverses the sign of the relation', () => {
    // Scores that rank the images against MOS: SRCC −0.972, the fitted logistic decreasing, its PLCC positive.
    const d = datasetResult('reversed', { image, score: score.map((s) => -s), mos }, {});
    expect(d.metrics.srcc).toBeCloseTo(-0.972028, 6);
    expect(d.metrics.plccLogistic).toBeGreaterThan(0.9);
    expect(logisticReversesSign(d)).toBe(true);
    expect(datasetNotes(d).filter((n) => n.includes('reverses the sign'))).toEqual([
      `reversed: warning: the fitted logistic reverses the sign of the relation (SRCC -0.9720, PLCC (logistic) ${(d.metrics.plccLogistic as number).toFixed(4)}): the scores rank the images against MOS; the mapped figures describe the reversed scores`,
    ]);
    expect(logisticReversesSign(datasetResult('ok', { image, score, mos }, {}))).toBe(false);
  });

  it('flags a raw RMSE on another scale than MOS, not one on the MOS scale', () => {
    // Scores in 0.1…0.9 against MOS in 8…87: a raw RMSE of ~50, the mapped one ~6.
    const off = datasetResult('off', { image, score, mos }, {});
    expect(off.metrics.rmse as number).toBeGreaterThan(5 * (off.metrics.rmseLogistic as number));
    expect(rawErrorOffScale(off)).toBe(true);
    expect(datasetNotes(off)).toEqual([
      `off: RMSE ${(off.metrics.rmse as number).toPrecision(4)} compares scores on the model's own scale with MOS (the mapped RMSE is ${(off.metrics.rmseLogistic as number).toPrecision(4)}): the output is not on the MOS scale (e.g. a model trained with a correlation loss); compare RMSE (logistic)`,
    ]);
    // The same ranking on the MOS scale (score × 100 − 5): not flagged.
    const on = datasetResult('on', { image, score: score.map((s) => s * 100 - 5), mos }, {});
    expect(rawErrorOffScale(on)).toBe(false);
    expect(datasetNotes(on)).toEqual([]);
    // Without a mapping, the MOS standard deviation is the yardstick.
    expect(rawErrorOffScale({ ...off, metrics: { ...off.metrics, rmseLogistic: null } })).toBe(true);
    expect(rawErrorOffScale({ ...on, metrics: { ...on.metrics, rmseLogistic: null } })).toBe(false);
  });

  it('gives the reason of every missing metric, one line per reason', () => {
    const d = datasetResult(
      'flat',
      { image: ['a', 'b', 'c', 'd', 'e'], score: [1, 1, 1, 1, 1], mos: [1, 2, 3, 4, 5] },
      {},
    );
    const notes = datasetNotes(d);
    expect(notes[0]).toMatch(/^flat: SRCC, PLCC, KRCC –: .*constant/);
    expect(notes[1]).toMatch(/^flat: PLCC \(logistic\), RMSE \(logistic\), MAE \(logistic\) –: .*constant/);
    expect(notes).toHaveLength(2);
  });
});
