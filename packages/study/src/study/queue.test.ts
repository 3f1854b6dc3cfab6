/**
 * The tiny study through BullMQ on a real PostgreSQL (started by the test) with two worker processes, one SIGKILLed in
 * the middle of a run: the study completes, every run finishes exactly once, and the run folders hold the same bytes
 * as the local executor's. A second `study run` enqueues nothing; a queue that does not answer fails within seconds.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../tools/testing/temp-dir.js';
import { queueStatus } from '../queue/queue.js';
import type { QueueServer } from '../queue/server.js';
import { startQueueServer } from '../queue/server.js';
import { QueueConnectionError } from '../queue/url.js';
import { killAll, spawnScript, until } from '../queue/__tests__/processes.js';
import type { Child } from '../queue/__tests__/processes.js';
import { writeTinyStudy } from './__tests__/fixture.js';
import { runStudyLocal } from './local.js';
import { runStudyQueue } from './queue-run.js';
import { resolveStudy, runDirOf } from './resolve.js';
import { studyState } from './state.js';

const here = import.meta.dirname;
let tmp = '';
let file = '';
let server: QueueServer | undefined;

beforeAll(async () => {
  tmp = tempDir('study-queue-');
  await chmod(tmp, 0o755); // PostgreSQL runs as uid 65534 when the tests run as root
  file = await writeTinyStudy(join(tmp, 'shared'));
  server = await startQueueServer({ dir: join(tmp, 'server') });
}, 90_000);

afterAll(async () => {
  killAll();
  await server?.stop();
  await rm(tmp, { recursive: true, force: true });
}, 30_000);

async function startStudyWorker(url: string, queue: string, root: string): Promise<Child> {
  const child = spawnScript(join(here, '__tests__', 'study-worker-child.ts'), [url, queue, root]);
  await until(`worker ${child.pid} ready`, 60_000, async () => {
    if (child.proc.exitCode !== null) throw new Error(`worker exited early:\n${child.stderr()}`);
    return child.stderr().includes(' ready: ') ? true : undefined;
  });
  return child;
}

function lockPid(runDir: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(runDir, '.study.lock'), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

/** The files two executors must agree on, byte for byte (summary.json without its wall time), as sha256. */
function runBytes(runDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of [
    'result.json',
    'checkpoints/last.ckpt',
    'round-0/best.safetensors',
    'round-0/final.safetensors',
  ]) {
    out[f] = createHash('sha256')
      .update(readFileSync(join(runDir, f)))
      .digest('hex');
  }
  const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as Record<string, unknown>;
  delete summary.wallSeconds;
  out['summary.json'] = createHash('sha256').update(JSON.stringify(summary)).digest('hex');
  return out;
}

