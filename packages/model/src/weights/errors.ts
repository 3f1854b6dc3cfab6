/**
 * The one error type of every reader of untrusted input in this package (torch.save / safetensors weights, TF.js
 * `model.json` and shards, model configs stored in files): the message starts with the file and names the field, and
 * `file`, `field` and `limit` carry the same for programs. Errors from elsewhere (Node's fs, JSON.parse, tfjs,
 * allocation failures) are wrapped at the readers' entry points, with the original as `cause`.
 */
import { PickleError } from '@iqa-bench/core/pickle';
import { fieldPath } from '@iqa-bench/core/text';
import type * as z from 'zod';

export interface ModelFileErrorOptions {
  /** The file (or source name) the input came from. */
  file: string;
  /** The field of the file at fault, e.g. "weightsManifest[0].paths[1]", "backbone.depths[0]", "tensor 'w'". */
  field?: string;
  /** The option that raises the bound that refused the input (e.g. "maxTensorBytes"), when a limit did. */
  limit?: string;
  cause?: unknown;
}

export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
  readonly file: string;
  readonly field: string | null;
  readonly limit: string | null;

  /** `message` is the full text; it should start with the file (see fileError for the usual layout). */
  constructor(message: string, opts: ModelFileErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.file = opts.file;
    this.field = opts.field ?? null;
    this.limit = opts.limit ?? null;
  }
}

/** `<file>: <field>: <detail>` (the field part only when given). */
export function fileError(
  file: string,
  field: string | null,
  detail: string,
  opts: Omit<ModelFileErrorOptions, 'file' | 'field'> = {},
): ModelFileError {
  return new ModelFileError(`${file}: ${field ? `${field}: ` : ''}${detail}`, {
    ...opts,
    file,
    field: field ?? undefined,
  });
}

/** Any thrown value as a ModelFileError naming `file`: itself when it already is one, else wrapped (cause kept). */
export function asModelFileError(err: unknown, file: string, field: string | null = null): ModelFileError {
  if (err instanceof ModelFileError) return err;
  // The unpickler's errors already name the file and the field (the opcode position).
  if (err instanceof PickleError) {
    return new ModelFileError(err.message, { file: err.file, field: err.field ?? undefined, cause: err });
  }
  const text = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  // Node's fs errors: say what happened in words, keep the code.
  const detail =
    code === 'ENOENT'
      ? `no such file or folder (${text})`
      : code === 'EACCES'
        ? `permission denied (${text})`
        : err instanceof RangeError
          ? `too large to read (${text})`
          : text;
  // Messages of this package's helpers already start with the file name.
  if (field === null && detail.startsWith(`${file}: `))
    return new ModelFileError(detail, { file, cause: err });
  return fileError(file, field, detail, { cause: err });
}

/** Runs `fn`; whatever it throws comes out as a ModelFileError naming `file` (and `field`). */
export function withFileErrors<T>(file: string, fn: () => T, field: string | null = null): T {
  try {
    return fn();
  } catch (err) {
    throw asModelFileError(err, file, field);
  }
}

/** The async form of withFileErrors. */
export async function withFileErrorsAsync<T>(
  file: string,
  fn: () => Promise<T>,
  field: string | null = null,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asModelFileError(err, file, field);
  }
}

/** The first problem zod found, as a ModelFileError naming the file and the field (and the value found there). */
export function schemaError(file: string, error: z.ZodError, prefix = '', what = 'field'): ModelFileError {
  const issue = error.issues[0];
  // An unknown key is reported on its object: name the key itself.
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
  const field = fieldPath(path, prefix) || prefix || '(root)';
  const shown =
    'input' in issue && issue.code !== 'unrecognized_keys' && issue.code !== 'invalid_union'
      ? JSON.stringify(issue.input)
      : undefined;
  const got = shown === undefined ? '' : `, got ${shown.length > 60 ? `${shown.slice(0, 60)}...` : shown}`;
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : '';
  return new ModelFileError(`${file}: ${what} '${field}': ${issue.message}${got}${more}`, {
    file,
    field,
    cause: error,
  });
}
