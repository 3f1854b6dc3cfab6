import { resolve } from 'node:path';
import { writeJsonAtomic } from '@iqa-bench/core/fs';
import { SingleBar } from 'cli-progress';

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

/** A progress indicator: a bar on a TTY, nothing otherwise (and never with `--quiet` or `--json`). */
export interface Progress {
  tick(n?: number, status?: string): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { tick: () => undefined, stop: () => undefined };

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

  /** Writes the result file named by `--out`, if any (JSON, atomically). Returns the path written. */
  async writeOut(json: unknown): Promise<string | undefined> {
    if (this.flags.out === undefined) return undefined;
    const file = this.path(this.flags.out);
    await writeJsonAtomic(file, json);
    this.log(`wrote ${this.flags.out}`);
    return file;
  }

  /** A progress bar for `total` steps on stderr, only when stderr is a TTY and neither `--quiet` nor `--json`. */
  progress(label: string, total: number): Progress {
    if (this.flags.quiet || this.flags.json || !this.io.stderr.isTTY || total <= 0) return NO_PROGRESS;
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
}
