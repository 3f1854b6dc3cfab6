import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregateStudy, type StudyAggregate } from '@iqa-bench/study';
import { describe, expect, it } from 'vitest';
import { syntheticStudy } from '../../../../tools/testing/study-input.js';
import { tempDir } from '../../../../tools/testing/temp-dir.js';
import { CliError } from '../errors.js';
import { renderText } from '../table.js';
import { checkStudy, compareStudies, studyCheckTable, studyCheckVerdict } from './check.js';

const baseline = aggregateStudy(
  syntheticStudy({
    variants: [
      { name: 'base', noise: 0.3 },
      { name: 'concat', noise: 0.4 },
    ],
    seeds: [0, 1],
    images: 40,
    crossImages: 20,
  }),
  { resamples: 20 },
);
const clone = (a: StudyAggregate): StudyAggregate => structuredClone(a);
const srccOf = (a: StudyAggregate, variant: string) =>
  a.variants.find((v) => v.name === variant)?.metrics[0].values.srcc as { median: number | null };

describe('compareStudies', () => {
  it('passes a study against itself: every gated median ok', () => {
    const r = compareStudies(baseline, baseline);
    expect(r.passed).toBe(true);
    expect(r.rows).toHaveLength(2 * 2 * 2); // variants × datasets × (srcc, plcc)
    expect(r.rows.every((row) => row.status === 'ok' && row.delta === 0)).toBe(true);
    expect(r.missingRuns).toEqual([]);
    expect(studyCheckVerdict(r)).toBe(
      'PASS: 8 median(s) within tolerance 0.005 of the baseline or better, every baseline run finished',
    );
  });

  it('fails when a median drops by more than the tolerance, passes at exactly the tolerance, and notes improvements', () => {
    const worse = clone(baseline);
    const m = srccOf(worse, 'concat');
    m.median = (m.median as number) - 0.0051;
    const r = compareStudies(worse, baseline);
    expect(r.passed).toBe(false);
    const row = r.rows.find(
      (x) => x.variant === 'concat' && x.metric === 'srcc' && x.dataset === 'koniq-test',
    );
    expect(row?.status).toBe('regression');
    expect(row?.delta).toBeCloseTo(-0.0051, 12);
    expect(studyCheckVerdict(r)).toBe(
      'FAIL: 1 of 8 median(s) worse than the baseline by more than 0.005 or missing (concat koniq-test srcc -0.0051); 0 baseline run(s) not finished',
    );
    const edge = clone(baseline);
    const e = srccOf(edge, 'concat');
    e.median = (e.median as number) - 0.005;
    expect(compareStudies(edge, baseline).passed).toBe(true);
    expect(compareStudies(worse, baseline, { tolerance: 0.01 }).passed).toBe(true);
    const better = clone(baseline);
    const b = srccOf(better, 'base');
    b.median = (b.median as number) + 0.02;
    const rb = compareStudies(better, baseline);
    expect(rb.passed).toBe(true);
    expect(rb.rows.find((x) => x.variant === 'base' && x.metric === 'srcc')?.status).toBe('improved');
  });

  it('gates RMSE the other way round when asked', () => {
    const worse = clone(baseline);
    const rm = worse.variants[0].metrics[0].values.rmse;
    rm.median = (rm.median as number) + 0.01;
    const r = compareStudies(worse, baseline, { metrics: ['rmse'] });
    expect(r.rows.find((x) => x.variant === 'base' && x.dataset === 'koniq-test')?.status).toBe('regression');
  });

  it('fails when a run the baseline finished has not finished, or a variant has no median any more', () => {
    const failed = clone(baseline);
    const run = failed.runs.find((x) => x.variant === 'concat' && x.seed === 1);
    if (run) {
      run.status = 'failed';
      run.error = 'out of memory';
    }
    const r = compareStudies(failed, baseline);
    expect(r.passed).toBe(false);
    expect(r.missingRuns).toEqual([{ variant: 'concat', seed: 1, status: 'failed', error: 'out of memory' }]);
    expect(renderText(studyCheckTable(r))).toMatch(
      /concat\s+run seed 1\s+done\s+failed\s+MISSING RUN: out of memory/,
    );
    const gone = clone(baseline);
    gone.variants = gone.variants.filter((v) => v.name !== 'concat');
    gone.runs = gone.runs.filter((x) => x.variant !== 'concat');
    const rg = compareStudies(gone, baseline);
    expect(rg.passed).toBe(false);
    expect(rg.rows.filter((x) => x.status === 'missing')).toHaveLength(4);
    expect(rg.missingRuns.map((x) => [x.variant, x.seed, x.status])).toEqual([
      ['concat', 0, 'absent'],
      ['concat', 1, 'absent'],
    ]);
  });

  it('does not gate a variant the baseline lacks, and warns when the test images or seeds differ', () => {
    const more = clone(baseline);
    more.variants.push({ ...structuredClone(more.variants[1]), name: 'extra' });
    more.datasets[0].n = 41;
    more.seeds = [0, 1, 2];
    const r = compareStudies(more, baseline);
    expect(r.passed).toBe(true);
    expect(r.rows.filter((x) => x.status === 'new')).toHaveLength(4);
    expect(r.warnings).toEqual([
      'koniq-test: 41 test images in the study, 40 in the baseline',
      'seeds 0, 1, 2 in the study, 0, 1 in the baseline',
    ]);
    expect(() => compareStudies(more, baseline, { tolerance: -1 })).toThrow(CliError);
  });
});

describe('checkStudy', () => {
  const dir = tempDir('iqa-study-check-');

  it('reads the baseline from a study-report.json', async () => {
    const file = join(dir, 'baseline.json');
    writeFileSync(file, JSON.stringify(baseline));
    const r = await checkStudy(baseline, file);
    expect(r.passed).toBe(true);
    expect(r.baseline).toBe(file);
    expect((await checkStudy(baseline, baseline)).passed).toBe(true);
  });

  it('names the file and the field of a baseline that is not a study report', async () => {
    const file = join(dir, 'result.json');
    writeFileSync(file, JSON.stringify({ schema: 'iqa-bench/result@1', datasets: [] }));
    await expect(checkStudy(baseline, file)).rejects.toThrow(CliError);
    await expect(checkStudy(baseline, file)).rejects.toThrow(
      `${file}: schema: expected "iqa-bench/study-report@1" (a study report written by iqa-bench study report --json or --out), got "iqa-bench/result@1"`,
    );
    const broken = join(dir, 'broken.json');
    const bad = JSON.parse(JSON.stringify(baseline)) as { variants: { runs: unknown }[] };
    bad.variants[0].runs = 'many';
    writeFileSync(broken, JSON.stringify(bad));
    await expect(checkStudy(baseline, broken)).rejects.toThrow(`${broken}: variants[0].runs: `);
    await expect(checkStudy(baseline, join(dir, 'nope.json'))).rejects.toThrow('no such file');
  });
});
