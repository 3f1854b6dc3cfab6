import { describe, expect, it } from 'vitest';
import * as metrics from './index.js';

describe('public API', () => {
  it('exports exactly the documented names', () => {
    expect(Object.keys(metrics).sort()).toEqual(
      [
        'METRIC_DIRECTIONS',
        'METRIC_NAMES',
        'MetricAccumulator',
        'RESULT_SCHEMA',
        'ResultFormatError',
        'bootstrapCI',
        'comparePredictors',
        'datasetResult',
        'dropNonFinite',
        'evaluate',
        'fitLogistic',
        'holm',
        'krcc',
        'mae',
        'median',
        'metricName',
        'normalSf',
        'parseDatasetResult',
        'parseDatasetResults',
        'parseResultFile',
        'plcc',
        'quantile',
        'quantileSorted',
        'rmse',
        'seededBootstrap',
        'seededDifference',
        'srcc',
        'williamsTest',
      ].sort(),
    );
  });

  it('runs the README example numbers', () => {
    // scipy.stats: spearmanr 0.8, pearsonr 0.8, kendalltau 2/3 for these four pairs.
    expect(metrics.srcc([1, 2, 3, 4], [10, 20, 40, 30])).toBeCloseTo(0.8, 15);
    expect(metrics.plcc([1, 2, 3, 4], [10, 20, 40, 30])).toBeCloseTo(0.8, 15);
    expect(metrics.krcc([1, 2, 3, 4], [10, 20, 40, 30])).toBeCloseTo(2 / 3, 15);
    expect(metrics.rmse([1, 2, 3, 4], [2, 2, 2, 2])).toBeCloseTo(Math.sqrt(1.5), 15);
    expect(metrics.mae([1, 2, 3, 4], [2, 2, 2, 2])).toBe(1);
  });
});
