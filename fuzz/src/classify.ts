/** Sorting a reader's error into "clean" (its own, naming the file) and "raw" (anything else). */
import type { OutcomeClass } from './types.js';

/**
 * Messages of exhausted engine resources. Found even inside a clean error type they mean the reader let the input
 * drive it into the limit and caught what blew up (the next input may blow up somewhere nobody catches). A library's
 * ordinary complaint wrapped in the reader's error, with the file and what was expected, counts as clean.
 */
const EXHAUSTION_MESSAGES = [
  /Maximum call stack size exceeded/i,
  /Invalid (typed )?array length/i,
  /Invalid string length/i,
  /Array buffer allocation failed/i,
  /out of memory/i,
];

export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
  /** The system call of a Node system error (`stat`, `open`, ...): such an error escaped the reader unexamined. */
  syscall?: string;
}

/** Plain data about a thrown value (it may not be an Error at all). */
export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) {
    const info: ErrorInfo = { name: err.name, message: String(err.message) };
    if (typeof err.stack === 'string') info.stack = err.stack.split('\n').slice(0, 12).join('\n');
    const syscall = (err as NodeJS.ErrnoException).syscall;
    if (typeof syscall === 'string') info.syscall = syscall;
    return info;
  }
  return { name: `(thrown ${typeof err})`, message: String(err) };
}

/**
 * "clean" when the error's name is one of `cleanNames`, it is not a bare Node system error (ENOENT from a `stat`), its
 * message names a file of the input (some path under `caseDir`) and it does not report an exhausted engine limit;
 * "raw" otherwise. The second element says
 * why an error is raw.
 */
export function classifyError(
  err: ErrorInfo,
  cleanNames: readonly string[],
  caseDir: string,
): { outcome: Extract<OutcomeClass, 'clean' | 'raw'>; why: string } {
  if (!cleanNames.includes(err.name))
    return { outcome: 'raw', why: `${err.name} is not one of ${cleanNames.join(', ')}` };
  if (err.syscall !== undefined)
    return { outcome: 'raw', why: `a system error of ${err.syscall}() escaped the reader` };
  if (!err.message.includes(caseDir)) return { outcome: 'raw', why: 'the message does not name the file' };
  const exhausted = EXHAUSTION_MESSAGES.find((re) => re.test(err.message));
  if (exhausted)
    return { outcome: 'raw', why: `the message reports an exhausted engine limit (${exhausted.source})` };
  return { outcome: 'clean', why: '' };
}

/** The worse of two outcomes (side-effect > crash > hang > raw > clean > parsed). */
export function worse(a: OutcomeClass, b: OutcomeClass): OutcomeClass {
  const rank: OutcomeClass[] = ['parsed', 'clean', 'raw', 'hang', 'crash', 'side-effect'];
  return rank.indexOf(a) >= rank.indexOf(b) ? a : b;
}
