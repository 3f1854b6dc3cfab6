import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderLockedError, lockFolder } from './fs.js';

let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iqa-core-lock-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A second process that takes the lock and holds it until killed; resolves once it holds it. */
async function holderProcess(folder: string): Promise<ChildProcess> {
  const fsModule = new URL('./fs.ts', import.meta.url).pathname;
  const code = `const { lockFolder } = await import(${JSON.stringify(fsModule)}); lockFolder(${JSON.stringify(folder)}, { what: 'run folder' }); console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve();
    });
    child.on('exit', (c) => reject(new Error(`holder exited early (${c})`)));
  });
  return child;
}

describe('lockFolder', () => {
  it('refuses a second process by the holder pid, and takes over the lock of a killed one', async () => {
    const child = await holderProcess(dir);
    let err: unknown;
    try {
      lockFolder(dir, { what: 'run folder' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FolderLockedError);
    expect((err as FolderLockedError).pid).toBe(child.pid);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^${dir}: the run folder is in use by process ${child.pid} \\(since .*\\); wait for it to finish or stop it$`,
      ),
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lock = lockFolder(dir, { what: 'run folder' });
    expect(JSON.parse(readFileSync(lock.file, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
  }, 30_000);

  it('refuses a second lock in the same process until the first is released', () => {
    const a = lockFolder(dir);
    expect(() => lockFolder(dir)).toThrow(FolderLockedError);
    a.release();
    a.release();
    lockFolder(dir).release();
  });

  it('never takes over a lock held from another host, and takes over an unreadable lock file', () => {
    const file = join(dir, '.lock');
    writeFileSync(file, JSON.stringify({ pid: 4242, host: 'other-host', started: '2026-01-01T00:00:00Z' }));
    expect(() => lockFolder(dir, { what: 'study folder' })).toThrow(
      `${dir}: the study folder is in use by process 4242 on host other-host (since 2026-01-01T00:00:00Z); if that run is gone, remove ${file}`,
    );
    writeFileSync(file, 'garbage');
    const lock = lockFolder(dir);
    lock.release();
  });

  it('a release does not remove a lock that another holder took since', () => {
    const a = lockFolder(dir);
    rmSync(a.file);
    const b = lockFolder(dir);
    a.release();
    expect(existsSync(b.file)).toBe(true);
    b.release();
  });
});
