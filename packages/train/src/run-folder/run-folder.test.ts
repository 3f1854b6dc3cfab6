import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTrainConfig } from '../config.js';
import {
  appendMetricsRecordSync,
  parseRunConfigFile,
  parseRunSummary,
  parseTrainerState,
  readMetricsLog,
  readMetricsLogSync,
  readRunConfigFileSync,
  readRunSummary,
  truncateMetricsLogSync,
  writeMetricsLogSync,
  writeRunConfigFileSync,
  writeRunSummary,
  type EpochRecord,
  type RoundRecord,
  type RunSummary,
  type TrainerState,
} from './index.js';
import { tempDir } from '../../../../tools/testing/temp-dir.js';

const tmp = () => tempDir('train-run-folder-');
const m = (srcc: number) => ({ srcc, plcc: srcc + 0.01, krcc: srcc - 0.2, rmse: 0.1 });
const epoch = (e: number, part: 'val' | 'test' = 'val'): EpochRecord => ({
  kind: 'epoch',
  round: 0,
  epoch: e,
  steps: 3 * e,
  loss: 0.5 / e,
  trainSrcc: 0.4,
  [part]: m(0.5 + e / 10),
  best: true,
  lr: { backbone: 1e-4, head: 1e-3 },
  seconds: 1.5,
});
const roundEnd: RoundRecord = {
  kind: 'round',
  round: 0,
  epochsRun: 2,
  bestEpoch: 2,
  selectBest: m(0.7),
  selectFinal: m(0.7),
  testBest: m(0.65),
  testFinal: null,
};
const { kind: _kind, ...roundResult } = roundEnd;

