/** Path safety: every file a dataset names must stay inside the dataset root, symlinks included. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fail, type Problem } from '../errors.js';

/** Default upper bound for a metadata file (CSV, JSON, TXT, XLSX, MAT) read into memory. */
export const DEFAULT_MAX_METADATA_BYTES = 256 * 1024 * 1024;

/** Resolves the dataset root to its real path; throws a clear error when it is not a folder. */
export async function realRoot(root: string): Promise<string> {
  const abs = path.resolve(root);
  let real: string;
  try {
    real = await fs.realpath(abs);
  } catch {
    fail({
      code: 'missing-metadata',
      file: abs,
      message: 'the dataset folder does not exist',
      expected: 'an existing folder',
    });
  }
  const st = await fs.stat(real);
  if (!st.isDirectory()) {
    fail({
      code: 'missing-metadata',
      file: abs,
      message: 'not a folder',
      expected: 'the dataset root folder',
    });
  }
  return real;
}

/** True when `child` is `parent` or lies under it (both absolute, normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Checks a relative name from a metadata file (`../x.jpg`, `/etc/x`, `C:\x` and NUL bytes are refused) and returns
 * the absolute path under `dir` (which must be inside `root`), or a problem. Existence is checked separately.
 */
export function joinInside(root: string, dir: string, name: string): string | Omit<Problem, 'file' | 'row'> {
  if (name.length === 0) {
    return { code: 'bad-metadata', message: 'empty image name', expected: 'a file name' };
  }
  if (name.includes('\0')) {
    return {
      code: 'path-escape',
      message: `image name ${JSON.stringify(name)} contains a NUL byte`,
      expected: 'a plain relative file name',
    };
  }
  if (path.isAbsolute(name) || path.win32.isAbsolute(name) || /^[a-zA-Z]:/.test(name)) {
    return {
      code: 'path-escape',
      message: `image path ${JSON.stringify(name)} is absolute`,
      expected: 'a path relative to the dataset folder',
    };
  }
  const full = path.resolve(dir, name.replace(/\\/g, '/'));
  if (!isInside(root, full)) {
    return {
      code: 'path-escape',
      message: `image path ${JSON.stringify(name)} escapes the dataset folder`,
      expected: `a path inside ${root}`,
    };
  }
  return full;
}

/**
 * Checks that an existing file really lies inside `root` after following symlinks.
 * Returns `'missing'`, `'escape'` or `'ok'`.
 */
export async function checkFile(
  root: string,
  file: string,
): Promise<'missing' | 'escape' | 'not-file' | 'ok'> {
  let real: string;
  try {
    real = await fs.realpath(file);
  } catch {
    return 'missing';
  }
  if (!isInside(root, real)) return 'escape';
  const st = await fs.stat(real);
  return st.isFile() ? 'ok' : 'not-file';
}

/** Reads a whole metadata file after checking its size; throws a clear error when missing or too big. */
export async function readBounded(file: string, maxBytes: number, what: string): Promise<Buffer> {
  let size: number;
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    fail({
      code: 'missing-metadata',
      file,
      message: `${what} not found`,
      expected: `the file ${path.basename(file)}`,
    });
  }
  if (size > maxBytes) {
    fail({
      code: 'too-large',
      file,
      message: `${what} is ${size} bytes`,
      expected: `at most ${maxBytes} bytes (option maxMetadataBytes)`,
    });
  }
  return fs.readFile(file);
}

/** True when the path exists (file or folder). */
export async function exists(p: string): Promise<boolean> {
  try {
    await fs.stat(p);
    return true;
  } catch {
    return false;
  }
}
