import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTable, checkVerdict, compareResults } from './check.js';
import { CliError } from './errors.js';
import type { LoadedResult } from './result.js';
import { parseResult } from './result.js';
import { renderText } from './table.js';

function result(
  file: string,
  sets: Record<string, Record<string, number | null>>,
  mean?: Record<string, number>,
): LoadedResult {
  return {
    file,
    format: 'iqa-bench-result',
    datasets: Object.entries(sets).map(([name, metrics]) => ({ name, n: 10, metrics })),
    ...(mean ? { mean } : {}),
  };
}

describe('compareResults', () => {
  const base = result('base.json', {
    koniq: { srcc: 0.9, plcc: 0.91, rmse: 0.2 },
    kadid: { srcc: 0.5, plcc: 0.55 },
  });

  it('passes within tolerance and flags regressions beyond it, per direction', () => {
    const r = result('r.json', {
      koniq: { srcc: 0.896, plcc: 0.93, rmse: 0.206 },
      kadid: { srcc: 0.494, plcc: 0.55 },
    });
    const rep = compareResults(r, base, { tolerance: 0.005, metrics: ['srcc', 'plcc', 'rmse'] });
    const byKey = Object.fromEntries(rep.rows.map((x) => [`${x.dataset}/${x.metric}`, x.status]));
    expect(byKey).toEqual({
      'koniq/srcc': 'ok', // −0.004
      'koniq/plcc': 'improved', // +0.02
      'koniq/rmse': 'regression', // lower is better: +0.006
      'kadid/srcc': 'regression', // −0.006
      'kadid/plcc': 'ok',
    });
    expect(rep.passed).toBe(false);
    expect(rep.rows.find((x) => x.dataset === 'koniq' && x.metric === 'srcc')?.delta).toBeCloseTo(-0.004, 12);
  });

  it('a result exactly at baseline − tolerance passes', () => {
    const r = result('r.json', { koniq: { srcc: 0.895, plcc: 0.905 }, kadid: { srcc: 0.495, plcc: 0.545 } });
    expect(compareResults(r, base, { tolerance: 0.005, metrics: ['srcc', 'plcc'] }).passed).toBe(true);
    expect(compareResults(r, base, { tolerance: 0.0049, metrics: ['srcc', 'plcc'] }).passed).toBe(false);
  });

  it('a dataset or metric missing from the result fails; an extra dataset is shown but not gated', () => {
    const r = result('r.json', { koniq: { srcc: 0.95, plcc: null }, spaq: { srcc: 0.1 } });
    const rep = compareResults(r, base, { tolerance: 0.005, metrics: ['srcc', 'plcc'] });
    expect(rep.rows.map((x) => `${x.dataset}/${x.metric}:${x.status}`)).toEqual([
      'koniq/srcc:improved',
      'koniq/plcc:missing',
      'kadid/srcc:missing',
      'kadid/plcc:missing',
      'spaq/srcc:new',
    ]);
    expect(rep.passed).toBe(false);
    expect(checkVerdict(rep)).toBe(
      'FAIL: 3 of 4 value(s) worse than the baseline by more than 0.005, or missing: koniq plcc missing, kadid srcc missing, kadid plcc missing',
    );
  });

  it('compares the mean like a dataset', () => {
    const b = result('b.json', { a: { srcc: 0.8 } }, { srcc: 0.8 });
    const r = result('r.json', { a: { srcc: 0.8 } }, { srcc: 0.7 });
    const rep = compareResults(r, b, { tolerance: 0.005, metrics: ['srcc'] });
    expect(rep.rows.map((x) => `${x.dataset}:${x.status}`)).toEqual(['a:ok', 'mean:regression']);
  });

  it('refuses a metric the baseline does not have', () => {
    expect(() => compareResults(base, base, { tolerance: 0, metrics: ['krcc'] })).toThrow(
      new CliError('--metric krcc: base.json has no krcc value for any dataset'),
    );
  });

  it('renders an aligned table', () => {
    const r = result('r.json', { koniq: { srcc: 0.8964, plcc: 0.91 }, kadid: { srcc: 0.5, plcc: 0.55 } });
    const rep = compareResults(r, base, { tolerance: 0.005, metrics: ['srcc'] });
    expect(renderText(checkTable(rep))).toBe(
      [
        'dataset  metric  baseline  result    delta  status',
        '-------  ------  --------  ------  -------  ------',
        'koniq    srcc ↑    0.9000  0.8964  -0.0036  ok',
        'kadid    srcc ↑    0.5000  0.5000  +0.0000  ok',
      ].join('\n'),
    );
  });
});

