/**
 * ENOSPC injected at the fs layer: the part of the write that fails is the data write itself, as on a real full
 * disk, on every platform (fs.test.ts does the same on a real 64 KiB tmpfs where it can mount one).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as FsModule from 'node:fs';
import type * as FsPromisesModule from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const faults = vi.hoisted(() => ({ full: false }));

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
}

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof FsModule>();
  return {
    ...real,
    writeSync: ((...args: Parameters<typeof real.writeSync>) => {
      if (faults.full) throw enospc();
      return real.writeSync(...args);
    }) as typeof real.writeSync,
  };
});

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromisesModule>();
  return {
    ...real,
    open: (async (...args: Parameters<typeof real.open>) => {
      const fh = await real.open(...args);
      if (!faults.full || !String(args[0]).endsWith('.tmp')) return fh;
      return new Proxy(fh, {
        get(target, key, receiver) {
          if (key === 'write') return () => Promise.reject(enospc());
          const v = Reflect.get(target, key, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    }) as typeof real.open,
  };
});

const { FileError, writeFileAtomic, writeFileAtomicSync } = await import('./fs.js');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iqa-core-fault-'));
  faults.full = false;
});
afterEach(() => {
  faults.full = false;
  rmSync(dir, { recursive: true, force: true });
});

describe.each([
  ['async', writeFileAtomic],
  ['sync', async (f: string, d: string) => writeFileAtomicSync(f, d)],
] as const)('ENOSPC during an atomic write (%s)', (_, write) => {
  it('keeps the previous file, removes the temporary file and says so', async () => {
    const f = join(dir, 'summary.json');
    writeFileSync(f, 'previous');
    faults.full = true;
    const err = await Promise.resolve()
      .then(() => write(f, 'new content'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as Error).message).toBe(
      `${f}: not written: no space left on the device (ENOSPC); the previous file is unchanged`,
    );
    expect(readFileSync(f, 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['summary.json']);
  });

  it('says that no file was written when there was none', async () => {
    const f = join(dir, 'new.json');
    faults.full = true;
    await expect(Promise.resolve().then(() => write(f, 'x'))).rejects.toThrow(
      `${f}: not written: no space left on the device (ENOSPC); no file was written`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});
