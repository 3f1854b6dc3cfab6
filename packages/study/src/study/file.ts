/**
 * The study file (YAML or JSON): a base training config, named variants (overrides of config fields by dotted path; a
 * list value sweeps the field, one variant per value), seeds, the dataset with one shared split, cross-dataset
 * evaluation sets, and what the report compares (baseline, forward-ablation chain). Read within bounds, validated
 * with zod; every error names the file and the field, and an unknown field comes with the closest known one.
 */
import { FileError, readStructuredFileSync } from '@iqa-bench/core/fs';
import { fieldPath, TextFileError } from '@iqa-bench/core/text';
import leven from 'leven';
import { z } from 'zod';

/** Study files larger than this are refused. */
export const MAX_STUDY_FILE_BYTES = 1 << 20;
/** Most variants a study may resolve to (sweeps expanded). */
export const MAX_VARIANTS = 256;
/** Most seeds a study may list. */
export const MAX_SEEDS = 64;

/** A bad study file (or a bad study: unknown override paths, duplicate variants); `problems` lists each. */
export class StudyError extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(message);
    this.name = 'StudyError';
  }
}

/**
 * The closest of `known` to `word` when it is close enough to be a likely typo (a few edits), or the one it
 * abbreviates (`optim` for `optimizer`).
 */
export function suggest(word: string, known: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  if (lower.length >= 3) {
    const prefixed = known.filter((k) => k.toLowerCase().startsWith(lower));
    if (prefixed.length === 1) return prefixed[0];
  }
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = leven(word.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = k;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

const VARIANT_NAME = /^[A-Za-z0-9][A-Za-z0-9._=+-]{0,63}$/;
const datasetRef = z.strictObject({
  /** Adapter key of @iqa-bench/data (`kadid10k`, `koniq10k`, `live`, `csv`, ...). */
  kind: z.enum(['koniq10k', 'spaq', 'kadid10k', 'agiqa3k', 'livec', 'live', 'csiq', 'tid2013', 'csv']),
  /** The dataset folder, relative to the study file. */
  root: z.string().min(1).max(1024),
  /** loadDataset options, as the training config's `dataset.load`. */
  load: z.record(z.string(), z.string()).optional(),
});
export type StudyDatasetRef = z.output<typeof datasetRef>;

const overrideValue = z.union([
  z.string().max(1024),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.union([z.string().max(1024), z.number(), z.boolean(), z.null()])).max(64),
]);

export const studyFileSchema = z.strictObject({
  /** The study's name (default: the file's stem). */
  name: z.string().min(1).max(128).optional(),
  /**
   * The training config every variant starts from: a config object (the @iqa-bench/train schema), the path of a
   * config file (.json / .yaml, relative to the study file), or a recipe name.
   */
  base: z.union([z.string().min(1).max(1024), z.record(z.string(), z.unknown())]),
  /** The dataset the variants train on (default: the base config's), its paths relative to the study file. */
  dataset: datasetRef.optional(),
  /**
   * The one split every run trains and is tested on: a seeded random split (reference-disjoint where the dataset
   * has references) of `train` / `val` fractions, or a split manifest file. Written once as `split.json` in the
   * study's output folder.
   */
  split: z
    .union([
      z.strictObject({
        train: z.number().gt(0).lt(1).default(0.7),
        val: z.number().gt(0).lt(1).default(0.1),
        seed: z.number().int().min(0).default(0),
      }),
      z.strictObject({ manifest: z.string().min(1).max(1024) }),
    ])
    .default({ train: 0.7, val: 0.1, seed: 0 }),
  /** Training seeds: every variant runs once per seed. */
  seeds: z
    .array(
      z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1),
    )
    .min(1)
    .max(MAX_SEEDS),
  /**
   * Named variants: overrides of base config fields by dotted path (`model.fusion: concat`). A list value of a
   * scalar field sweeps it: one variant per value, named `<variant>-<field>=<value>`. `{}` is the base itself.
   */
  variants: z
    .record(
      z.string().regex(VARIANT_NAME, 'expected a name of letters, digits and . _ = + -'),
      z.record(z.string(), overrideValue),
    )
    .refine((v) => Object.keys(v).length > 0, 'expected at least one variant'),
  /** Cross-dataset evaluation sets: every run is also tested on each, whole. */
  eval: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(64),
        kind: datasetRef.shape.kind,
        root: datasetRef.shape.root,
        load: datasetRef.shape.load,
      }),
    )
    .max(16)
    .default([]),
  /** The variant every other one is compared with (default: the first). */
  baseline: z.string().min(1).optional(),
  /** Forward-ablation order: variant names from the plainest model to the full one. */
  chain: z.array(z.string().min(1)).min(2).optional(),
});

