/** Exit codes of the `iqa-bench` command. */
export const ExitCode = {
  /** The command did what was asked. */
  ok: 0,
  /** A check ran and failed (a regression in `iqa-bench check`, problems found by a verifier). */
  checkFailed: 1,
  /** Bad input or usage: an unknown flag, a missing or malformed file, an error reported by a package. */
  badInput: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error the CLI reports as one line (`iqa-bench: error: <message>`) and turns into an exit code.
 * Commands throw it for bad input they detect themselves; errors thrown by the packages are reported the same way.
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = ExitCode.badInput, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Node's system errors (`ENOENT`, `EACCES`, …) carry a code and a path; say what happened in words. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const sys = err as NodeJS.ErrnoException;
    if (typeof sys.code === 'string' && typeof sys.path === 'string') {
      const what: Record<string, string> = {
        ENOENT: 'no such file or directory',
        EACCES: 'permission denied',
        EISDIR: 'is a directory, expected a file',
        ENOTDIR: 'not a directory',
        EEXIST: 'already exists',
        ENOSPC: 'no space left on device',
        EROFS: 'read-only file system',
      };
      const reason = what[sys.code];
      if (reason !== undefined) return `${sys.path}: ${reason}`;
    }
    return err.message.trim() || err.name;
  }
  return String(err);
}
