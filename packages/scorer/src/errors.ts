/** Why a scorer could not be made or used, beyond the errors of the files it reads (those name the file). */
export type ScorerErrorCode = 'runtime-unavailable' | 'bad-option' | 'no-images' | 'closed';

/** An error of `@iqa-bench/scorer` itself: a runtime that is not installed, an option out of range, … */
export class ScorerError extends Error {
  readonly code: ScorerErrorCode;
  /** The option at fault (`runtime`, `crops`, …). */
  readonly option?: string;
  /** The file or folder at fault. */
  readonly file?: string;
  constructor(
    message: string,
    details: { code: ScorerErrorCode; option?: string; file?: string; cause?: unknown },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ScorerError';
    this.code = details.code;
    if (details.option !== undefined) this.option = details.option;
    if (details.file !== undefined) this.file = details.file;
  }
}
