import { readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive, QueueServerError, startQueueServer, UNPRIVILEGED_ID } from './server.js';
import { killAll, spawnScript, until } from './__tests__/processes.js';

const asRoot = process.getuid?.() === 0;

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

function pidFile(dir: string): { pid: number; postgresPid: number; port: number; stoppedAt?: string } {
  return JSON.parse(readFileSync(join(dir, 'server.json'), 'utf8')) as ReturnType<typeof pidFile>;
}

async function serveChild(dir: string) {
  const child = spawnScript('serve-child.ts', [dir]);
  const url = await until('the URL line', 30_000, () => {
    if (child.proc.exitCode !== null) throw new Error(`queue serve exited early:\n${child.stderr()}`);
    const out = child.stdout();
    return out.includes('\n') ? out.split('\n')[0] : undefined;
  });
  return { child, url };
}

describe('startQueueServer / serveQueue (embedded PostgreSQL)', () => {
  let tmp: string;
  let dir: string;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'iqa-serve-'));
    await chmod(tmp, 0o755);
    dir = join(tmp, 'queue');
  });

  afterAll(async () => {
    killAll();
    await rm(tmp, { recursive: true, force: true });
  }, 30_000);

  it('prints the URL first, listens on 127.0.0.1 only, runs unprivileged as root, stops on SIGTERM', async () => {
    const { child, url } = await serveChild(dir);
    expect(url).toMatch(/^postgres:\/\/iqa:[A-Za-z0-9_-]{32}@127\.0\.0\.1:\d+\/iqa_bench$/);
    const rows = await query(
      url,
      "SELECT current_setting('listen_addresses') AS listen, current_setting('unix_socket_directories') AS sockets",
    );
    expect(rows).toEqual([{ listen: '127.0.0.1', sockets: '' }]);
    await query(url, "CREATE TABLE marker AS SELECT 'kept' AS v");
    const pids = pidFile(dir);
    expect(pids.pid).toBe(child.pid);
    expect(processAlive(pids.postgresPid)).toBe(true);
    if (asRoot) {
      expect(statSync(join(dir, 'pgdata')).uid).toBe(UNPRIVILEGED_ID);
      expect(readFileSync(`/proc/${pids.postgresPid}/status`, 'utf8')).toMatch(/^Uid:\s+65534\s/m);
    }
    expect(statSync(join(dir, 'password')).mode & 0o777).toBe(0o600);

    process.kill(child.pid, 'SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(processAlive(pids.postgresPid)).toBe(false);
    expect(pidFile(dir).stoppedAt).toEqual(expect.any(String));
    expect(child.stderr()).toContain('PostgreSQL stopped');

    // The next start reuses the cluster, its password and its port: the same URL, the same data.
    const again = await startQueueServer({ dir });
    try {
      expect(again.url).toBe(url);
      expect(await query(url, 'SELECT v FROM marker')).toEqual([{ v: 'kept' }]);
    } finally {
      await again.stop();
    }
  }, 90_000);

  it('stops a server left behind by a SIGKILLed parent on the next start, and refuses a second live one', async () => {
    const { child, url } = await serveChild(dir);
    const left = pidFile(dir).postgresPid;
    process.kill(child.pid, 'SIGKILL'); // the serving process only: PostgreSQL goes on, re-parented
    await child.exited;
    expect(processAlive(left)).toBe(true);
    expect((await query(url, 'SELECT 1 AS one'))[0]).toEqual({ one: 1 });

    const lines: string[] = [];
    const server = await startQueueServer({ dir, log: (l) => lines.push(l) });
    try {
      expect(lines).toContain(
        `stopping a PostgreSQL (pid ${left}) left running on ${dir} by a process that is gone`,
      );
      expect(processAlive(left)).toBe(false);
      expect(server.url).toBe(url);
      expect(await query(url, 'SELECT v FROM marker')).toEqual([{ v: 'kept' }]);
      // Another process serving the same folder while this one lives is refused, and the running server untouched.
      const second = spawnScript('serve-child.ts', [dir]);
      expect((await second.exited).code).not.toBe(0);
      expect(second.stderr()).toContain(`${server.dir} is already served by process ${process.pid}`);
      expect((await query(url, 'SELECT 1 AS one'))[0]).toEqual({ one: 1 });
    } finally {
      await server.stop();
    }
  }, 90_000);

  it.runIf(asRoot)('as root, names a parent folder that uid 65534 cannot search', async () => {
    const closed = await mkdtemp(join(tmpdir(), 'iqa-closed-')); // mode 0700
    try {
      await mkdir(join(closed, 'q'));
      await expect(startQueueServer({ dir: join(closed, 'q') })).rejects.toThrow(
        new QueueServerError(
          `PostgreSQL runs as uid 65534 when started by root and cannot reach ${join(closed, 'q')}: ${closed} is mode ` +
            `700, not searchable by others (chmod o+x ${closed}, or use a --dir elsewhere)`,
        ),
      );
    } finally {
      await rm(closed, { recursive: true, force: true });
    }
  });
});
