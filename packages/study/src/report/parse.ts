/**
 * Reading a study aggregate back (a baseline for `study report --check`): the JSON is validated field by field, and
 * anything unexpected is an error naming the file and the field.
 */
import { z } from 'zod';
import { STUDY_METRICS, STUDY_REPORT_SCHEMA, type StudyAggregate } from './types.js';

const num = z.number().nullable();
const spread = z.strictObject({
  n: z.number().int().nonnegative(),
  median: num,
  q1: num,
  q3: num,
  min: num,
  max: num,
});
const metricRecord = <T extends z.ZodType>(v: T) =>
  z.strictObject({ srcc: v, plcc: v, krcc: v, rmse: v }) as z.ZodObject<
    Record<(typeof STUDY_METRICS)[number], T>
  >;
const variantMetrics = z.array(z.strictObject({ dataset: z.string(), values: metricRecord(spread) }));
const metric = z.enum(STUDY_METRICS);
const verdict = z.enum(['better', 'worse', 'within noise', 'not compared']);
const status = z.enum(['done', 'failed', 'running', 'queued', 'missing']);
const count = z.number().int().nonnegative();

const aggregateSchema = z.strictObject({
  schema: z.literal(STUDY_REPORT_SCHEMA),
  name: z.string(),
  baseline: z.string(),
  chain: z.array(z.string()).nullable(),
  seeds: z.array(z.number().int()),
  settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  statistics: z.strictObject({
    resamples: count,
    seed: count,
    level: z.number(),
    alpha: z.number(),
    metrics: z.array(metric),
    method: z.string(),
    family: count,
  }),
  datasets: z.array(
    z.strictObject({
      index: count,
      name: z.string(),
      role: z.enum(['in-domain', 'cross-dataset']),
      n: count.nullable(),
      direction: z.enum(['higher-better', 'lower-better']),
    }),
  ),
  variants: z.array(
    z.strictObject({
      name: z.string(),
      overrides: z.record(z.string(), z.unknown()),
      runs: z.strictObject({
        planned: count,
        done: count,
        failed: count,
        running: count,
        queued: count,
        missing: count,
      }),
      state: z.enum(['complete', 'partial', 'no finished run']),
      seedsDone: z.array(z.number().int()),
      metrics: variantMetrics,
    }),
  ),
  comparisons: z.array(
    z.strictObject({
      kind: z.enum(['baseline', 'chain']),
      variant: z.string(),
      reference: z.string(),
      dataset: z.string(),
      metric,
      seeds: z.array(z.number().int()),
      value: num,
      referenceValue: num,
      delta: num,
      lower: num,
      upper: num,
      pValue: num,
      pHolm: num,
      significant: z.boolean(),
      verdict,
      undefinedResamples: count,
      reason: z.string().optional(),
    }),
  ),
  ablation: z.array(
    z.strictObject({
      dataset: z.string(),
      metric,
      seeds: z.array(z.number().int()),
      total: z.strictObject({ delta: num, lower: num, upper: num }),
      steps: z.array(
        z.strictObject({
          variant: z.string(),
          previous: z.string().nullable(),
          value: num,
          delta: num,
          lower: num,
          upper: num,
          share: num,
          shareLower: num,
          shareUpper: num,
          pHolm: num,
          verdict,
        }),
      ),
      reason: z.string().optional(),
    }),
  ),
  sweeps: z.array(
    z.strictObject({
      field: z.string(),
      log: z.boolean(),
      points: z.array(z.strictObject({ variant: z.string(), value: z.number(), metrics: variantMetrics })),
    }),
  ),
  complexity: z.array(
    z.strictObject({ variant: z.string(), params: z.number(), gmacs: z.number(), metrics: variantMetrics }),
  ),
  curves: z.array(
    z.strictObject({
      variant: z.string(),
      runs: count,
      points: z.array(z.strictObject({ epoch: z.number(), trainLoss: num, valSrcc: num, valPlcc: num })),
    }),
  ),
  runs: z.array(
    z.strictObject({
      runId: z.string(),
      variant: z.string(),
      seed: z.number().int(),
      status,
      error: z.string().optional(),
      metrics: z.array(z.strictObject({ dataset: z.string(), srcc: num, plcc: num, krcc: num, rmse: num })),
    }),
  ),
  notes: z.array(z.string()),
});

/** A study aggregate file that is not what the format says; the message names the file and the fields. */
export class StudyAggregateFormatError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'StudyAggregateFormatError';
    this.file = file;
  }
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(top level)';
}

/**
 * Validates a parsed `iqa-bench/study-report@1` JSON value read from `file` (for messages). Throws
 * StudyAggregateFormatError naming up to 10 offending fields.
 */
export function parseStudyAggregate(value: unknown, file: string): StudyAggregate {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const schema = (value as { schema?: unknown }).schema;
    if (schema !== STUDY_REPORT_SCHEMA) {
      throw new StudyAggregateFormatError(
        file,
        `schema: expected "${STUDY_REPORT_SCHEMA}" (a study report written by iqa-bench study report --json or --out), got ${JSON.stringify(schema) ?? 'nothing'}`,
      );
    }
  }
  const res = aggregateSchema.safeParse(value);
  if (!res.success) {
    const issues = res.error.issues.slice(0, 10).map((i) => {
      const at = fieldPath(i.path);
      if (i.code === 'unrecognized_keys')
        return `${at}: unknown field(s) ${i.keys.map((k) => `'${k}'`).join(', ')}`;
      return `${at}: ${i.message}`;
    });
    throw new StudyAggregateFormatError(file, issues.join('; '));
  }
  return res.data as StudyAggregate;
}
