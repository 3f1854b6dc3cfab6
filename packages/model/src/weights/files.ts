/** File helpers: atomic output (temporary file + fsync + rename) and size-bounded input. */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes `chunks` (in order) to `path` so that readers see either the old file or the complete new one. */
export async function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    try {
      for (const c of chunks) {
        let off = 0;
        while (off < c.byteLength) {
          const { bytesWritten } = await fh.write(c, off, c.byteLength - off);
          off += bytesWritten;
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Reads a whole file after checking its size against `maxBytes` (clear error instead of an out-of-memory). */
export async function readFileBounded(path: string, maxBytes: number): Promise<Uint8Array> {
  const st = await stat(path);
  if (!st.isFile()) throw new Error(`${path}: not a regular file`);
  if (st.size > maxBytes) throw new Error(`${path}: ${st.size} bytes, over the limit of ${maxBytes}`);
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(st.size);
    let at = 0;
    while (at < buf.length) {
      const { bytesRead } = await fh.read(buf, at, buf.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    if (at !== buf.length) throw new Error(`${path}: file shrank while reading`);
    return buf;
  } finally {
    await fh.close();
  }
}
