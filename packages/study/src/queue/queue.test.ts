import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJob, JobKindRegistry, STUDY_VERSION } from './jobs.js';
import { enqueueRuns, queueStatus, waitForRuns } from './queue.js';
import type { QueueServer } from './server.js';
import { startQueueServer } from './server.js';
import { QueueConnectionError } from './url.js';
import { startJobWorker, startWorker } from './worker.js';
import { killAll, until } from './__tests__/processes.js';
import { jobLog, killScenario, startWorkerProcess, testJob } from './__tests__/scenario.js';
import { registerTestKind, TEST_KIND } from './__tests__/test-kind.js';

describe('BullMQ on an embedded PostgreSQL, worker processes', () => {
  let tmp: string;
  let server: QueueServer | undefined;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'iqa-queue-'));
    await chmod(tmp, 0o755); // PostgreSQL runs as uid 65534 when the tests run as root
    server = await startQueueServer({ dir: join(tmp, 'server') });
  }, 60_000);

  afterAll(async () => {
    killAll();
    await server?.stop();
    await rm(tmp, { recursive: true, force: true });
  }, 30_000);

  it('worker processes: a SIGKILLed one loses its job to another, SIGTERM releases a job, a lost lock aborts the handler; every job finishes once', async () => {
    const url = server!.url;
    const root = join(tmp, 'root');
    await mkdir(root);
    const { b } = await killScenario(url, 'kill', root, 5);

    // A worker stopped by SIGTERM releases its job at once; another worker resumes it from the checkpoint.
    process.kill(b.pid, 'SIGTERM');
    expect((await b.exited).code).toBe(0);
    const c = await startWorkerProcess(url, 'kill', root);
    const long = testJob('long', { text: 'long', steps: 12, stepMs: 200 });
    await enqueueRuns(url, 'kill', [long]);
    await until('worker C at step 2', 20_000, () =>
      jobLog(root, 'long').includes(`step 2 ${c.pid}`) ? true : undefined,
    );
    process.kill(c.pid, 'SIGTERM');
    expect((await c.exited).code).toBe(0);
    expect(c.stderr()).toMatch(/job long \(test-write\) released after [\d.]+ s: the worker is stopping/);
    expect((await queueStatus(url, 'kill', { ids: ['long'] })).jobs[0].state).toBe('waiting');
    const d = await startWorkerProcess(url, 'kill', root);
    const [done] = await waitForRuns(url, 'kill', ['long'], { timeoutMs: 20_000, pollMs: 100 });
    expect(done.state).toBe('completed');
    const log = jobLog(root, 'long');
    expect(log.filter((l) => l.startsWith('done '))).toEqual([`done ${d.pid}`]);
    // D resumes where C stopped: from C's last checkpointed step.
    const lastOfC = log.filter((l) => /^step \d+ /.test(l) && l.endsWith(` ${c.pid}`)).at(-1);
    expect(log).toContain(`stop step=${lastOfC?.split(' ')[1]} ${c.pid}`);
    expect(log).toContain(`start attempt=2 from=${lastOfC?.split(' ')[1]} ${d.pid}`);
    expect(readFileSync(join(root, 'runs', 'long', 'out.txt'), 'utf8')).toBe('long\n'.repeat(12));

    // A worker whose event loop is blocked past the lock duration loses its job to another worker (here one in this
    // process) and, once it runs again, fails to renew the lock and aborts its handler: the job still runs to its end
    // once.
    const blocked = testJob('blocked', { text: 'blocked', steps: 6, stepMs: 250, blockMs: 5000 });
    await enqueueRuns(url, 'kill', [blocked]);
    await until('worker D blocked in the job', 20_000, () =>
      jobLog(root, 'blocked').includes(`start attempt=1 from=0 ${d.pid}`) ? true : undefined,
    );
    const registry = new JobKindRegistry();
    registerTestKind(registry);
    const thief = await startJobWorker(url, 'kill', {
      root,
      registry,
      lockDurationMs: 2000,
      stalledIntervalMs: 500,
      maxStalledCount: 1,
    });
    try {
      const [b2] = await waitForRuns(url, 'kill', ['blocked'], { timeoutMs: 30_000, pollMs: 100 });
      expect(b2).toMatchObject({ state: 'completed', attemptsStarted: 2 });
      await until('worker D to stop its handler', 10_000, () =>
        /job blocked \(test-write\) stopped after [\d.]+ s: its lock was lost/.test(d.stderr())
          ? true
          : undefined,
      );
      const blog = jobLog(root, 'blocked');
      expect(blog.filter((l) => l.startsWith('done '))).toEqual([`done ${process.pid}`]);
      expect(blog).toContain(`start attempt=2 from=0 ${process.pid}`);
      expect(blog.some((l) => l.startsWith('stop step=') && l.endsWith(` ${d.pid}`))).toBe(true);
      expect(d.stderr()).toContain('worker error: could not renew lock for job blocked');
    } finally {
      await thief.close();
    }
    process.kill(d.pid, 'SIGTERM');
    expect((await d.exited).code).toBe(0);
  }, 120_000);

  it('refuses, without writing, jobs of another version, paths outside the root, unknown kinds and invalid payloads', async () => {
    const url = server!.url;
    const root = join(tmp, 'confined');
    const outside = join(tmp, 'outside');
    await mkdir(join(root, 'runs'), { recursive: true });
    await mkdir(outside);
    symlinkSync(outside, join(root, 'runs', 'link'));
    writeFileSync(join(outside, 'victim.txt'), 'untouched\n');
    const payload = { text: 'x', steps: 1, stepMs: 0 };
    const bad = [
      {
        id: 'other-version',
        data: createJob({
          kind: TEST_KIND,
          payload,
          version: '9.9.9',
          paths: { out: 'runs/v/out.txt', log: 'runs/v/log.txt' },
        }),
      },
      testJob('dotdot', payload, { out: '../outside/escape.txt', log: 'runs/dotdot/log.txt' }),
      testJob('absolute', payload, { out: join(outside, 'abs.txt'), log: 'runs/absolute/log.txt' }),
      testJob('symlink', payload, { out: 'runs/link/victim.txt', log: 'runs/symlink/log.txt' }),
      testJob('symlink-dir', payload, { out: 'runs/symlink-dir/out.txt', log: 'runs/link/log.txt' }),
      { id: 'unknown-kind', data: createJob({ kind: 'rm-rf', payload, paths: {} }) },
      testJob('bad-payload', { ...payload, command: 'touch /tmp/pwned' } as typeof payload),
      testJob('extra-path', payload, { out: 'runs/e/out.txt', log: 'runs/e/log.txt', model: 'm.bin' }),
      { id: 'not-a-job', data: { kind: TEST_KIND, payload } },
    ];
    const worker = await startWorkerProcess(url, 'refuse', root);
    await enqueueRuns(url, 'refuse', bad);
    const statuses = await waitForRuns(
      url,
      'refuse',
      bad.map((j) => j.id),
      { timeoutMs: 30_000, pollMs: 100 },
    );
    const reasons = Object.fromEntries(statuses.map((s) => [s.id, `${s.state}: ${s.failedReason}`]));
    expect(reasons['other-version']).toMatch(
      new RegExp(
        `^failed: refused by worker .*: made by iqa-bench 9\\.9\\.9, but this worker runs iqa-bench ${STUDY_VERSION.replace(/\./g, '\\.')}`,
      ),
    );
    expect(reasons.dotdot).toContain(`paths.out "../outside/escape.txt" contains '..'`);
    expect(reasons.absolute).toContain('is absolute; expected a path relative to the worker root');
    expect(reasons.symlink).toMatch(/paths\.out "runs\/link\/victim.txt" leads outside the worker root/);
    expect(reasons['symlink-dir']).toMatch(/paths\.log "runs\/link\/log.txt" leads outside the worker root/);
    expect(reasons['unknown-kind']).toContain(`unknown job kind "rm-rf"; this worker runs "${TEST_KIND}"`);
    expect(reasons['bad-payload']).toContain(
      `invalid "${TEST_KIND}" job: payload: unknown field(s) 'command'`,
    );
    expect(reasons['extra-path']).toContain(`paths: unknown 'model'`);
    expect(reasons['not-a-job']).toContain('not an iqa-bench job');
    for (const s of statuses) expect(s.state).toBe('failed');
    // Nothing written: no run folder, the outside folder as it was.
    expect(existsSync(join(root, 'runs', 'v'))).toBe(false);
    for (const id of ['dotdot', 'absolute', 'symlink', 'symlink-dir', 'bad-payload']) {
      expect(existsSync(join(root, 'runs', id)), id).toBe(false);
    }
    expect(readFileSync(join(outside, 'victim.txt'), 'utf8')).toBe('untouched\n');
    expect(existsSync(join(outside, 'log.txt'))).toBe(false);
    expect(existsSync(join(tmp, 'outside', 'escape.txt'))).toBe(false);
    expect(worker.stderr()).toContain('job other-version (test-write) refused: made by iqa-bench 9.9.9');

    // A failed job is put back when enqueued again (fixed worker or not), never duplicated.
    const again = await enqueueRuns(url, 'refuse', [bad[0]]);
    expect(again).toEqual([
      { id: 'other-version', action: 'retried', state: expect.stringMatching(/waiting|active|failed/) },
    ]);
    process.kill(worker.pid, 'SIGTERM');
    expect((await worker.exited).code).toBe(0);
  }, 60_000);

  it('returns the handler result in-process and keeps the lock of a job longer than lockDuration', async () => {
    const url = server!.url;
    await enqueueRuns(url, 'slow', [{ id: 'slow-1', data: { n: 21 } }]);
    const worker = await startWorker(
      url,
      'slow',
      async (job) => {
        await new Promise((r) => setTimeout(r, 2500)); // > 2 lock durations of 1 s
        return { double: (job.data as { n: number }).n * 2, attempt: job.attempt };
      },
      { lockDurationMs: 1000, stalledIntervalMs: 500, maxStalledCount: 0 },
    );
    try {
      const [s] = await waitForRuns(url, 'slow', ['slow-1'], { timeoutMs: 20_000, pollMs: 100 });
      expect(s).toMatchObject({ state: 'completed', result: { double: 42, attempt: 1 }, attemptsStarted: 1 });
    } finally {
      await worker.close();
    }
  }, 30_000);
});

