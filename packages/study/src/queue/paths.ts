/**
 * Path confinement for workers: a job comes from whoever can write to the queue, so every path it names is a path
 * relative to the worker's root folder, and what it resolves to — symbolic links followed — must stay inside that
 * folder. The folder's own contents (written by the people who share it) are trusted; the queue is not.
 */
import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, sep, win32 } from 'node:path';

/** Longest relative path a job may name. */
export const MAX_JOB_PATH_LENGTH = 1024;

/** A path a job names that is malformed or leads outside the worker's root. */
export class PathEscapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathEscapeError';
  }
}

/**
 * The syntactic checks on a root-relative path, without touching the disk. Returns a problem in words, or undefined
 * when the path is acceptable: forward slashes, not absolute (POSIX or Windows), no `..` segment, no NUL, no backslash.
 */
export function relativePathProblem(rel: string): string | undefined {
  if (rel.length === 0) return 'is empty';
  if (rel.length > MAX_JOB_PATH_LENGTH)
    return `is ${rel.length} characters, expected at most ${MAX_JOB_PATH_LENGTH}`;
  if (rel.includes('\0')) return 'contains a NUL character';
  if (rel.includes('\\')) return 'contains a backslash; use forward slashes';
  if (posix.isAbsolute(rel) || win32.isAbsolute(rel) || /^[A-Za-z]:/.test(rel)) {
    return 'is absolute; expected a path relative to the worker root';
  }
  if (rel.split('/').includes('..')) return "contains '..'; expected a path inside the worker root";
  return undefined;
}

function inside(root: string, target: string): boolean {
  if (target === root) return true;
  const rel = relative(root, target);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Resolves `rel` against `root` (which must exist) and returns the absolute path, with the symbolic links of its
 * existing part resolved, after checking that it stays inside `root`'s real path. A path whose tail does not exist
 * yet (an output to write) is accepted when its existing part is inside. `what` names the path in errors.
 */
export async function confinePath(root: string, rel: string, what = 'path'): Promise<string> {
  const problem = relativePathProblem(rel);
  if (problem !== undefined) throw new PathEscapeError(`${what} "${rel.slice(0, 200)}" ${problem}`);
  const realRoot = await realpath(root);
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  // The longest existing prefix is resolved by realpath (following every link in it); the rest does not exist yet.
  let existing = parts.length;
  while (existing > 0 && !(await exists(join(realRoot, ...parts.slice(0, existing))))) existing--;
  let resolved: string;
  try {
    resolved = await realpath(join(realRoot, ...parts.slice(0, existing)));
  } catch (err) {
    // A dangling link: where it points cannot be known safely.
    throw new PathEscapeError(`${what} "${rel}" cannot be resolved: ${(err as Error).message}`);
  }
  if (!inside(realRoot, resolved)) {
    throw new PathEscapeError(`${what} "${rel}" leads outside the worker root ${realRoot} (to ${resolved})`);
  }
  return join(resolved, ...parts.slice(existing));
}
