/**
 * `@iqa-bench/core/fs`: the one way iqa-bench writes and reads files.
 *
 * Output is crash-safe and atomic: the bytes go to a temporary file in the target's folder, which is flushed to disk
 * (fsync), renamed over the target, and then the folder itself is flushed, so a reader — or a run resumed after a
 * SIGKILL or a power cut — sees either the previous complete file or the new complete one, never a torn file. When the
 * write fails (a full disk: ENOSPC, a quota: EDQUOT, an I/O error), the temporary file is removed, the previous file
 * is left exactly as it was, and the error says so.
 *
 * Input from untrusted places is read only after a size check, so a huge or endless file is refused instead of
 * exhausting memory.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import {
  DEFAULT_MAX_TEXT_BYTES,
  extensionOf,
  parseStructuredText,
  TextFileError,
  textFormatOf,
  type TextFormat,
} from './text.js';

/** What a file can be written from: UTF-8 text, bytes, or bytes in chunks (written in order). */
export type FileData = string | Uint8Array | readonly Uint8Array[];

/** A file could not be read or written; `file` names it and `code` is the system error code when there is one. */
export class FileError extends Error {
  readonly file: string;
  readonly code: string | undefined;

  constructor(file: string, message: string, code?: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options);
    this.name = 'FileError';
    this.file = file;
    this.code = code;
  }
}

export interface WriteOptions {
  /** Create missing parent folders first (default true). */
  mkdir?: boolean;
}

const SPACE_CODES: Record<string, string> = {
  ENOSPC: 'no space left on the device (ENOSPC)',
  EDQUOT: 'the disk quota is exhausted (EDQUOT)',
  EFBIG: 'the file is too large for the file system (EFBIG)',
};

function chunksOf(data: FileData): readonly Uint8Array[] {
  if (typeof data === 'string') return [Buffer.from(data, 'utf8')];
  return data instanceof Uint8Array ? [data] : data;
}

function tempPath(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The error a failed write reports: what went wrong, and that the previous file (if any) is unchanged. */
function writeFailure(file: string, err: unknown, hadPrevious: boolean): FileError {
  if (err instanceof FileError) return err;
  const code = errnoOf(err);
  const what =
    (code !== undefined ? SPACE_CODES[code] : undefined) ??
    (err instanceof Error ? err.message : String(err));
  const kept = hadPrevious ? 'the previous file is unchanged' : 'no file was written';
  return new FileError(file, `not written: ${what}; ${kept}`, code, { cause: err });
}

function existsSync(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open or fsync a folder; the rename itself is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // As in fsyncDirSync.
  }
}

