import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTrainingRun } from './training.js';
import { tempDir } from '../../../tools/testing/temp-dir.js';

const fixture = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'cli', 'run');

describe('readTrainingRun', () => {
  it('gives the epoch records of metrics.jsonl with their selection part', async () => {
    const run = await readTrainingRun(fixture, 'run');
    expect(run.dir).toBe('run');
    expect(run.tornLastLine).toBe(false);
    expect(run.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(run.epochs[3]).toEqual({
      round: 0,
      epoch: 4,
      loss: 0.205,
      trainSrcc: 0.81,
      part: 'val',
      select: { srcc: 0.86, plcc: 0.88, krcc: 0.68, rmse: 0.14 },
      best: true,
    });
  });

  it('a NaN (null) loss is a gap; a malformed record names the folder as given, the file and the line', async () => {
    const dir = tempDir('cli-training-');
    const lines = readFileSync(join(fixture, 'metrics.jsonl'), 'utf8').split('\n');
    writeFileSync(join(dir, 'metrics.jsonl'), `${lines[0].replace('"loss": 0.412', '"loss": null')}\n`);
    expect((await readTrainingRun(dir)).epochs[0].loss).toBeNull();
    writeFileSync(
      join(dir, 'metrics.jsonl'),
      `${lines[0]}\n${lines[1].replace('"best": true', '"best": "yes"')}\n`,
    );
    await expect(readTrainingRun(dir, 'runs/x')).rejects.toThrow(
      'runs/x/metrics.jsonl: line 2: best: Invalid input: expected boolean, received string',
    );
    await expect(readTrainingRun(join(dir, 'none'), 'runs/none')).rejects.toThrow(
      'runs/none/metrics.jsonl: run log not found',
    );
  });
});
