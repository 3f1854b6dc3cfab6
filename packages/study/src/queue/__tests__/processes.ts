/**
 * Child processes for the tests, each in its own process group and tracked, so that `killAll` (called from afterAll
 * and on process exit, also when a test fails) leaves none behind — PostgreSQL included, as it stays in the group of
 * the process that started it.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const here = import.meta.dirname;
const tracked = new Set<ChildProcess>();

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Everything the child wrote to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Settles with the exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs one of this folder's TypeScript scripts with tsx in a new process group. */
export function spawnScript(script: string, args: readonly string[]): Child {
  const proc = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), resolve(here, script), ...args],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return track(proc);
}

/** Runs a program in a new process group. */
export function spawnProgram(file: string, args: readonly string[]): Child {
  return track(spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
}

function track(proc: ChildProcess): Child {
  if (proc.pid === undefined) throw new Error('spawn failed');
  tracked.add(proc);
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    proc.once('exit', (code, signal) => {
      tracked.delete(proc);
      done({ code, signal });
    });
  });
  return { proc, pid: proc.pid, stdout: () => out, stderr: () => err, exited };
}

/** SIGKILLs the process group of every tracked child. */
export function killAll(): void {
  for (const proc of tracked) {
    try {
      if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  tracked.clear();
}
process.once('exit', killAll);

/** Resolves when `check` returns a value other than undefined; rejects after `timeoutMs` with `what`. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined | Promise<T | undefined>,
) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => done(port));
    });
  });
}
