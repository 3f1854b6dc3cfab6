import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FileError,
  readFileBounded,
  readFileBoundedSync,
  writeFileAtomic,
  writeFileAtomicSync,
  writeJsonAtomic,
  writeJsonAtomicSync,
} from './fs.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iqa-core-fs-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const writers = [
  ['async', writeFileAtomic],
  ['sync', async (f: string, d: string | Uint8Array | readonly Uint8Array[]) => writeFileAtomicSync(f, d)],
] as const;

describe.each(writers)('atomic write (%s)', (_, write) => {
  it('writes text, bytes and chunks exactly, creating parent folders, leaving no temporary file', async () => {
    const f = join(dir, 'a', 'b', 'out.bin');
    await write(f, 'héllo\n');
    expect(readFileSync(f, 'utf8')).toBe('héllo\n');
    await write(f, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(f)]).toEqual([1, 2, 3]);
    await write(f, [new Uint8Array([9]), new Uint8Array(0), new Uint8Array([8, 7])]);
    expect([...readFileSync(f)]).toEqual([9, 8, 7]);
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['out.bin']);
  });

  it('a failed write names the file, leaves the previous file and no temporary file', async () => {
    const f = join(dir, 'target');
    mkdirSync(f); // renaming a file over a folder fails
    const err = await Promise.resolve()
      .then(() => write(f, 'x'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).file).toBe(f);
    expect((err as Error).message).toMatch(/not written: .*the previous file is unchanged/);
    expect(readdirSync(dir)).toEqual(['target']);
  });
});

it('JSON is written pretty with a trailing newline', async () => {
  await writeJsonAtomic(join(dir, 'a.json'), { a: [1, 2] });
  writeJsonAtomicSync(join(dir, 'b.json'), { a: [1, 2] });
  const text = '{\n  "a": [\n    1,\n    2\n  ]\n}\n';
  expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe(text);
  expect(readFileSync(join(dir, 'b.json'), 'utf8')).toBe(text);
});

describe('bounded reads', () => {
  it('reads a file within the limit and refuses a larger one, a folder and a missing file by name', async () => {
    const f = join(dir, 'x.txt');
    writeFileSync(f, 'abcdef');
    expect((await readFileBounded(f, 6)).toString()).toBe('abcdef');
    expect(readFileBoundedSync(f, 6).toString()).toBe('abcdef');
    await expect(readFileBounded(f, 5, 'config file')).rejects.toThrow(
      `${f}: config file is 6 bytes, expected at most 5`,
    );
    expect(() => readFileBoundedSync(f, 5, 'config file')).toThrow(
      /config file is 6 bytes, expected at most 5/,
    );
    await expect(readFileBounded(dir, 100)).rejects.toThrow(/is not a regular file/);
    expect(() => readFileBoundedSync(dir, 100)).toThrow(/is not a regular file/);
    await expect(readFileBounded(join(dir, 'nope'), 100, 'checkpoint')).rejects.toThrow(
      /checkpoint not found/,
    );
    expect(() => readFileBoundedSync(join(dir, 'nope'), 100)).toThrow(FileError);
  });
});

// A real full disk: a 64 KiB tmpfs, where this machine lets us mount one (root on Linux). The same fault injected at
// the fs layer runs everywhere (fs-fault.test.ts).
function mountSmallDisk(): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const mnt = mkdtempSync(join(tmpdir(), 'iqa-core-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'ignore' });
    return mnt;
  } catch {
    rmSync(mnt, { recursive: true, force: true });
    return undefined;
  }
}

const disk = mountSmallDisk();
afterAll(() => {
  if (disk === undefined) return;
  execFileSync('umount', [disk]);
  rmSync(disk, { recursive: true, force: true });
});

describe.runIf(disk !== undefined)('a disk that fills up (real tmpfs of 64 KiB)', () => {
  it.each(writers)('%s: the previous file stays intact and the error says so', async (_, write) => {
    const f = join(disk!, 'checkpoint.bin');
    const previous = new Uint8Array(16 * 1024).fill(7);
    await write(f, previous);
    const err = await Promise.resolve()
      .then(() => write(f, new Uint8Array(80 * 1024).fill(1)))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).code).toBe('ENOSPC');
    expect((err as Error).message).toBe(
      `${f}: not written: no space left on the device (ENOSPC); the previous file is unchanged`,
    );
    expect(readFileSync(f).equals(Buffer.from(previous))).toBe(true);
    expect(readdirSync(disk!)).toEqual(['checkpoint.bin']);
    rmSync(f);
  });
});
