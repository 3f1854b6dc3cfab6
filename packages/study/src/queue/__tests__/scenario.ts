/**
 * The scenario both backends run: two worker processes take a batch of test jobs, one is SIGKILLed in the middle of a
 * job, and every job must still finish exactly once (its lost job resumed by the other worker from its checkpoint),
 * with the expected bytes and results; enqueueing the batch again adds nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createJob } from '../jobs.js';
import { enqueueRuns, queueStatus, waitForRuns } from '../queue.js';
import type { Child } from './processes.js';
import { spawnScript, until } from './processes.js';
import type { TestPayload } from './test-kind.js';
import { expectedOutput, TEST_KIND } from './test-kind.js';

export function testJob(id: string, payload: TestPayload, paths?: Record<string, string>) {
  return {
    id,
    data: createJob({
      kind: TEST_KIND,
      payload,
      paths: paths ?? { out: `runs/${id}/out.txt`, log: `runs/${id}/log.txt` },
    }),
  };
}

export function jobLog(root: string, id: string): string[] {
  const file = join(root, 'runs', id, 'log.txt');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
}

/** Starts a worker process and waits for its ready line. */
export async function startWorkerProcess(
  url: string,
  queue: string,
  root: string,
  version?: string,
): Promise<Child> {
  const child = spawnScript('worker-child.ts', [
    url,
    queue,
    root,
    ...(version !== undefined ? [version] : []),
  ]);
  await until(`worker ${child.pid} ready`, 30_000, async () => {
    if (child.proc.exitCode !== null) throw new Error(`worker exited early:\n${child.stderr()}`);
    return child.stderr().includes(' ready: ') ? true : undefined;
  });
  return child;
}

export async function killScenario(url: string, queue: string, root: string, count: number) {
  const [a, b] = await Promise.all([
    startWorkerProcess(url, queue, root),
    startWorkerProcess(url, queue, root),
  ]);
  const payloads = Array.from({ length: count }, (_, i) => ({
    text: `run ${i} of ${queue}`,
    steps: 4,
    stepMs: 250,
  }));
  const jobs = payloads.map((p, i) => testJob(`run-${i}`, p));
  const ids = jobs.map((j) => j.id);
  const added = await enqueueRuns(url, queue, jobs);
  expect(added.map((o) => o.action)).toEqual(ids.map(() => 'added'));

  // Kill worker A once it has checkpointed two steps of a job.
  const victim = await until('worker A in the middle of a job', 30_000, () =>
    ids.find((id) => {
      const log = jobLog(root, id);
      return log.includes(`step 2 ${a.pid}`) && !log.includes(`done ${a.pid}`);
    }),
  );
  process.kill(-a.pid, 'SIGKILL');
  expect((await a.exited).signal).toBe('SIGKILL');

  const statuses = await waitForRuns(url, queue, ids, { timeoutMs: 45_000, pollMs: 200 });
  for (const [i, s] of statuses.entries()) {
    const text = expectedOutput(payloads[i]);
    expect(s.state, `${s.id}: ${s.failedReason}`).toBe('completed');
    expect(s.result).toEqual({
      sha256: createHash('sha256').update(text).digest('hex'),
      bytes: Buffer.byteLength(text),
    });
    expect(readFileSync(join(root, 'runs', s.id, 'out.txt'), 'utf8')).toBe(text);
    // Exactly one completed run per id.
    expect(
      jobLog(root, s.id).filter((l) => l.startsWith('done ')),
      s.id,
    ).toHaveLength(1);
  }
  // The killed job: started by A, then restarted by B from A's checkpoint (2 steps or more), finished by B.
  const log = jobLog(root, victim);
  const starts = log.filter((l) => l.startsWith('start '));
  expect(starts).toHaveLength(2);
  expect(starts[0]).toMatch(new RegExp(`^start attempt=1 from=0 ${a.pid}$`));
  const resumed = /^start attempt=2 from=(\d+) (\d+)$/.exec(starts[1]);
  expect(resumed?.[2]).toBe(String(b.pid));
  expect(Number(resumed?.[1])).toBeGreaterThanOrEqual(2);
  expect(log.at(-1)).toBe(`done ${b.pid}`);
  expect(statuses.find((s) => s.id === victim)?.attemptsStarted).toBe(2);
  expect(b.stderr()).toContain(`job ${victim} (${TEST_KIND}) completed`);

  // Enqueueing the finished batch again adds nothing and runs nothing.
  const logsBefore = ids.map((id) => jobLog(root, id));
  const again = await enqueueRuns(url, queue, jobs);
  expect(again.map((o) => `${o.action}:${o.state}`)).toEqual(ids.map(() => 'exists:completed'));
  await new Promise((r) => setTimeout(r, 1000));
  expect(ids.map((id) => jobLog(root, id))).toEqual(logsBefore);
  const status = await queueStatus(url, queue);
  expect(status.counts).toEqual({ waiting: 0, active: 0, completed: count, failed: 0, delayed: 0 });
  expect(status.jobs.map((j) => j.id)).toEqual([...ids].sort());
  return { a, b, victim };
}
