/**
 * Crash-safe file output: a reader (or a resumed run after SIGKILL / power loss) sees either the previous complete
 * file or the new complete file, never a torn one. Temp file in the same folder, fsync, rename, fsync the folder.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename itself is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `data` (bytes or UTF-8 text, possibly in chunks) to `path` atomically. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const chunks =
    typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const fd = openSync(tmp, 'wx');
  try {
    try {
      for (const c of chunks) {
        let off = 0;
        while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}

/** Pretty JSON with a trailing newline, written atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomicSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads a JSON file after a size check; errors name the file. */
export function readJsonFile(path: string, maxBytes = 64 << 20): unknown {
  const size = statSync(path).size;
  if (size > maxBytes) throw new Error(`${path}: ${size} bytes, over the limit of ${maxBytes}`);
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * JSON-lines log. Every append rewrites the whole file atomically (logs are one line per epoch, so this stays
 * small), so a kill never leaves a torn line. The reader still tolerates a torn last line (e.g. a file appended by
 * another tool) and reports it instead of failing.
 */
export function appendJsonl(path: string, record: unknown): void {
  let prev = '';
  try {
    prev = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (prev.length > 0 && !prev.endsWith('\n')) prev = prev.slice(0, prev.lastIndexOf('\n') + 1);
  writeFileAtomicSync(path, `${prev}${JSON.stringify(record)}\n`);
}

/** All complete records of a JSON-lines file; a torn (unparseable, unterminated) last line is dropped. */
export function readJsonl(path: string): { records: unknown[]; tornLastLine: boolean } {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const records: unknown[] = [];
  let tornLastLine = false;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const last = i === lines.length - 1;
    try {
      records.push(JSON.parse(line) as unknown);
    } catch (err) {
      if (last) tornLastLine = true;
      else
        throw new Error(
          `${path}:${i + 1}: not valid JSON (${err instanceof Error ? err.message : String(err)})`,
        );
    }
  });
  return { records, tornLastLine };
}

/** Rewrites a JSON-lines file to exactly `records` (used on resume to drop lines written after the checkpoint). */
export function writeJsonl(path: string, records: readonly unknown[]): void {
  writeFileAtomicSync(path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}