describe('parseResult', () => {
  const good = {
    schema: 'iqa-bench/result@1',
    kind: 'cross-dataset',
    datasets: [{ name: 'kadid10k', n: 3, metrics: { srcc: 0.5, plcc_logistic: 0.6, extra: 'ignored' } }],
    mean: { srcc: 0.5 },
  };

  it('reads an iqa-bench result and normalises metric names', () => {
    const r = parseResult(JSON.stringify(good), 'r.json');
    expect(r.format).toBe('iqa-bench-result');
    expect(r.datasets[0].metrics).toEqual({ srcc: 0.5, plccLogistic: 0.6 });
    expect(r.mean).toEqual({ srcc: 0.5 });
  });

  it('reads the PyTorch original cross-dataset JSON, null entries included', () => {
    const orig = {
      checkpoint: 'best.pkl',
      model_size: 'base',
      test_patch_num: 20,
      test_random_crop: false,
      results: { SPAQ: { srcc: 0.8698, plcc: 0.8709, num_images: 2224 }, 'AGIQA-3K': null },
    };
    const r = parseResult(JSON.stringify(orig), 'o.json');
    expect(r.format).toBe('smart-iqa-cross-dataset');
    expect(r.datasets).toEqual([
      { name: 'SPAQ', n: 2224, metrics: { srcc: 0.8698, plcc: 0.8709 } },
      { name: 'AGIQA-3K', n: null, metrics: {} },
    ]);
  });

  it("reads a training run's summary.json through @iqa-bench/train's reader", () => {
    const file = join(
      import.meta.dirname,
      '..',
      '..',
      '..',
      'test',
      'fixtures',
      'cli',
      'run',
      'summary.json',
    );
    const text = readFileSync(file, 'utf8');
    const r = parseResult(text, 's.json');
    expect(r.format).toBe('train-summary');
    expect(r.datasets).toEqual([
      {
        name: 'kadid10k',
        key: 'kadid10k',
        path: 'synth-kadid',
        split: 'test',
        n: 60,
        metrics: { srcc: 0.8412, plcc: 0.8603, krcc: 0.6511, rmse: 0.151 },
      },
    ]);
    const bad = JSON.parse(text) as { metrics: Record<string, unknown> };
    delete bad.metrics.rmse;
    expect(() => parseResult(JSON.stringify(bad), 's.json')).toThrow(
      /^s\.json: not a valid run summary: metrics\.rmse: Invalid input: expected object, received undefined$/,
    );
  });

  it.each([
    ['{"schema": "iqa-bench/result@1", "datasets": [', /^r\.json: not valid JSON \(/],
    ['[1]', /^r\.json: \(top level\): expected an object, got an array of 1$/],
    [
      '{"schema": "other@2"}',
      /^r\.json: schema: expected "iqa-bench\/result@1" or "iqa-bench\/train-summary@1", got "other@2"$/,
    ],
    [
      '{}',
      /^r\.json: schema: expected "iqa-bench\/result@1" \(or the original's \{results: \{…\}\}\), got nothing/,
    ],
    [
      '{"schema": "iqa-bench/result@1", "datasets": [{"name": "a", "n": 1, "metrics": {"srcc": "0.9"}}]}',
      /^r\.json: datasets\[0\]\.metrics\.srcc: expected a number or null, got "0\.9"$/,
    ],
    [
      '{"schema": "iqa-bench/result@1", "datasets": [{"name": "a", "n": -1, "metrics": {}}]}',
      /^r\.json: datasets\[0\]\.n: expected a non-negative integer or null, got -1$/,
    ],
    [
      '{"schema": "iqa-bench/result@1", "datasets": [{"name": "a", "n": 1, "metrics": {}}, {"name": "a", "n": 1, "metrics": {}}]}',
      /^r\.json: datasets\[1\]\.name: expected a name not used by another dataset, got "a"$/,
    ],
    [
      '{"schema": "iqa-bench/result@1", "datasets": [{"name": "a", "n": 2, "metrics": {}, "predictions": {"image": ["x", "y"], "score": [1], "mos": [1, 2]}}]}',
      /^r\.json: datasets\[0\]\.predictions: expected image, score and mos of equal length, got "2\/1\/2"$/,
    ],
  ])('names the file and field of a malformed result: %s', (text, message) => {
    expect(() => parseResult(text, 'r.json')).toThrow(message);
  });
});
