/** What the run-folder formats share: their error, bounded reading under a display name, and schema validation. */
import { FileError, readFileBounded, readFileBoundedSync } from '@iqa-bench/core/fs';
import { parseStructuredText, TextFileError } from '@iqa-bench/core/text';
import type * as z from 'zod';
import { describeIssue } from '../config.js';

/** A run-folder file could not be read or is not in its format; `file` names it as the caller shows it. */
export class RunFolderError extends Error {
  readonly file: string;

  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`${file}: ${reason}`, options);
    this.name = 'RunFolderError';
    this.file = file;
  }
}

/** Files of a run folder larger than this are refused (a metrics.jsonl of 10,000 epochs is ~3 MB). */
export const MAX_RUN_FILE_BYTES = 64 << 20;

function renamed(err: unknown, label: string): unknown {
  if (!(err instanceof FileError)) return err;
  const reason = err.message.startsWith(`${err.file}: `)
    ? err.message.slice(err.file.length + 2)
    : err.message;
  return new RunFolderError(label, reason, { cause: err });
}

/** The UTF-8 text of `file` (at most MAX_RUN_FILE_BYTES); errors name it `label`. */
export async function readRunText(file: string, label: string, what: string): Promise<string> {
  try {
    return (await readFileBounded(file, MAX_RUN_FILE_BYTES, what)).toString('utf8');
  } catch (err) {
    throw renamed(err, label);
  }
}

/** Synchronous `readRunText`. */
export function readRunTextSync(file: string, label: string, what: string): string {
  try {
    return readFileBoundedSync(file, MAX_RUN_FILE_BYTES, what).toString('utf8');
  } catch (err) {
    throw renamed(err, label);
  }
}

/** JSON text as a value; a RunFolderError naming `label` when it is not JSON. */
export function parseJson(text: string, label: string): unknown {
  try {
    // Depth-bounded: a value nested thousands deep is refused here, before any recursive validation or message.
    return parseStructuredText(text, { file: label, format: 'json' });
  } catch (err) {
    const why =
      err instanceof TextFileError ? err.reason.replace(/^not valid JSON: /, '') : (err as Error).message;
    throw new RunFolderError(label, `not valid JSON (${why})`);
  }
}

/** `value` checked against `schema`; a RunFolderError naming `label` and every offending field otherwise. */
export function validated<T>(schema: z.ZodType<T>, value: unknown, label: string, what: string): T {
  const res = schema.safeParse(value);
  if (!res.success) {
    throw new RunFolderError(label, `not a valid ${what}: ${res.error.issues.map(describeIssue).join('; ')}`);
  }
  return res.data;
}
