import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The repository root, the built CLI, and the CLI's fixtures. */
export const repo = resolve(import.meta.dirname, '..', '..');
export const bin = resolve(repo, 'packages', 'cli', 'dist', 'bin.js');
export const fixtures = resolve(repo, 'test', 'fixtures', 'cli');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `iqa-bench` as a user would (`node packages/cli/dist/bin.js …`), without a TTY. */
export function iqa(
  args: readonly string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? repo,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 110_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
