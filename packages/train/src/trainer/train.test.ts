import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToy, setBackend, toyConfig } from '../__tests__/toy-run.js';
import { readMetricsLogSync } from '../run-folder/metrics-log.js';

const made: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'train-loop-'));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** metrics.jsonl without the wall-clock fields. */
function metricsOf(dir: string): unknown[] {
  return readMetricsLogSync(join(dir, 'metrics.jsonl')).records.map((r) =>
    r.kind === 'epoch' ? { ...r, seconds: 0 } : r,
  );
}
const bytes = (dir: string, f: string) => readFileSync(join(dir, f));

class Interrupt extends Error {}

describe.each(['cpu', 'wasm'])('train on %s', (backend) => {
  beforeAll(async () => {
    await setBackend(backend);
  });
  afterAll(async () => {
    await setBackend('cpu');
  });

  it('two runs of one config give identical per-epoch metrics and byte-identical weights', async () => {
    const cfg = toyConfig({ backend: backend as 'cpu' | 'wasm' });
    const a = tmp();
    const b = tmp();
    const sa = await runToy(cfg, a);
    await runToy(cfg, b);
    expect(metricsOf(b)).toEqual(metricsOf(a));
    expect(JSON.parse(readFileSync(join(a, 'config.json'), 'utf8')).backend).toBe(backend);
    for (const f of ['round-0/best.params.ckpt', 'round-0/final.params.ckpt'])
      expect(bytes(b, f).equals(bytes(a, f))).toBe(true);
    // it learned something real on held-out images
    expect(sa.metrics.srcc.best).toBeGreaterThan(0.5);
    expect(sa.reportedPart).toBe('test');
    expect(sa.n).toEqual({ train: 24, select: 10, test: 12 });
    const lines = metricsOf(a) as { kind: string }[];
    expect(lines.map((l) => l.kind)).toEqual(['epoch', 'epoch', 'epoch', 'round']);
  });

  it('a run interrupted mid-epoch resumes from its checkpoint and ends byte-identical', async () => {
    const cfg = toyConfig({
      backend: backend as 'cpu' | 'wasm',
      training: { epochs: 3, batchSize: 8, checkpointEverySteps: 2 },
    });
    const ref = tmp();
    await runToy(cfg, ref);
    const dir = tmp();
    // interrupt after step 3 of epoch 1 (the last checkpoint was after step 2 of that epoch)
    await expect(
      runToy(cfg, dir, (s) => {
        if (s.epoch === 1 && s.step === 3) throw new Interrupt('stop');
      }),
    ).rejects.toThrow(Interrupt);
    await runToy(cfg, dir);
    expect(metricsOf(dir)).toEqual(metricsOf(ref));
    for (const f of ['round-0/best.params.ckpt', 'round-0/final.params.ckpt'])
      expect(bytes(dir, f).equals(bytes(ref, f))).toBe(true);
  });
});

