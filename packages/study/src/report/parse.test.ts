import { describe, expect, it } from 'vitest';
import { syntheticStudy } from '../../../../tools/testing/study-input.js';
import { aggregateStudy } from './aggregate.js';
import { parseStudyAggregate, StudyAggregateFormatError } from './parse.js';

describe('parseStudyAggregate', () => {
  const agg = aggregateStudy(
    syntheticStudy({
      variants: [
        { name: 'base', noise: 0.3, complexity: { params: 10, gmacs: 1 } },
        { name: 'big', noise: 0.2, complexity: { params: 20, gmacs: 3 }, status: { 1: 'failed' } },
      ],
      chain: ['base', 'big'],
      sweeps: [{ field: 'optim.lr', variants: [{ name: 'big', value: 1e-6 }] }],
      seeds: [0, 1],
      images: 20,
      crossImages: 10,
    }),
    { resamples: 20 },
  );
  const json = () => JSON.parse(JSON.stringify(agg)) as Record<string, unknown>;

  it('reads back what aggregateStudy writes', () => {
    expect(parseStudyAggregate(json(), 'a.json')).toEqual(agg);
  });

  it('names the file and the field of anything unexpected', () => {
    expect(() => parseStudyAggregate({ schema: 'iqa-bench/result@1' }, 'base.json')).toThrow(
      'base.json: schema: expected "iqa-bench/study-report@1" (a study report written by iqa-bench study report --json or --out), got "iqa-bench/result@1"',
    );
    expect(() => parseStudyAggregate([], 'base.json')).toThrow(StudyAggregateFormatError);
    const bad = json();
    (
      bad.variants as { metrics: { values: { srcc: { median: unknown } } }[] }[]
    )[1].metrics[0].values.srcc.median = 'high';
    (bad as { extra?: number }).extra = 1;
    expect(() => parseStudyAggregate(bad, 'base.json')).toThrow(
      "base.json: variants[1].metrics[0].values.srcc.median: Invalid input: expected number, received string; (top level): unknown field(s) 'extra'",
    );
  });
});
