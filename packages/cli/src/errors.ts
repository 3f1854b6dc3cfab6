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

/** What an error is about, beyond its message: the flag and the file it concerns. */
export interface CliErrorOptions {
  cause?: unknown;
  /** The flag whose value is at fault (`--checkpoint`). */
  flag?: string;
  /** The file at fault, as the user named it. */
  file?: string;
}

/**
 * An error the CLI reports as one line (`iqa-bench: error: <message>`) and turns into an exit code.
 * Commands throw it for bad input they detect themselves; errors thrown by the packages are reported the same way.
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly flag: string | undefined;
  readonly file: string | undefined;
  constructor(message: string, exitCode: ExitCode = ExitCode.badInput, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.flag = options.flag;
    this.file = options.file;
  }
}

/**
 * The CLI flag of each limit option of the packages' readers (ReadLimits, ModelCostLimits, DecodeOptions): messages
 * that name the option name the flag instead.
 */
export const LIMIT_FLAGS: Readonly<Record<string, string>> = {
  maxPixels: '--max-pixels',
  maxTensorBytes: '--max-tensor-bytes',
  maxExpansion: '--max-expansion',
  maxParams: '--max-params',
  maxModelBytes: '--max-model-bytes',
};

/**
 * Rewrites of the packages' wording that names their API (options objects, functions) into the command's terms
 * (flags, subcommands). Applied to every message the CLI prints.
 */
const API_TERMS: ReadonlyArray<readonly [RegExp, string | ((...m: string[]) => string)]> = [
  [
    /Use 'auto' or \{ fallback: true \} to fall back to wasm\/cpu\./g,
    'Use --backend auto to fall back to wasm or cpu.',
  ],
  [/\(none: use randomSplit\)/g, "(none: write a split with 'iqa-bench datasets split')"],
  // Floating-point noise (0.8999999999999999, 0.30000000000000004): 12 significant digits at most.
  [/\d+\.\d{10,}/g, (m) => String(Number(Number(m).toPrecision(12)))],
  [/ \(option maxMetadataBytes\)/g, ''],
  [/\(option maxPixels; /g, '(raise it with --max-pixels; '],
  [
    /(?:option )?(?:ReadLimits\.|limits\.)?\b(maxPixels|maxTensorBytes|maxExpansion|maxParams|maxModelBytes)\b/g,
    (_m, name) => LIMIT_FLAGS[name] ?? name,
  ],
];

/** The packages' wording, in the command's terms (see API_TERMS). */
export function inCliTerms(message: string): string {
  let s = message;
  for (const [re, to] of API_TERMS) s = s.replace(re, to as string);
  return s;
}

/**
 * A decoder's reason in one line: libvips reports a JPEG warning once per pass and several lines per failure; keep
 * each distinct line once, the decoder's name ("VipsJpeg: ") once.
 */
export function oneLineReason(reason: string): string {
  const lines = [
    ...new Set(
      reason
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== ''),
    ),
  ];
  if (lines.length <= 1) return lines[0] ?? reason;
  const prefix = /^(\w+): /.exec(lines[0])?.[1];
  if (prefix && lines.every((l) => l.startsWith(`${prefix}: `))) {
    return `${prefix}: ${lines.map((l) => l.slice(prefix.length + 2)).join('; ')}`;
  }
  return lines.join('; ');
}

/** A corrupt image: the file and the decoder's reason, one line (the "expected a readable …" tail dropped). */
function corruptImage(message: string): string | undefined {
  const m = /^([\s\S]*?): cannot decode the image \(([\s\S]*)\); expected a readable [^\n]*$/.exec(message);
  return m ? `${m[1]}: cannot decode the image (${oneLineReason(m[2])})` : undefined;
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
    const text = err.message.trim() || err.name;
    return inCliTerms(corruptImage(text) ?? text);
  }
  return inCliTerms(String(err));
}

/** An error as `--json` prints it on stdout: `{ "error": { code, message, exitCode, file?, flag?, field? } }`. */
export interface ErrorJson {
  schema: typeof ERROR_SCHEMA;
  error: {
    /** What kind of error: a package's code (`corrupt-image`, `ENOENT`, `commander.unknownOption`) or `bad-input`. */
    code: string;
    message: string;
    exitCode: ExitCode;
    file?: string;
    flag?: string;
    /** The field of the file at fault (a column, a JSON path). */
    field?: string;
  };
}

export const ERROR_SCHEMA = 'iqa-bench/error@1';

/** The flag a message starts with or quotes (`--checkpoint x: …`, `option '--patches <n>' argument …`). */
function flagOf(message: string): string | undefined {
  return (/^(--[a-z][\w-]*)/.exec(message) ?? /option '(--[a-z][\w-]*)/.exec(message))?.[1];
}

/** The JSON form of an error (see ErrorJson). `message` is what the CLI printed for it. */
export function errorJson(err: unknown, message: string, exitCode: ExitCode): ErrorJson {
  type Fields = {
    code?: unknown;
    file?: unknown;
    path?: unknown;
    field?: unknown;
    limit?: unknown;
    flag?: unknown;
    name?: unknown;
    cause?: unknown;
  };
  const own = (err ?? {}) as Fields;
  // A CliError wrapping a package's error: the package's code, file and field, unless the CliError names its own.
  const cause = (
    err instanceof CliError && typeof own.cause === 'object' && own.cause !== null ? own.cause : {}
  ) as Fields;
  const e: Fields = {
    ...cause,
    ...Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined)),
  };
  if (err instanceof Error) e.name = err.name === 'CliError' ? cause.name : err.name;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const code =
    str(e.code) ??
    (e.name === 'ModelFileError' ? 'model-file' : undefined) ??
    (exitCode === ExitCode.checkFailed ? 'check-failed' : 'bad-input');
  const limitFlag = typeof e.limit === 'string' ? LIMIT_FLAGS[e.limit] : undefined;
  const flag = str(e.flag) ?? limitFlag ?? flagOf(message);
  const file = str(e.file) ?? str(e.path);
  const field = str(e.field);
  return {
    schema: ERROR_SCHEMA,
    error: {
      code,
      message,
      exitCode,
      ...(file !== undefined ? { file } : {}),
      ...(flag !== undefined ? { flag } : {}),
      ...(field !== undefined ? { field } : {}),
    },
  };
}
