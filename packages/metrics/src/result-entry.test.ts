import { describe, expect, it } from 'vitest';
import { evaluate } from './evaluate.js';
import {
  metricName,
  parseDatasetResult,
  parseDatasetResults,
  parseResultFile,
  RESULT_SCHEMA,
  ResultFormatError,
  type DatasetResult,
  type ResultFile,
} from './result-entry.js';

describe('result entries (iqa-bench/result@1)', () => {
  it('a file written from evaluate reads back unchanged; NaN (written as null) stays null', () => {
    const e = evaluate([1, 2, 3, 4, 5], [1.5, 1.9, 3.2, 4.1, 4.9], { logistic: false });
    const entry: DatasetResult = {
      name: 'kadid10k',
      key: 'kadid10k',
      split: 'test',
      n: e.n,
      metrics: { srcc: e.srcc, plcc: e.plcc, krcc: e.krcc, rmse: e.rmse, plccLogistic: Number.NaN },
      predictions: {
        image: ['a', 'b', 'c', 'd', 'e'],
        score: [1, 2, 3, 4, 5],
        mos: [1.5, 1.9, 3.2, 4.1, 4.9],
      },
    };
    const file: ResultFile = {
      schema: RESULT_SCHEMA,
      kind: 'eval',
      datasets: [entry],
      mean: { srcc: e.srcc },
    };
    const back = parseResultFile(JSON.parse(JSON.stringify(file)), 'r.json');
    expect(back).toEqual({
      ...file,
      datasets: [{ ...entry, metrics: { ...entry.metrics, plccLogistic: null } }],
    });
    // srcc of this monotone prediction is exactly 1 (scipy.stats.spearmanr agrees).
    expect(back.datasets[0].metrics.srcc).toBeCloseTo(1, 14);
  });

  it('normalises metric names and keeps unknown numeric metrics only', () => {
    expect(metricName('PLCC-logistic')).toBe('plccLogistic');
    expect(metricName('rmse_logistic')).toBe('rmseLogistic');
    expect(metricName('psnr')).toBeUndefined();
    const d = parseDatasetResult(
      { name: 'x', n: 2, metrics: { plcc_logistic: 0.5, psnr: 30, note: 'text' } },
      'r.json',
    );
    expect(d.metrics).toEqual({ plccLogistic: 0.5, psnr: 30 });
  });

  it.each([
    [{ name: 'a', n: 1.5, metrics: {} }, 'r.json: n: expected a non-negative integer or null, got 1.5'],
    [{ name: 7, n: 1, metrics: {} }, 'r.json: name: expected a string, got 7'],
    [{ name: 'a', n: 1 }, 'r.json: metrics: expected an object, got nothing (the field is missing)'],
    [
      { name: 'a', n: 1, metrics: {}, direction: 'up' },
      'r.json: direction: expected "higher-better" or "lower-better", got "up"',
    ],
    [
      { name: 'a', n: 1, metrics: {}, logistic: { model: 3, params: [], converged: true } },
      'r.json: logistic.model: expected 4 or 5, got 3',
    ],
  ])('an entry at the top level: %j', (value, message) => {
    expect(() => parseDatasetResult(value, 'r.json')).toThrow(message);
  });

  it('errors are ResultFormatErrors naming the file and the field inside the file', () => {
    let err: unknown;
    try {
      parseDatasetResults([{ name: 'a', n: 1, metrics: { srcc: 'high' } }], 'r.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ResultFormatError);
    expect((err as ResultFormatError).field).toBe('datasets[0].metrics.srcc');
    expect((err as Error).message).toBe(
      'r.json: datasets[0].metrics.srcc: expected a number or null, got "high"',
    );
    expect(() => parseResultFile({ schema: 'iqa-bench/result@2', datasets: [] }, 'r.json')).toThrow(
      'r.json: schema: expected "iqa-bench/result@1", got "iqa-bench/result@2"',
    );
    expect(() => parseResultFile({ schema: RESULT_SCHEMA, kind: 3, datasets: [] }, 'r.json')).toThrow(
      'r.json: kind: expected a string, got 3',
    );
  });
});