describe('a queue URL that does not answer', () => {
  it('fails within the connect timeout, naming the URL with its password masked', async () => {
    const silent = createServer(() => undefined); // accepts connections, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      for (const url of [
        `postgres://iqa:s3cret@127.0.0.1:${port}/iqa_bench`,
        `redis://:s3cret@127.0.0.1:${port}`,
      ]) {
        const t0 = Date.now();
        const err = await enqueueRuns(url, 'q', [{ id: 'a', data: {} }], { connectTimeoutMs: 1500 }).catch(
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(QueueConnectionError);
        expect((err as Error).message).toMatch(
          /^queue (postgres|redis):\/\/(iqa)?:\*\*\*@127\.0\.0\.1:\d+.* does not answer \(waited at most 1\.5 s\)/,
        );
        expect((err as Error).message).not.toContain('s3cret');
        expect(Date.now() - t0).toBeLessThan(4000);
      }
    } finally {
      silent.close();
    }
    // A closed port fails at once, with the default timeout too.
    const t0 = Date.now();
    await expect(startWorker('postgres://iqa:pw@127.0.0.1:1/x', 'q', async () => null)).rejects.toThrow(
      /^queue postgres:\/\/iqa:\*\*\*@127\.0\.0\.1:1\/x does not answer .*ECONNREFUSED/,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 20_000);
});
