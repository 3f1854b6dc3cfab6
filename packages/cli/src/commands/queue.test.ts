import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { processAlive } from '@iqa-bench/study/queue';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo, TextSink } from '../io.js';
import { runCli } from '../program.js';

class Sink implements TextSink {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

function io(cwd: string): CliIo & { stdout: Sink; stderr: Sink } {
  return { stdout: new Sink(), stderr: new Sink(), cwd };
}

const bin = resolve(import.meta.dirname, '..', 'bin.ts');
const tmp = await mkdtemp(join(tmpdir(), 'iqa-cli-queue-'));
await chmod(tmp, 0o755); // PostgreSQL runs as uid 65534 when the tests run as root
const groups: number[] = [];
afterAll(async () => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await rm(tmp, { recursive: true, force: true });
});

describe('iqa-bench queue serve', () => {
  it('prints the URL as the first line of stdout, logs on stderr, and stops PostgreSQL on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), bin, 'queue', 'serve', '--dir', 'db'],
      {
        cwd: tmp,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    groups.push(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const end = Date.now() + 60_000;
    while (!stdout.includes('\n') && Date.now() < end && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(stdout, stderr).toMatch(/^postgres:\/\/iqa:[A-Za-z0-9_-]{32}@127\.0\.0\.1:\d+\/iqa_bench\n$/);
    const { postgresPid } = JSON.parse(readFileSync(join(tmp, 'db', 'server.json'), 'utf8')) as {
      postgresPid: number;
    };
    expect(processAlive(postgresPid)).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(processAlive(postgresPid)).toBe(false);
    expect(stderr).toContain('PostgreSQL stopped');
  }, 90_000);
});

describe('iqa-bench worker', () => {
  it('exits 2 within seconds when the queue does not answer, naming the URL with its password masked', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      const out = io(tmp);
      const t0 = Date.now();
      expect(await runCli(['worker', '--queue', `redis://:hunter2@127.0.0.1:${port}`], out)).toBe(2);
      expect(Date.now() - t0).toBeLessThan(8000);
      expect(out.stderr.text).toBe(
        `iqa-bench: error: queue redis://:***@127.0.0.1:${port} does not answer (waited at most 5.0 s): no answer within 5000 ms\n`,
      );
    } finally {
      silent.close();
    }
  }, 20_000);

  it('exits 2 on a root folder that does not exist and on a URL of another kind', async () => {
    const a = io(tmp);
    expect(await runCli(['worker', '--queue', 'redis://127.0.0.1:1', '--root', 'missing'], a)).toBe(2);
    expect(a.stderr.text).toBe(`iqa-bench: error: worker root ${join(tmp, 'missing')}: no such folder\n`);
    const b = io(tmp);
    expect(await runCli(['worker', '--queue', 'amqp://u:p@h/'], b)).toBe(2);
    expect(b.stderr.text).toContain('iqa-bench: error: queue URL "amqp://u:***@h/": unknown scheme "amqp:"');
  });
});
