/** The fuzzer's vocabulary: formats, inputs, outcomes. */
import type { Rng } from './rng.js';

/**
 * What happened to one input, worst first:
 * - `side-effect`: the reader wrote or changed a file, spawned a process or opened a connection;
 * - `crash`: the child died (signal, V8 heap limit, or the parent's memory watchdog);
 * - `hang`: no answer before the deadline (the child is killed);
 * - `raw`: an error that is not one of the reader's own types, or one that does not name the file, or an exhausted
 *   engine limit wrapped in a clean type ("Maximum call stack size exceeded", "Invalid array length");
 * - `clean`: the reader's own error type with a message that names the file;
 * - `parsed`: the reader accepted the input.
 */
export type OutcomeClass = 'parsed' | 'clean' | 'raw' | 'hang' | 'crash' | 'side-effect';

export const OUTCOME_CLASSES: readonly OutcomeClass[] = [
  'parsed',
  'clean',
  'raw',
  'hang',
  'crash',
  'side-effect',
];

/** The outcomes a run must never produce. */
export const BAD_OUTCOMES: readonly OutcomeClass[] = ['raw', 'hang', 'crash', 'side-effect'];

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** How the reader is called: a path inside the case folder and reader options (plain JSON). */
export interface CaseCall {
  /** Path relative to the case folder that the reader is given ('.' for the folder itself). */
  target: string;
  options?: { [key: string]: JsonValue };
}

/** A valid input a format's mutations start from. */
export interface Seed extends CaseCall {
  name: string;
  /** Files relative to the case folder. */
  files: Map<string, Uint8Array>;
  /** A folder (relative to the repository root) copied into the case folder before `files` are written. */
  template?: string;
}

/** One generated input. */
export interface FuzzCase extends Seed {
  /** What was done to the seed, in order. */
  mutations: string[];
}

/** One untrusted file format, its seeds, its mutations and the public reader that consumes it. */
export interface FormatSpec {
  name: string;
  /** One line: which reader, which files. */
  description: string;
  /** Names (`err.name`) of the reader's own error types: a clean refusal is one of these naming the file. */
  cleanErrors: readonly string[];
  /** Loads the reader's modules (before the sandbox is armed: first imports may probe the system). */
  prepare(): Promise<void>;
  /** The seed corpus (valid inputs), built from the repository's own writers and fixtures. */
  seeds(): Promise<Seed[]>;
  /** One mutated input derived from `seed` (`corpus` holds every seed, for splicing). */
  mutate(seed: Seed, rng: Rng, corpus: readonly Seed[]): FuzzCase | Promise<FuzzCase>;
  /** Runs the public reader on the case folder; resolves to a one-line summary of what it read. */
  run(caseDir: string, call: CaseCall): Promise<string>;
}
