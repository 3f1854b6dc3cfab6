/** Queue URLs: which backend a URL names, and how it is shown in messages (password masked). */

/** The two job stores BullMQ runs on. */
export type QueueBackendKind = 'redis' | 'postgres';

/** A queue URL that is malformed, uses an unknown scheme, or whose server does not answer. */
export class QueueConnectionError extends Error {
  /** The URL with its password masked. */
  readonly url: string;
  constructor(url: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueueConnectionError';
    this.url = url;
  }
}

/** A parsed queue URL. */
export interface QueueUrl {
  readonly kind: QueueBackendKind;
  /** The URL as given (with its password: pass it to the client, never print it). */
  readonly href: string;
  /** The URL with its password replaced by `***`, for messages. */
  readonly masked: string;
}

const SCHEMES: Readonly<Record<string, QueueBackendKind>> = {
  'redis:': 'redis',
  'rediss:': 'redis',
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
};

/** Longest queue URL accepted (a guard against pasting a file into the flag). */
const MAX_URL_LENGTH = 2048;

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`; text that is not a URL is cut and returned. */
export function maskQueueUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.href;
  } catch {
    // Not a URL: hide anything between "//user:" and "@" all the same.
    return url.slice(0, 200).replace(/(\/\/[^/:@]*:)[^@/]*@/, '$1***@');
  }
}

/** Parses a `redis://`, `rediss://`, `postgres://` or `postgresql://` URL; anything else is a QueueConnectionError. */
export function parseQueueUrl(url: string): QueueUrl {
  const masked = maskQueueUrl(url);
  if (url.length > MAX_URL_LENGTH) {
    throw new QueueConnectionError(
      masked,
      `queue URL is ${url.length} characters, expected at most ${MAX_URL_LENGTH}`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueConnectionError(
      masked,
      `queue URL "${masked}" is not a URL; expected redis://host:port or postgres://user:password@host:port/db`,
    );
  }
  const kind = SCHEMES[parsed.protocol];
  if (kind === undefined) {
    throw new QueueConnectionError(
      masked,
      `queue URL "${masked}": unknown scheme "${parsed.protocol}", expected one of ${Object.keys(SCHEMES)
        .map((s) => `${s}//`)
        .join(', ')}`,
    );
  }
  if (parsed.hostname === '') {
    throw new QueueConnectionError(masked, `queue URL "${masked}" names no host`);
  }
  return { kind, href: url, masked };
}