describe('train (cpu)', () => {
  beforeAll(async () => {
    await setBackend('cpu');
  });

  it('memory stays flat across epochs', async () => {
    const counts: number[] = [];
    await runToy(toyConfig({ training: { epochs: 4, batchSize: 8 } }), tmp(), (s) => {
      if (s.step === s.stepsPerEpoch - 1) counts.push(tf.memory().numTensors);
    });
    expect(counts).toHaveLength(4);
    expect(new Set(counts).size).toBe(1);
  });

  it('with dropout off the micro-batch split changes nothing beyond float rounding', async () => {
    const base = { model: { preset: 'toy', dropoutRate: 0 }, loss: { kind: 'plcc' as const } };
    const a = tmp();
    const b = tmp();
    await runToy(toyConfig({ ...base, memory: { microBatchSize: 8, evalBatchSize: 12 } }), a);
    await runToy(toyConfig({ ...base, memory: { microBatchSize: 3, evalBatchSize: 12 } }), b);
    const ma = metricsOf(a) as { kind: string; loss?: number; val?: { srcc: number; plcc: number } }[];
    const mb = metricsOf(b) as typeof ma;
    ma.forEach((l, i) => {
      if (l.kind !== 'epoch') return;
      expect(Math.abs((l.loss as number) - (mb[i].loss as number))).toBeLessThan(1e-3);
      expect(Math.abs(l.val!.plcc - mb[i].val!.plcc)).toBeLessThan(1e-3);
    });
  });

  it('N rounds: fresh init per round, median and IQR in summary.json', async () => {
    const dir = tmp();
    const s = await runToy(toyConfig({ training: { epochs: 2, batchSize: 8, rounds: 3 } }), dir);
    expect(s.rounds).toBe(3);
    const per = s.perRound.map((r) => r.testBest!.srcc);
    expect(new Set(per).size).toBe(3);
    const sorted = [...per].sort((x, y) => x - y);
    expect(s.metrics.srcc.best).toBe(sorted[1]);
    expect(s.metrics.srcc.bestStats.iqr).toBeCloseTo((sorted[2] - sorted[0]) / 2, 12);
    const onDisk = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(onDisk.metrics.srcc.best).toBe(s.metrics.srcc.best);
    expect(onDisk.seed).toBe(11);
  });

  it('early stopping stops after `patience` epochs without improvement and keeps the best epoch', async () => {
    const dir = tmp();
    // a zero LR never improves after the first epoch
    const s = await runToy(
      toyConfig({
        optimizer: { lr: 1e-12, lrRatio: 1, weightDecay: 0 },
        earlyStopping: { patience: 2 },
        training: { epochs: 6, batchSize: 8 },
      }),
      dir,
    );
    expect(s.perRound[0].epochsRun).toBe(3);
    expect(s.perRound[0].bestEpoch).toBe(1);
  });

  it('refuses to resume a run directory written by a different config', async () => {
    const dir = tmp();
    const cfg = toyConfig({ training: { epochs: 2, batchSize: 8 } });
    await expect(
      runToy(cfg, dir, () => {
        throw new Interrupt('x');
      }),
    ).rejects.toThrow(Interrupt);
    await expect(runToy({ ...cfg, seed: 12 }, dir)).rejects.toThrow(/holds a run of a different config/);
  });
});

/**
 * The toy run in a child process; when its output contains `at`, `onOutput` is called with the child (e.g. to kill
 * it, or to try a second run on the same folder while it holds the lock).
 */