/** Writes `data` to `file` atomically and durably (see the module comment). */
export async function writeFileAtomic(
  file: string,
  data: FileData,
  options: WriteOptions = {},
): Promise<void> {
  const dir = dirname(file);
  if (options.mkdir !== false) await mkdir(dir, { recursive: true });
  const hadPrevious = await exists(file);
  const tmp = tempPath(file);
  try {
    const fh = await open(tmp, 'wx');
    try {
      for (const c of chunksOf(data)) {
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
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw writeFailure(file, err, hadPrevious);
  }
  await fsyncDir(dir);
}

/** Synchronous `writeFileAtomic`, for code that must not yield between deciding and writing (checkpoints). */
export function writeFileAtomicSync(file: string, data: FileData, options: WriteOptions = {}): void {
  const dir = dirname(file);
  if (options.mkdir !== false) mkdirSync(dir, { recursive: true });
  const hadPrevious = existsSync(file);
  const tmp = tempPath(file);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      for (const c of chunksOf(data)) {
        let off = 0;
        while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw writeFailure(file, err, hadPrevious);
  }
  fsyncDirSync(dir);
}

/** Pretty-printed JSON (two spaces) with a trailing newline. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** `value` as pretty JSON, written atomically. */
export async function writeJsonAtomic(file: string, value: unknown, options?: WriteOptions): Promise<void> {
  await writeFileAtomic(file, jsonText(value), options);
}

/** Synchronous `writeJsonAtomic`. */
export function writeJsonAtomicSync(file: string, value: unknown, options?: WriteOptions): void {
  writeFileAtomicSync(file, jsonText(value), options);
}

function sizeChecked(file: string, size: number, isFile: boolean, maxBytes: number, what: string): void {
  if (!isFile) throw new FileError(file, `${what} is not a regular file`, 'EISDIR');
  if (size > maxBytes) {
    throw new FileError(file, `${what} is ${size} bytes, expected at most ${maxBytes}`, 'E2BIG');
  }
}

function readFailure(file: string, err: unknown, what: string): FileError {
  if (err instanceof FileError) return err;
  const code = errnoOf(err);
  if (code === 'ENOENT') return new FileError(file, `${what} not found`, code, { cause: err });
  return new FileError(file, `${what} could not be read: ${(err as Error).message}`, code, { cause: err });
}

/**
 * Reads a whole file after checking that it is a regular file of at most `maxBytes` bytes. `what` names the file's
 * role in errors ("config file", "checkpoint"). A file that grows or shrinks while being read is refused.
 */
export async function readFileBounded(file: string, maxBytes: number, what = 'file'): Promise<Buffer> {
  try {
    const fh = await open(file, 'r');
    try {
      const st = await fh.stat();
      sizeChecked(file, st.size, st.isFile(), maxBytes, what);
      const buf = Buffer.alloc(st.size);
      let at = 0;
      while (at < buf.length) {
        const { bytesRead } = await fh.read(buf, at, buf.length - at, at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      if (at !== buf.length) throw new FileError(file, `${what} shrank while being read`);
      return buf;
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw readFailure(file, err, what);
  }
}

/** Synchronous `readFileBounded`. */
export function readFileBoundedSync(file: string, maxBytes: number, what = 'file'): Buffer {
  try {
    const fd = openSync(file, 'r');
    try {
      const st = fstatSync(fd);
      sizeChecked(file, st.size, st.isFile(), maxBytes, what);
      const buf = Buffer.alloc(st.size);
      let at = 0;
      while (at < buf.length) {
        const n = readSync(fd, buf, at, buf.length - at, at);
        if (n === 0) break;
        at += n;
      }
      if (at !== buf.length) throw new FileError(file, `${what} shrank while being read`);
      return buf;
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw readFailure(file, err, what);
  }
}

export interface ReadTextOptions {
  /** Refused above this many bytes (default 1 MiB). */
  maxBytes?: number;
  /** Deepest nesting accepted (default 64). */
  maxDepth?: number;
  /** The format; by default from the extension (`.json`, `.yaml`, `.yml`). */
  format?: TextFormat;
  /** The file's role in messages ("config file", "study file"); default "file". */
  what?: string;
}

function formatFor(file: string, options: ReadTextOptions): TextFormat {
  const format = options.format ?? textFormatOf(file);
  if (format === undefined) {
    throw new TextFileError(
      file,
      `expected a .json, .yaml or .yml file, got "${extensionOf(file) || 'no extension'}"`,
    );
  }
  return format;
}

function decode(file: string, bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new TextFileError(file, 'not UTF-8 text');
  }
}

/** Reads a JSON or YAML file (size-checked, depth-checked) as plain data. */
export async function readStructuredFile(file: string, options: ReadTextOptions = {}): Promise<unknown> {
  const format = formatFor(file, options);
  const bytes = await readFileBounded(file, options.maxBytes ?? DEFAULT_MAX_TEXT_BYTES, options.what);
  return parseStructuredText(decode(file, bytes), { file, format, maxDepth: options.maxDepth });
}

/** Synchronous `readStructuredFile`. */
export function readStructuredFileSync(file: string, options: ReadTextOptions = {}): unknown {
  const format = formatFor(file, options);
  const bytes = readFileBoundedSync(file, options.maxBytes ?? DEFAULT_MAX_TEXT_BYTES, options.what);
  return parseStructuredText(decode(file, bytes), { file, format, maxDepth: options.maxDepth });
}

/** A folder is in use by another live process (see `lockFolder`). */
export class FolderLockedError extends FileError {
  readonly pid: number;
  readonly host: string;

  constructor(dir: string, message: string, holder: { pid: number; host: string }) {
    super(dir, message, 'ELOCKED');
    this.name = 'FolderLockedError';
    this.pid = holder.pid;
    this.host = holder.host;
  }
}

/** A held lock; `release()` removes the lock file if it is still this holder's (idempotent). */
export interface FolderLock {
  readonly file: string;
  release(): void;
}

interface LockRecord {
  pid: number;
  host: string;
  started: string;
  /** Tells two locks of one process apart. */
  token?: string;
}

function parseLock(text: string): LockRecord | null {
  try {
    const v = JSON.parse(text) as Partial<LockRecord>;
    if (Number.isInteger(v.pid) && (v.pid as number) > 0 && typeof v.host === 'string') {
      return {
        pid: v.pid as number,
        host: v.host,
        started: String(v.started ?? ''),
        token: String(v.token ?? ''),
      };
    }
  } catch {
    // an unreadable lock file is treated as stale
  }
  return null;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoOf(err) === 'EPERM';
  }
}

/**
 * Takes the lock of folder `dir` for this process: a file `name` (default `.lock`) created exclusively, holding
 * this process's pid, host and start time. A second process asking for the same folder is refused with a
 * FolderLockedError naming the holder's pid (and host). A lock left by a process that no longer runs on this host
 * (killed, crashed) is stale and taken over. A lock held from another host cannot be checked and is never taken
 * over: remove its file by hand once that run is known to be gone.
 */
export function lockFolder(dir: string, options: { name?: string; what?: string } = {}): FolderLock {
  const file = join(dir, options.name ?? '.lock');
  const what = options.what ?? 'folder';
  const host = hostname();
  const mine: LockRecord = {
    pid: process.pid,
    host,
    started: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  mkdirSync(dir, { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, `${JSON.stringify(mine)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          try {
            const now = parseLock(readFileBoundedSync(file, 4096).toString('utf8'));
            if (now !== null && now.token === mine.token && now.pid === mine.pid && now.host === mine.host)
              rmSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST')
        throw new FileError(file, `cannot create the lock file: ${(err as Error).message}`);
    }
    let holder: LockRecord | null = null;
    try {
      holder = parseLock(readFileBoundedSync(file, 4096).toString('utf8'));
    } catch {
      // vanished or unreadable: stale
    }
    if (holder !== null && holder.host !== host) {
      throw new FolderLockedError(
        dir,
        `the ${what} is in use by process ${holder.pid} on host ${holder.host} (since ${holder.started}); if that run is gone, remove ${file}`,
        holder,
      );
    }
    if (holder !== null && processAlive(holder.pid)) {
      throw new FolderLockedError(
        dir,
        `the ${what} is in use by process ${holder.pid} (since ${holder.started}); wait for it to finish or stop it`,
        holder,
      );
    }
    // Stale (its process is gone, or the file is unreadable): take it over.
    rmSync(file, { force: true });
  }
  throw new FileError(file, `the lock of the ${what} keeps changing hands; try again`);
}