export type StudyFile = z.output<typeof studyFileSchema>;
export type StudyFileInput = z.input<typeof studyFileSchema>;

const TOP_FIELDS = Object.keys(studyFileSchema.shape);

function describe(issue: z.core.$ZodIssue, label: string): string {
  const at = fieldPath(issue.path) || '(root)';
  if (issue.code === 'unrecognized_keys') {
    const known =
      issue.path.length === 0
        ? TOP_FIELDS
        : issue.path[0] === 'dataset' || issue.path[0] === 'eval'
          ? ['name', 'kind', 'root', 'load']
          : issue.path[0] === 'split'
            ? ['train', 'val', 'seed', 'manifest']
            : [];
    return `${label}: ${at}: unknown field(s) ${issue.keys
      .map((k) => {
        const s = suggest(k, known);
        return `'${k}'${s !== undefined ? ` (did you mean '${s}'?)` : ''}`;
      })
      .join(', ')}`;
  }
  return `${label}: ${at}: ${issue.message}`;
}

/** Validates a study file's data; `label` names it in errors. */
export function parseStudyFile(data: unknown, label = 'study'): StudyFile {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new StudyError(`${label}: expected a mapping (name, base, variants, seeds, ...)`, [
      `${label}: expected a mapping`,
    ]);
  }
  const res = studyFileSchema.safeParse(data);
  if (!res.success) {
    const problems = res.error.issues.slice(0, 20).map((i) => describe(i, label));
    throw new StudyError(`invalid study file:\n  ${problems.join('\n  ')}`, problems);
  }
  const study = res.data;
  const problems: string[] = [];
  // The baseline and the chain may name variants a sweep expands into: they are checked once the study is resolved.
  if (new Set(study.seeds).size !== study.seeds.length)
    problems.push(`${label}: seeds: a seed is listed twice`);
  const evalNames = study.eval.map((e) => e.name);
  if (new Set(evalNames).size !== evalNames.length) problems.push(`${label}: eval: a name is given twice`);
  if (problems.length > 0) throw new StudyError(`invalid study file:\n  ${problems.join('\n  ')}`, problems);
  return study;
}

/** Reads a study file (.json, .yaml, .yml; at most 1 MiB, plain data) and validates it. */
export function readStudyFile(path: string, label = path): StudyFile {
  let data: unknown;
  try {
    data = readStructuredFileSync(path, { maxBytes: MAX_STUDY_FILE_BYTES, what: 'study file' });
  } catch (err) {
    if (err instanceof TextFileError) {
      const at = err.line === undefined ? '' : `:${err.line}:${err.column}`;
      throw new StudyError(`${label}${at}: ${err.reason}`, [`${label}${at}: ${err.reason}`]);
    }
    if (err instanceof FileError) {
      const reason = err.message.startsWith(`${err.file}: `)
        ? err.message.slice(err.file.length + 2)
        : err.message;
      throw new StudyError(`${label}: ${reason}`, [`${label}: ${reason}`]);
    }
    throw err;
  }
  return parseStudyFile(data, label);
}
