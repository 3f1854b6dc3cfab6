/** Where things are: the repository root, relative to this file. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** An absolute path from one relative to the repository root. */
export function repoPath(...parts: string[]): string {
  return resolve(REPO_ROOT, ...parts);
}

/** The committed reproducers, one folder each (`case.json` + `input/`). */
export const REGRESSIONS_DIR = repoPath('fuzz', 'fixtures', 'regressions');