function runChild(
  dir: string,
  cfg: ReturnType<typeof toyConfig>,
  at: string | null,
  onOutput: (child: ChildProcess) => void | Promise<void> = (c) => void c.kill('SIGKILL'),
): Promise<{ killed: boolean; out: string }> {
  const script = fileURLToPath(new URL('../__tests__/toy-run.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir, 'cpu', JSON.stringify(cfg)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let fired = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (at !== null && !fired && out.includes(at)) {
        fired = true;
        Promise.resolve(onOutput(child)).catch(reject);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve({ killed: signal === 'SIGKILL', out });
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

describe('SIGKILL', () => {
  it('a child process killed mid-run resumes and ends byte-identical to an uninterrupted run', async () => {
    await setBackend('cpu');
    const cfg = toyConfig({ training: { epochs: 3, batchSize: 8, checkpointEverySteps: 1 } });
    const ref = tmp();
    await runToy(cfg, ref);
    const dir = tmp();
    const run = (killAt: string | null) => runChild(dir, cfg, killAt);
    const first = await run('step 0 1 1\n');
    expect(first.killed).toBe(true);
    expect(first.out).not.toContain('done');
    expect(existsSync(join(dir, 'checkpoints', 'last.ckpt'))).toBe(true);
    const second = await run(null);
    expect(second.out).toContain('done');
    expect(second.out).not.toContain('step 0 0 0\n');
    expect(metricsOf(dir)).toEqual(metricsOf(ref));
    for (const f of ['round-0/best.params.ckpt', 'round-0/final.params.ckpt'])
      expect(bytes(dir, f).equals(bytes(ref, f))).toBe(true);
  }, 60_000);
});

describe('run folder faults', () => {
  it("a second process on the same run folder is refused by the first one's pid; the folder resumes once it is gone", async () => {
    await setBackend('cpu');
    const cfg = toyConfig({ training: { epochs: 2, batchSize: 8, checkpointEverySteps: 1 } });
    const ref = tmp();
    await runToy(cfg, ref);
    const dir = tmp();
    let refusal: unknown;
    const first = await runChild(dir, cfg, 'step 0 0 1\n', async (child) => {
      refusal = await runToy(cfg, dir).catch((e: unknown) => e);
      child.kill('SIGKILL');
    });
    expect(first.killed).toBe(true);
    expect((refusal as Error).message).toMatch(
      new RegExp(`the run folder is in use by process ${String((refusal as { pid?: number }).pid)} `),
    );
    expect((refusal as { pid?: number }).pid).toBeGreaterThan(0);
    expect((refusal as { pid?: number }).pid).not.toBe(process.pid);
    // The killed process's lock is stale: the next run takes it over, resumes, and ends as an uninterrupted run.
    await runToy(cfg, dir);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    expect(metricsOf(dir)).toEqual(metricsOf(ref));
    for (const f of ['round-0/best.params.ckpt', 'round-0/final.params.ckpt'])
      expect(bytes(dir, f).equals(bytes(ref, f))).toBe(true);
  }, 60_000);

  it('a truncated last checkpoint resumes from the one before it, and ends byte-identical', async () => {
    await setBackend('cpu');
    const cfg = toyConfig({ training: { epochs: 3, batchSize: 8, checkpointEverySteps: 2 } });
    const ref = tmp();
    await runToy(cfg, ref);
    const dir = tmp();
    await expect(
      runToy(cfg, dir, (s) => {
        if (s.epoch === 1 && s.step === 3) throw new Interrupt('stop');
      }),
    ).rejects.toThrow(Interrupt);
    const last = join(dir, 'checkpoints', 'last.ckpt');
    const previous = join(dir, 'checkpoints', 'previous.ckpt');
    expect(existsSync(previous)).toBe(true);
    truncateSync(last, Math.floor(statSync(last).size / 2));
    const lines: string[] = [];
    await runToy(cfg, dir, undefined, (line) => lines.push(line));
    expect(lines.some((l) => l.startsWith(`checkpoint not usable, going one back: ${last}`))).toBe(true);
    expect(lines.some((l) => l.includes(`from ${previous}`))).toBe(true);
    expect(metricsOf(dir)).toEqual(metricsOf(ref));
    for (const f of ['round-0/best.params.ckpt', 'round-0/final.params.ckpt'])
      expect(bytes(dir, f).equals(bytes(ref, f))).toBe(true);
  }, 60_000);

  it('says exactly why it cannot resume when every checkpoint is damaged', async () => {
    await setBackend('cpu');
    const cfg = toyConfig({ training: { epochs: 2, batchSize: 8, checkpointEverySteps: 1 } });
    const dir = tmp();
    await expect(
      runToy(cfg, dir, (s) => {
        if (s.epoch === 0 && s.step === 2) throw new Interrupt('stop');
      }),
    ).rejects.toThrow(Interrupt);
    const last = join(dir, 'checkpoints', 'last.ckpt');
    const previous = join(dir, 'checkpoints', 'previous.ckpt');
    truncateSync(last, 10);
    truncateSync(previous, 0);
    const err = (await runToy(cfg, dir).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^no usable checkpoint to resume from: /);
    expect(err.message).toContain(last);
    expect(err.message).toContain(previous);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  }, 60_000);
});