describe('a study through BullMQ on PostgreSQL', () => {
  it('two workers, one SIGKILLed mid-run: every run finishes once, with the bytes of the local run', async () => {
    const shared = join(tmp, 'shared');
    const url = server!.url;
    // The local run first, in the study folder the queue then uses (the run folders record their paths), moved aside.
    const local = await resolveStudy(file, join(shared, 'queued'));
    const localRes = await runStudyLocal(local);
    expect(localRes.failed).toEqual([]);
    renameSync(join(shared, 'queued'), join(shared, 'local'));
    const localDir = (runId: string) => runDirOf(join(shared, 'local'), runId);

    const study = await resolveStudy(file, join(shared, 'queued'));
    expect(study.runs.map((r) => r.runId)).toEqual(local.runs.map((r) => r.runId));
    expect((await studyState(study)).map((s) => s.state)).toEqual(Array(6).fill('missing'));
    const [a, b] = [
      await startStudyWorker(url, 'study', shared),
      await startStudyWorker(url, 'study', shared),
    ];
    const events: string[] = [];
    const running = runStudyQueue(study, url, {
      queueName: 'study',
      root: shared,
      pollMs: 200,
      timeoutMs: 180_000,
      onEvent: (e) => events.push(`${e.type}${'spec' in e ? ` ${e.spec.runId}` : ''}`),
    });
    // Kill worker A once it has checkpointed a step of a run it holds.
    const victim = await until('worker A in the middle of a run', 120_000, () =>
      study.runs.find((r) => {
        const d = runDirOf(study.outDir, r.runId);
        return (
          lockPid(d) === a.pid &&
          existsSync(join(d, 'checkpoints', 'last.ckpt')) &&
          !existsSync(join(d, 'study-run.json'))
        );
      }),
    );
    process.kill(-a.pid, 'SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    const res = await running;
    expect(res.failed).toEqual([]);
    expect([...res.trained].sort()).toEqual(study.runs.map((r) => r.runId).sort());
    expect((await studyState(study)).map((s) => s.state)).toEqual(Array(6).fill('done'));

    // Every run completed once: A completed none of the victim, B resumed it; the queue started it twice.
    const completions = (log: string) =>
      [...log.matchAll(/job (r-[0-9a-f]+) \(study-run\) completed/g)].map((m) => m[1]);
    const done = [...completions(a.stderr()), ...completions(b.stderr())].sort();
    expect(done).toEqual(study.runs.map((r) => r.runId).sort());
    expect(completions(a.stderr())).not.toContain(victim.runId);
    const status = await queueStatus(url, 'study', { ids: study.runs.map((r) => r.runId) });
    expect(status.jobs.find((j) => j.id === victim.runId)?.attemptsStarted).toBe(2);
    expect(status.counts).toMatchObject({ completed: 6, failed: 0, active: 0, waiting: 0 });
    expect(events.filter((e) => e.startsWith('done '))).toHaveLength(6);

    // Same bytes as the local executor: weights, checkpoints, predictions, summary.
    for (const r of study.runs) {
      expect(runBytes(runDirOf(study.outDir, r.runId)), `${r.variant}/${r.seed}`).toEqual(
        runBytes(localDir(r.runId)),
      );
    }
    // The victim's metrics log: each epoch once, though two workers trained it.
    const epochs = readFileSync(join(runDirOf(study.outDir, victim.runId), 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l.includes('"kind":"epoch"'));
    expect(epochs).toHaveLength(2);

    // A second study run enqueues and trains nothing.
    const again = await runStudyQueue(await resolveStudy(file, join(shared, 'queued')), url, {
      queueName: 'study',
      root: shared,
    });
    expect(again).toEqual({ trained: [], reused: study.runs.map((r) => r.runId), failed: [] });
    expect(readdirSync(join(shared, 'queued', 'runs'))).toHaveLength(6);

    // A run folder removed to run it again: its completed job is replaced, and only that run trains again.
    const redo = study.runs[3];
    rmSync(runDirOf(study.outDir, redo.runId), { recursive: true });
    const third = await runStudyQueue(study, url, {
      queueName: 'study',
      root: shared,
      pollMs: 200,
      timeoutMs: 120_000,
    });
    expect(third.trained).toEqual([redo.runId]);
    expect(third.reused).toHaveLength(5);
    expect(runBytes(runDirOf(study.outDir, redo.runId))).toEqual(runBytes(localDir(redo.runId)));
    process.kill(b.pid, 'SIGTERM');
    expect((await b.exited).code).toBe(0);
  }, 300_000);

  it('refuses paths outside the queue root before enqueueing anything', async () => {
    const shared = join(tmp, 'shared');
    const study = await resolveStudy(file, join(shared, 'elsewhere'));
    const root = join(tmp, 'other-root');
    await mkdir(root, { recursive: true });
    await expect(runStudyQueue(study, server!.url, { queueName: 'outside', root })).rejects.toThrow(
      /is outside the queue root .*other-root; workers see only paths inside their --root/,
    );
    expect((await queueStatus(server!.url, 'outside')).jobs).toEqual([]);
  }, 60_000);

  it('a queue URL that does not answer fails within seconds', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      const study = await resolveStudy(file, join(tmp, 'shared', 'silent'));
      const t0 = Date.now();
      const err = await runStudyQueue(study, `postgres://iqa:pw@127.0.0.1:${port}/x`, {
        root: join(tmp, 'shared'),
        connectTimeoutMs: 1500,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueueConnectionError);
      expect((err as Error).message).toMatch(/does not answer \(waited at most 1\.5 s\)/);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  }, 30_000);
});
