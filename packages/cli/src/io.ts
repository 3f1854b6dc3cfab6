import { resolve } from 'node:path';
import { writeJsonAtomic } from '@iqa-bench/core/fs';
import { SingleBar } from 'cli-progress';
import { CliError, ExitCode } from './errors.js';

/** A stream the CLI writes text to; `process.stdout` / `process.stderr` fit, and so does a test's collector. */
export interface TextSink {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Where the CLI reads and writes: the process by default, injectable for tests. */
export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
  /** Milliseconds of a monotonic clock (default `performance.now()`); tests drive progress lines with it. */
  readonly now?: () => number;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() };
}

/** The flags every command shares. */
export interface CommonFlags {
  json?: boolean;
  out?: string;
  quiet?: boolean;
  verbose?: boolean;
}

/** A progress indicator: a bar on a TTY, plain lines every few seconds otherwise (never with `--quiet` or `--json`). */
export interface Progress {
  tick(n?: number, status?: string): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { tick: () => undefined, stop: () => undefined };

/** Off a terminal (CI logs), a progress line at most this often. */
export const PROGRESS_LINE_INTERVAL_MS = 5000;

/** `12 s`, `3 min 05 s`, `1 h 02 min`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * What a command prints. Results go to stdout (a table, or only JSON with `--json`); logs, warnings and progress go to
 * stderr so that `--json` output can be piped.
 */
export class Output {
  readonly io: CliIo;
  readonly flags: CommonFlags;

  constructor(io: CliIo, flags: CommonFlags) {
    this.io = io;
    this.flags = flags;
  }

  /** A log line on stderr, unless `--quiet`. */
  log(message: string): void {
    if (!this.flags.quiet) this.io.stderr.write(`${message}\n`);
  }

  /** A warning on stderr, even with `--quiet`. */
  warn(message: string): void {
    this.io.stderr.write(`iqa-bench: warning: ${message}\n`);
  }

  /** Prints a command's result: `text()` by default, or `json` alone on stdout with `--json`. */
  result(json: unknown, text: () => string): void {
    if (this.flags.json) this.io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    else this.io.stdout.write(text().replace(/\n*$/, '\n'));
  }

  /** Resolves a user-given path against the working directory. */
  path(p: string): string {
    return resolve(this.io.cwd, p);
  }

  /**
   * Refuses an `--out` file name whose extension is not one of `extensions` (e.g. `.json`): a command checks it before
   * doing any work, so that `--out scores.txt` does not end in a JSON file named .txt.
   */
  checkOutExtension(extensions: readonly string[]): void {
    const out = this.flags.out;
    if (out === undefined || extensions.some((e) => out.toLowerCase().endsWith(e))) return;
    const list =
      extensions.length === 1
        ? extensions[0]
        : `${extensions.slice(0, -1).join(', ')} or ${extensions.at(-1)}`;
    throw new CliError(`--out ${out}: expected a file name ending in ${list}`, ExitCode.badInput, {
      flag: '--out',
      file: out,
    });
  }

  /** Writes the result file named by `--out`, if any (JSON, atomically), and says so. Returns the path written. */
  async writeOut(json: unknown): Promise<string | undefined> {
    if (this.flags.out === undefined) return undefined;
    const file = this.path(this.flags.out);
    await writeJsonAtomic(file, json);
    this.log(`wrote ${this.flags.out} (JSON)`);
    return file;
  }

  /**
   * Progress over `total` steps on stderr, unless `--quiet` or `--json`: a bar on a TTY; otherwise (CI logs) a plain
   * line such as `predict: 40/120 (33%), 12 s elapsed, about 24 s left` at most every PROGRESS_LINE_INTERVAL_MS, and
   * none for work that ends sooner.
   */
  progress(label: string, total: number, interval = PROGRESS_LINE_INTERVAL_MS): Progress {
    if (this.flags.quiet || this.flags.json || total <= 0) return NO_PROGRESS;
    if (!this.io.stderr.isTTY) return this.progressLines(label, total, interval);
    const bar = new SingleBar({
      stream: this.io.stderr as NodeJS.WritableStream,
      format: `${label} [{bar}] {value}/{total} {percentage}% | ETA {eta_formatted} {status}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 20,
    });
    bar.start(total, 0, { status: '' });
    let done = 0;
    return {
      tick(n = 1, status = '') {
        done += n;
        bar.update(Math.min(done, total), { status });
      },
      stop() {
        bar.stop();
      },
    };
  }

  private progressLines(label: string, total: number, interval: number): Progress {
    const now = this.io.now ?? (() => performance.now());
    const start = now();
    let last = start;
    let done = 0;
    const stderr = this.io.stderr;
    return {
      tick(n = 1) {
        done = Math.min(total, done + n);
        const t = now();
        if (t - last < interval || done === total) return;
        last = t;
        const left = ((t - start) / done) * (total - done);
        stderr.write(
          `${label}: ${done}/${total} (${Math.floor((100 * done) / total)}%), ${duration(t - start)} elapsed, about ${duration(left)} left\n`,
        );
      },
      stop() {
        const t = now();
        // A closing line only when progress lines were printed.
        if (last !== start) stderr.write(`${label}: ${done}/${total} in ${duration(t - start)}\n`);
      },
    };
  }
}
