/**
 * Temporary folders for tests that remove themselves: `tempDir(prefix)` makes a folder under the system's temp dir,
 * and every folder made in a test file is removed after that file's tests (pass or fail), so `npm test` leaves
 * nothing behind. Import it from a test file (vitest runs each file with its own module instance).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made = new Set<string>();

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  made.clear();
});

/** A new empty folder `<tmp>/<prefix>XXXXXX`, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}
