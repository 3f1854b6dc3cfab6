/**
 * A tiny synthetic study run locally: content-addressed runs reused on a second run, an edited variant rerunning only
 * its own runs, a hand-edited run folder detected, and the report input collected with every record.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseResultFile } from '@iqa-bench/metrics';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../tools/testing/temp-dir.js';
import { writeStudy, writeTinyStudy, TINY_VARIANTS } from './__tests__/fixture.js';
import { collectStudyReportInput } from './collect.js';
import { runStudyLocal } from './local.js';
import { resolveStudy, runDirOf } from './resolve.js';
import { studyState } from './state.js';

let dir = '';
let file = '';
const out = () => join(dir, 'out');

beforeAll(async () => {
  dir = tempDir('study-local-');
  file = await writeTinyStudy(dir);
}, 60_000);

describe('a tiny study run locally', () => {
  it('trains every run once, evaluates it with per-image predictions, and reuses it on a second run', async () => {
    const study = await resolveStudy(file, out());
    expect(study.runs.map((r) => `${r.variant}/${r.seed}`)).toEqual([
      'full/1',
      'full/2',
      'concat/1',
      'concat/2',
      'single/1',
      'single/2',
    ]);
    expect(new Set(study.runs.map((r) => r.runId)).size).toBe(6);
    expect((await studyState(study)).map((s) => s.state)).toEqual(Array(6).fill('missing'));

    const events: string[] = [];
    const first = await runStudyLocal(study, { onEvent: (e) => events.push(e.type) });
    expect(first.failed).toEqual([]);
    expect(first.trained).toEqual(study.runs.map((r) => r.runId));
    expect(events.filter((e) => e === 'done')).toHaveLength(6);
    expect((await studyState(study)).map((s) => s.state)).toEqual(Array(6).fill('done'));

    // The shared split: every run tested on the same images, in the same order.
    const split = JSON.parse(readFileSync(join(out(), 'split.json'), 'utf8')) as {
      parts: { test: string[] };
    };
    for (const r of study.runs) {
      const dirOf = runDirOf(out(), r.runId);
      const result = parseResultFile(
        JSON.parse(readFileSync(join(dirOf, 'result.json'), 'utf8')),
        'result.json',
      );
      expect(result.datasets[0].name).toBe('test');
      expect(result.datasets[0].predictions?.image).toEqual(split.parts.test);
      expect(result.datasets[0].predictions?.score.every(Number.isFinite)).toBe(true);
      const config = JSON.parse(readFileSync(join(dirOf, 'config.json'), 'utf8')) as {
        config: { model: { fusion: string | null }; seed: number };
      };
      expect(config.config.seed).toBe(r.seed);
      expect(config.config.model.fusion).toBe(r.variant === 'full' ? null : r.variant);
    }

    // A second run trains nothing.
    const again = await runStudyLocal(await resolveStudy(file, out()));
    expect(again.trained).toEqual([]);
    expect(again.reused).toHaveLength(6);
  }, 240_000);

  it('an edited variant reruns only its own runs; the others keep their run ids', async () => {
    const before = await resolveStudy(file, out());
    writeStudy(dir, { ...TINY_VARIANTS, concat: { 'model.fusion': 'concat', 'optimizer.lr': 2e-3 } });
    const after = await resolveStudy(file, out());
    const changed = after.runs.filter((r, i) => r.runId !== before.runs[i].runId).map((r) => r.variant);
    expect(changed).toEqual(['concat', 'concat']);
    const res = await runStudyLocal(after);
    expect(res.trained).toEqual(after.runs.filter((r) => r.variant === 'concat').map((r) => r.runId));
    expect(res.reused).toHaveLength(4);
    writeStudy(dir, TINY_VARIANTS);
  }, 120_000);

  it('detects a run folder edited by hand: plan, run and the report input say so, nothing is retrained over it', async () => {
    const study = await resolveStudy(file, out());
    const victim = study.runs[2];
    const summary = join(runDirOf(out(), victim.runId), 'summary.json');
    const original = readFileSync(summary);
    writeFileSync(summary, Buffer.concat([original, Buffer.from(' ')]));
    try {
      const states = await studyState(study);
      expect(states[2]).toMatchObject({
        state: 'edited',
        detail: 'changed since the run finished: summary.json',
      });
      expect(states.filter((s) => s.state === 'done')).toHaveLength(5);
      const res = await runStudyLocal(study);
      expect(res.trained).toEqual([]);
      expect(res.failed).toEqual([
        expect.objectContaining({
          runId: victim.runId,
          error: expect.stringContaining('was edited by hand'),
        }),
      ]);
      const input = await collectStudyReportInput(study, out(), { complexity: false });
      expect(input.runs[2]).toMatchObject({
        status: 'failed',
        error: 'edited by hand: changed since the run finished: summary.json',
      });
      expect(input.runs[2].result).toBeUndefined();
    } finally {
      writeFileSync(summary, original);
    }
  }, 60_000);

  it('collects the report input: every record, overrides, config, result, curve and model size', async () => {
    const input = await collectStudyReportInput(file, out());
    expect(input).toMatchObject({ name: 'tiny', baseline: 'full', seeds: [1, 2], sweeps: [] });
    expect(input.settings).toMatchObject({
      dataset: 'kadid10k',
      'test patches': 2,
      'split counts': 'test 3 / train 6 / val 3',
    });
    expect(input.runs.map((r) => [r.variant, r.status, r.overrides])).toEqual([
      ['full', 'done', {}],
      ['full', 'done', {}],
      ['concat', 'done', { 'model.fusion': 'concat' }],
      ['concat', 'done', { 'model.fusion': 'concat' }],
      ['single', 'done', { 'model.fusion': 'single' }],
      ['single', 'done', { 'model.fusion': 'single' }],
    ]);
    for (const r of input.runs) {
      expect(r.curve?.map((p) => p.epoch)).toEqual([1, 2]);
      expect(r.result?.datasets[0].predictions?.image).toHaveLength(3);
      expect((r.config as { seed: number }).seed).toBe(r.seed);
    }
    // Attention fusion has the attention MLP on top of concat's head; single fusion the smallest head.
    const params = (v: string) => input.runs.find((r) => r.variant === v)?.complexity?.params ?? 0;
    expect(params('full')).toBeGreaterThan(params('concat'));
    expect(params('concat')).toBeGreaterThan(params('single'));
    expect(input.runs[0].complexity?.gmacs).toBeGreaterThan(0);
    expect(existsSync(join(out(), 'complexity.json'))).toBe(true);
  }, 120_000);
});