describe('metrics.jsonl', () => {
  it('appends records as single lines and reads them back', async () => {
    const f = join(tmp(), 'metrics.jsonl');
    appendMetricsRecordSync(f, epoch(1));
    appendMetricsRecordSync(f, epoch(2, 'test'));
    appendMetricsRecordSync(f, roundEnd);
    const text = readFileSync(f, 'utf8');
    expect(text.split('\n')).toHaveLength(4);
    expect(
      text.startsWith('{"kind":"epoch","round":0,"epoch":1,"steps":3,"loss":0.5,"trainSrcc":0.4,"val":'),
    ).toBe(true);
    const log = await readMetricsLog(f);
    expect(log.records).toEqual([epoch(1), epoch(2, 'test'), roundEnd]);
    expect(log.tornLastLine).toBe(false);
  });

  it('leaves out a torn last line (and an append drops it); NaN, written as null, reads back as NaN', () => {
    const f = join(tmp(), 'metrics.jsonl');
    writeMetricsLogSync(f, [{ ...epoch(1), loss: Number.NaN }]);
    writeFileSync(f, `${readFileSync(f, 'utf8')}{"kind":"epoch","rou`);
    const log = readMetricsLogSync(f);
    expect(log.tornLastLine).toBe(true);
    expect(log.records).toHaveLength(1);
    expect((log.records[0] as EpochRecord).loss).toBeNaN();
    appendMetricsRecordSync(f, epoch(2));
    const text = readFileSync(f, 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(readMetricsLogSync(f).records.map((r) => (r as EpochRecord).epoch)).toEqual([1, 2]);
  });

  it.each([
    ['not json', 'm.jsonl: line 2: not valid JSON'],
    ['[1]', 'm.jsonl: line 2: expected a JSON object'],
    ['{"kind":"step"}', 'm.jsonl: line 2: kind: expected "epoch" or "round", got "step"'],
    [JSON.stringify({ ...epoch(1), loss: 'low' }), 'm.jsonl: line 2: loss: Invalid input: expected number'],
    [
      JSON.stringify({ ...epoch(1), test: m(0.5) }),
      'm.jsonl: line 2: (root): expected exactly one of "val" and "test"',
    ],
    [JSON.stringify({ ...roundEnd, bestEpoch: 0 }), 'm.jsonl: line 2: bestEpoch: Too small'],
  ])('names the file and line of a malformed record: %s', (line, message) => {
    const f = join(tmp(), 'm.jsonl');
    writeFileSync(f, `${JSON.stringify(epoch(1))}\n${line}\n`);
    expect(() => readMetricsLogSync(f, 'm.jsonl')).toThrow(message);
  });

  it('a resumed run keeps the first records byte for byte', () => {
    const f = join(tmp(), 'metrics.jsonl');
    // a record as another writer might format it: kept exactly, not re-serialised
    const first =
      '{"kind": "epoch", "round": 0, "epoch": 1, "steps": 3, "loss": 0.5, "trainSrcc": 0.4, "val": {"srcc": 0.6, "plcc": 0.61, "krcc": 0.4, "rmse": 0.1}, "best": true, "lr": {}, "seconds": 1}';
    writeFileSync(f, `${first}\n${JSON.stringify(epoch(2))}\n`);
    truncateMetricsLogSync(f, 1);
    expect(readFileSync(f, 'utf8')).toBe(`${first}\n`);
    expect(() => truncateMetricsLogSync(f, 2)).toThrow(
      /metrics\.jsonl: holds 1 record\(s\) but the run's checkpoint follows 2: the log is incomplete/,
    );
  });

  it('a missing log names the file', () => {
    expect(() => readMetricsLogSync(join(tmp(), 'metrics.jsonl'), 'runs/a/metrics.jsonl')).toThrow(
      'runs/a/metrics.jsonl: run log not found',
    );
  });
});

describe('summary.json', () => {
  const summary: RunSummary = {
    schema: 'iqa-bench/train-summary@1',
    datasets: [
      {
        name: 'kadid10k',
        key: 'kadid10k',
        path: 'data',
        split: 'test',
        n: 12,
        metrics: { srcc: 0.65, plcc: 0.66, krcc: 0.45, rmse: 0.1 },
      },
    ],
    dataset: { kind: 'kadid10k', root: 'data', splitManifest: null, selectOn: 'val' },
    seed: 3,
    rounds: 1,
    reportedPart: 'test',
    n: { train: 40, select: 8, test: 12 },
    selectionMetric: 'srcc',
    metrics: Object.fromEntries(
      (['srcc', 'plcc', 'krcc', 'rmse'] as const).map((k) => {
        const stats = { n: 1, median: 0.5, q1: 0.5, q3: 0.5, iqr: 0, min: 0.5, max: 0.5, values: [0.5] };
        return [k, { best: 0.5, final: Number.NaN, bestStats: stats, finalStats: stats }];
      }),
    ) as RunSummary['metrics'],
    perRound: [roundResult],
    wallSeconds: 12.5,
  };

  it('writes pretty JSON and reads it back (NaN as null and back)', async () => {
    const f = join(tmp(), 'summary.json');
    await writeRunSummary(f, summary);
    expect(readFileSync(f, 'utf8')).toContain('"final": null');
    expect(await readRunSummary(f)).toEqual(summary);
  });

  it('names the file and every offending field', () => {
    const bad = JSON.parse(JSON.stringify(summary)) as Record<string, unknown>;
    bad.seed = -1;
    bad.reportedPart = 'train';
    expect(() => parseRunSummary(bad, 's.json')).toThrow(
      /^s\.json: not a valid run summary: seed: Too small.*; reportedPart: Invalid option/,
    );
    const entry = JSON.parse(JSON.stringify(summary)) as { datasets: { n: number }[] };
    entry.datasets[0].n = 1.5;
    expect(() => parseRunSummary(entry, 's.json')).toThrow(
      's.json: datasets[0].n: expected a non-negative integer or null, got 1.5',
    );
  });
});

describe('config.json and the trainer state', () => {
  it('config.json round-trips and is checked', () => {
    const f = join(tmp(), 'config.json');
    const value = {
      config: parseTrainConfig({ dataset: { kind: 'csv', root: '/x' }, model: { preset: 'toy' } }),
      configHash: 'a'.repeat(64),
      backend: 'cpu',
      packages: { '@iqa-bench/train': '0.1.0' },
      data: { description: null, n: { train: 4, select: 2, test: null } },
      environment: {},
    };
    writeRunConfigFileSync(f, value);
    expect(readRunConfigFileSync(f)).toEqual(value);
    expect(() => parseRunConfigFile({ ...value, configHash: 'abc' }, 'config.json')).toThrow(
      'config.json: not a valid run config file: configHash: expected a sha256 in hex',
    );
  });

  it('a trainer state read back serialises to the same bytes; other versions are refused by name', () => {
    const state: TrainerState = {
      version: 1,
      configHash: 'h',
      round: 1,
      epoch: 2,
      step: 3,
      globalStep: 9,
      freshRound: false,
      epochLossSum: 1.25,
      early: { best: 0.7, bestEpoch: 1, bad: 0, stopped: false },
      bestSelect: m(0.7),
      lastSelect: { ...m(0.6), plcc: Number.NaN },
      epochsRun: 2,
      optimizer: { kind: 'adamw', step: 9, groups: [{ name: 'backbone', lr: 1e-4, weightDecay: 2e-4 }] },
      rounds: [roundResult],
      metricsLines: 5,
    };
    const text = JSON.stringify(state);
    const back = parseTrainerState(JSON.parse(text), 'last.ckpt');
    expect(JSON.stringify(back)).toBe(text);
    expect(back.lastSelect?.plcc).toBeNaN();
    expect(() => parseTrainerState({ ...state, version: 2 }, 'last.ckpt')).toThrow(
      'last.ckpt: trainer state version 2; this trainer reads version 1',
    );
    expect(() => parseTrainerState({ ...state, step: -1 }, 'last.ckpt')).toThrow(
      'last.ckpt: not a valid trainer state: step: Too small',
    );
  });

  it('the run-folder entry does not load TensorFlow.js (the main entry does)', () => {
    const loadsTf = (file: string) =>
      execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `await import(${JSON.stringify(fileURLToPath(new URL(file, import.meta.url)))}); console.log(typeof globalThis._tfengine);`,
        ],
        { encoding: 'utf8' },
      ).trim();
    expect(loadsTf('./index.ts')).toBe('undefined');
    expect(loadsTf('../index.ts')).toBe('object');
  }, 30_000);
});
