import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { lockFolder } from '@iqa-bench/core/fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToy, setBackend, toyConfig } from '../__tests__/toy-run.js';
import { diffConfigs, formatConfigDifferences } from '../config.js';
import { readRunConfigFileSync } from '../run-folder/config-file.js';
import { DISCARD_DIR, hashConfig, planRunFolder, RunConflictError } from './folder.js';

const made: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'train-folder-'));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
beforeAll(async () => {
  await setBackend('cpu');
});

/** Every file under `dir` with its bytes (the lock file aside). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name !== '.lock') out[relative(dir, p)] = readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}

class Interrupt extends Error {}
const broken = () => {
  throw new Error('no model today');
};

describe('config differences', () => {
  it('dotted paths with old → new values in field order; a few, then how many more', () => {
    const a = toyConfig();
    const b = toyConfig({
      seed: 12,
      optimizer: { ...a.optimizer, lr: 0.2 },
      loss: { kind: 'plcc' },
      training: { ...a.training, epochs: 4, batchSize: 6 },
      memory: { ...a.memory, workers: 3 },
    });
    const d = diffConfigs(a, b, ['memory.workers']);
    expect(d).toEqual([
      { path: 'seed', old: 11, new: 12 },
      { path: 'optimizer.lr', old: 0.1, new: 0.2 },
      { path: 'loss.kind', old: 'l2', new: 'plcc' },
      { path: 'training.epochs', old: 3, new: 4 },
      { path: 'training.batchSize', old: 8, new: 6 },
    ]);
    expect(formatConfigDifferences(d)).toBe(
      'seed: 11 → 12, optimizer.lr: 0.1 → 0.2, loss.kind: l2 → plcc and 2 more',
    );
    expect(formatConfigDifferences(d.slice(3), 3)).toBe('training.epochs: 3 → 4, training.batchSize: 8 → 6');
    expect(
      formatConfigDifferences(
        diffConfigs({ x: { betas: [0.9, 0.99] } }, { x: { betas: [0.9, 0.999] }, y: null }),
      ),
    ).toBe('x.betas: [0.9,0.99] → [0.9,0.999], y: (none) → null');
  });
});

describe('the run folder', () => {
  it('a run of another config there is refused with the fields that differ', async () => {
    const dir = tmp();
    const cfg = toyConfig({ training: { epochs: 1, batchSize: 8 } });
    await runToy(cfg, dir);
    const other = toyConfig({
      training: { epochs: 2, batchSize: 8 },
      optimizer: { ...cfg.optimizer, lr: 0.05 },
    });
    const before = snapshot(dir);
    const message = `${dir}: the run directory holds a run of a different config (optimizer.lr: 0.1 → 0.05, training.epochs: 1 → 2); use a new run directory or start over`;
    expect(() => planRunFolder(dir, other, false)).toThrow(message);
    await expect(runToy(other, dir)).rejects.toThrow(message);
    await expect(runToy(other, dir)).rejects.toBeInstanceOf(RunConflictError);
    expect(snapshot(dir)).toEqual(before);
    expect(planRunFolder(dir, cfg, false)).toBe('resume');
    expect(planRunFolder(dir, other, true)).toBe('start-over');
    expect(planRunFolder(join(dir, 'new'), cfg, false)).toBe('create');
    // a run in progress holds the folder
    const lock = lockFolder(dir);
    expect(() => planRunFolder(dir, cfg, false)).toThrow(
      `the run folder is in use by process ${process.pid}`,
    );
    lock.release();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    expect(() => planRunFolder(join(dir, 'config.json', 'x'), cfg, false)).toThrow(
      `${join(dir, 'config.json', 'x')}: cannot be made in ${join(dir, 'config.json')}: not a folder`,
    );
  });

  it('a run failing before its first step leaves no folder behind, and a run to resume as it was', async () => {
    const cfg = toyConfig({ training: { epochs: 2, batchSize: 8 } });
    const fresh = join(tmp(), 'run');
    await expect(runToy(cfg, fresh, undefined, undefined, { createModel: broken })).rejects.toThrow(
      'no model today',
    );
    expect(existsSync(fresh)).toBe(false);
    // a folder that existed keeps what it had, and only that
    const own = tmp();
    writeFileSync(join(own, 'notes.txt'), 'mine');
    await expect(runToy(cfg, own, undefined, undefined, { createModel: broken })).rejects.toThrow();
    expect(readdirSync(own)).toEqual(['notes.txt']);
    // a run stopped after epoch 1 (checkpoint), then a resume that fails before its first step
    const dir = tmp();
    await expect(
      runToy(cfg, dir, (s) => {
        if (s.epoch === 1 && s.step === 0) throw new Interrupt('stop');
      }),
    ).rejects.toThrow(Interrupt);
    const before = snapshot(dir);
    expect(Object.keys(before)).toContain('checkpoints/last.ckpt');
    await expect(runToy(cfg, dir, undefined, undefined, { createModel: broken })).rejects.toThrow();
    expect(snapshot(dir)).toEqual(before);
    // the first step done, the folder is the run's: a failure after it leaves a run to resume
    const later = join(tmp(), 'run');
    await expect(
      runToy(cfg, later, (s) => {
        if (s.step === 0) throw new Interrupt('stop');
      }),
    ).rejects.toThrow(Interrupt);
    expect(readRunConfigFileSync(join(later, 'config.json')).configHash).toBe(hashConfig(cfg));
  });

  it('startOver replaces the run of another config: its files go, other files stay, and a crash midway is finished', async () => {
    const dir = tmp();
    const old = toyConfig({ training: { epochs: 1, batchSize: 8, rounds: 2 } });
    await runToy(old, dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const cfg = toyConfig({ training: { epochs: 1, batchSize: 8 } });
    const ref = tmp();
    await runToy(cfg, ref);
    await runToy(cfg, dir, undefined, undefined, { startOver: true });
    expect(readdirSync(dir).sort()).toEqual([
      'checkpoints',
      'config.json',
      'metrics.jsonl',
      'notes.txt',
      'round-0',
      'summary.json',
    ]);
    const files = (d: string) =>
      Object.fromEntries(
        Object.entries(snapshot(d)).filter(([f]) => f.endsWith('.jsonl') || f.endsWith('.params.ckpt')),
      );
    const clean = (d: string) =>
      readFileSync(join(d, 'metrics.jsonl'), 'utf8').replace(/"seconds":[\d.e-]+/g, '"seconds":0');
    expect(clean(dir)).toBe(clean(ref));
    expect(files(dir)['round-0/final.params.ckpt']).toBe(files(ref)['round-0/final.params.ckpt']);

    // starting over, then failing before the first step: the old run is gone (as asked), nothing of the new one stays
    await expect(
      runToy(old, dir, undefined, undefined, { startOver: true, createModel: broken }),
    ).rejects.toThrow('no model today');
    expect(readdirSync(dir)).toEqual(['notes.txt']);

    // a start-over killed after moving some of the old run's entries: the next run finishes it first
    const crashed = tmp();
    await runToy(old, crashed);
    mkdirSync(join(crashed, DISCARD_DIR));
    for (const e of ['config.json', 'checkpoints']) {
      rmSync(join(crashed, e), { recursive: true });
      mkdirSync(join(crashed, DISCARD_DIR, e));
    }
    expect(planRunFolder(crashed, cfg, false)).toBe('start-over');
    await runToy(cfg, crashed);
    expect(existsSync(join(crashed, DISCARD_DIR))).toBe(false);
    expect(existsSync(join(crashed, 'round-1'))).toBe(false);
    expect(clean(crashed)).toBe(clean(ref));
  });
});
