/** The error the scorers give for a model file or an execution provider they cannot use (no Node imports). */
export class OnnxModelError extends Error {
  override readonly name = 'OnnxModelError';
  /** The model file (or URL) at fault, when it is the file. */
  readonly file?: string;
  /** The execution provider at fault, when it is the provider. */
  readonly provider?: string;

  /** `message` is the full text; it starts with the file or names the provider. */
  constructor(message: string, opts: { file?: string; provider?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    if (opts.file !== undefined) this.file = opts.file;
    if (opts.provider !== undefined) this.provider = opts.provider;
  }
}
