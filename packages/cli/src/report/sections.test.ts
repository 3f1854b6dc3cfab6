import { describe, expect, it } from 'vitest';
import type { LoadedResult } from '../result.js';
import { renderText } from '../table.js';
import { latencyCell, resultNotes, resultTable } from './sections.js';

const result: LoadedResult = {
  file: 'r.json',
  format: 'iqa-bench-result',
  datasets: [
    { name: 'a', n: 10, metrics: { srcc: 0.9, plccLogistic: 0.91, rmse: 0.3, rmseLogistic: 0.28 } },
    {
      name: 'b',
      n: 12,
      metrics: { srcc: -0.92, plccLogistic: 0.91, rmse: 412.5, rmseLogistic: 0.4 },
    },
    {
      name: 'c',
      n: 8,
      metrics: { srcc: 0.7, plccLogistic: null, rmse: 0.5, rmseLogistic: null },
      reasons: {
        plccLogistic: 'the 4-parameter logistic fit did not converge: too many iterations',
        rmseLogistic: 'the 4-parameter logistic fit did not converge: too many iterations',
      },
    },
  ],
  mean: { srcc: 0.2267, plccLogistic: 0.91 },
};

describe('result tables and their notes', () => {
  it('the mean row says how many datasets it covers; an off-scale raw RMSE is marked', () => {
    expect(renderText(resultTable(result))).toBe(
      [
        'dataset     n     SRCC  PLCC (logistic)       RMSE  RMSE (logistic)',
        '---------  --  -------  ---------------  ---------  ---------------',
        'a          10   0.9000           0.9100     0.3000           0.2800',
        'b          12  -0.9200           0.9100  412.5000†           0.4000',
        'c           8   0.7000                –     0.5000                –',
        'mean of 3       0.2267     0.9100 (2/3)          –                –',
      ].join('\n'),
    );
  });

  it('prints the reason of every –, the sign reversal, the off-scale RMSE and what a mean leaves out', () => {
    expect(resultNotes(result)).toEqual([
      'b: warning: the fitted logistic reverses the sign of the relation (SRCC -0.9200, PLCC (logistic) 0.9100): the scores rank the images against MOS; the mapped figures describe the reversed scores',
      "† b: RMSE 412.5 compares scores on the model's own scale with MOS (the mapped RMSE is 0.4000): the output is not on the MOS scale (e.g. a model trained with a correlation loss); compare RMSE (logistic)",
      'c: PLCC (logistic), RMSE (logistic) –: the 4-parameter logistic fit did not converge: too many iterations',
      "mean RMSE, RMSE (logistic) –: errors are on each dataset's own MOS scale and are not averaged",
      'mean PLCC (logistic): over 2 of 3 datasets (without c)',
    ]);
  });

  it('latency cells: median (IQR), mean ± std for reports without quartiles', () => {
    const base = {
      batchSize: 1,
      warmup: 3,
      runs: 40,
      meanMs: 9.1,
      stdMs: 2.2,
      minMs: 7,
      medianMs: 8.84,
      p95Ms: 14,
      maxMs: 20,
    };
    expect(latencyCell({ ...base, q1Ms: 8.12, q3Ms: 9.66 })).toBe('8.8 (8.1–9.7)');
    expect(latencyCell(base)).toBe('9.1 ± 2.2');
    expect(latencyCell(undefined)).toBe('–');
  });
});
