/**
 * Errors and problems raised while reading a dataset.
 *
 * Every problem names the file it concerns, the row (1-based, counting the header as row 1 for CSV/XLSX files,
 * the list position for JSON and .mat entries) where there is one, and what was expected.
 */

/** The kinds of problem an adapter or {@link verify} can report. */
export type ProblemCode =
  | 'missing-metadata'
  | 'bad-metadata'
  | 'missing-column'
  | 'bad-score'
  | 'missing-image'
  | 'duplicate-image'
  | 'path-escape'
  | 'corrupt-image'
  | 'too-many-pixels'
  | 'too-small'
  | 'too-large'
  | 'bad-option';

/** One problem found in a dataset folder. */
export interface Problem {
  code: ProblemCode;
  /** The file the problem is about (absolute path). */
  file: string;
  /** 1-based row (CSV/XLSX rows count the header as row 1; JSON and .mat entries count from 1). */
  row?: number;
  /** The column, field or variable concerned. */
  field?: string;
  /** What was found. */
  message: string;
  /** What was expected instead. */
  expected: string;
  /** The image id of the row, when the problem concerns one image (used by the skip option). */
  imageId?: string;
}

/** Renders a problem as one line: `file, row 3, column "MOS": found ...; expected ...`. */
export function formatProblem(p: Problem): string {
  const where = [p.file];
  if (p.row !== undefined) where.push(`row ${p.row}`);
  if (p.field !== undefined) where.push(`"${p.field}"`);
  return `${where.join(', ')}: ${p.message}; expected ${p.expected}`;
}

/** The error thrown for a problem in a dataset or an image file. */
export class DatasetError extends Error {
  readonly code: ProblemCode;
  readonly file: string;
  readonly row: number | undefined;
  readonly field: string | undefined;
  readonly expected: string;
  /** All problems found before stopping (the first one is the message). */
  readonly problems: readonly Problem[];

  constructor(problem: Problem, all: readonly Problem[] = [problem]) {
    const more =
      all.length > 1 ? ` (and ${all.length - 1} more problem(s); run verify() to list them all)` : '';
    super(formatProblem(problem) + more);
    this.name = 'DatasetError';
    this.code = problem.code;
    this.file = problem.file;
    this.row = problem.row;
    this.field = problem.field;
    this.expected = problem.expected;
    this.problems = all;
  }
}

/** Throws a {@link DatasetError} for a single problem. */
export function fail(problem: Problem): never {
  throw new DatasetError(problem);
}
