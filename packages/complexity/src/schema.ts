/**
 * The complexity report's JSON schema (version 1): the zod schema is the single definition; the TypeScript type
 * `ComplexityReport` is inferred from it and `validateComplexityReport` checks untrusted JSON against it.
 * `complexityReportJsonSchema()` gives the same schema as JSON Schema (draft 2020-12) for other tools.
 *
 * Units: parameters are element counts; MACs and FLOPs are absolute counts for the stated input (batch 1 unless
 * `batchSize` says otherwise); times in ms; memory in bytes. Stability: fields are only added in a minor version;
 * renaming or removing a field bumps `schemaVersion`.
 */
import * as z from 'zod';
import { OP_CATEGORIES } from './kernels.js';
import { MODULE_GROUPS } from './modules.js';
import { ATTRIBUTION_METHODS } from './ops.js';

export const SCHEMA_VERSION = 1;

const count = () => z.number().int().nonnegative();
const nonNeg = () => z.number().nonnegative();
const category = z.enum(OP_CATEGORIES);
const group = z.enum(MODULE_GROUPS);
const totals = { calls: count(), macs: count(), flops: count() };

export const environmentSchema = z.strictObject({
  backend: z.string().min(1),
  threads: z.number().int().positive().nullable(),
  tfjsVersion: z.string().min(1),
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  cpu: z.strictObject({ model: z.string(), cores: count() }),
  gpu: z.string().nullable(),
  memoryBytes: count(),
});

export const paramCountSchema = z.strictObject({
  total: count(),
  trainable: count(),
  buffers: count(),
  parameterTensors: count(),
  bufferTensors: count(),
  modules: z.array(
    z.strictObject({
      path: z.string(),
      depth: z.number().int().positive(),
      params: count(),
      buffers: count(),
      tensors: count(),
    }),
  ),
  groups: z.array(z.strictObject({ group, params: count(), buffers: count() })),
});

export const opCountSchema = z.strictObject({
  /** What was traced: `whole` = HyperNet + TargetNet; `hypernet` = backbone, LDA, fusion, HyperNet stack, generators. */
  scope: z.enum(['whole', 'hypernet']),
  batchSize: z.number().int().positive(),
  backend: z.string(),
  kernelCalls: count(),
  macs: count(),
  flops: count(),
  weightMacs: count(),
  activationMacs: count(),
  inputIndependent: z.strictObject(totals).nullable(),
  byCategory: z.array(z.strictObject({ category, ...totals })),
  byKernel: z.array(z.strictObject({ kernel: z.string(), category, ...totals })),
  modules: z.array(z.strictObject({ path: z.string(), depth: z.number().int().positive(), ...totals })),
  groups: z.array(z.strictObject({ group, ...totals, inputIndependentMacs: count() })),
  attribution: z.array(z.strictObject({ method: z.enum(ATTRIBUTION_METHODS), ...totals })),
  uncounted: z.array(z.strictObject({ kernel: z.string(), calls: count() })),
  memory: z.strictObject({ baselineBytes: count(), peakBytes: count() }),
});

export const latencyStatsSchema = z.strictObject({
  batchSize: z.number().int().positive(),
  warmup: count(),
  runs: z.number().int().positive(),
  meanMs: nonNeg(),
  stdMs: nonNeg(),
  minMs: nonNeg(),
  medianMs: nonNeg(),
  p95Ms: nonNeg(),
  maxMs: nonNeg(),
  /** Quartiles; absent in reports written before they were measured. */
  q1Ms: nonNeg().optional(),
  q3Ms: nonNeg().optional(),
});

export const throughputEntrySchema = z.strictObject({
  batchSize: z.number().int().positive(),
  status: z.enum(['ok', 'out-of-memory', 'skipped']),
  imagesPerSecond: nonNeg().optional(),
  /** Median, quartiles and extremes of the per-batch rates; absent in reports written before they were measured. */
  rate: z
    .strictObject({ median: nonNeg(), q1: nonNeg(), q3: nonNeg(), min: nonNeg(), max: nonNeg() })
    .optional(),
  timedBatches: z.number().int().positive().optional(),
  elapsedMs: nonNeg().optional(),
  peakBytes: count().optional(),
  reason: z.string().optional(),
});

export const referenceCheckSchema = z.strictObject({
  /** What is compared, e.g. `params`, `macs`, `backbone+classifier macs`. */
  quantity: z.string().min(1),
  /** Where the reference number comes from. */
  source: z.string().min(1),
  reference: nonNeg(),
  measured: nonNeg(),
  /** (measured - reference) / reference. */
  relativeDifference: z.number(),
  /** Why they differ when the op sets are not the same. */
  note: z.string().optional(),
});

const timingScope = z.enum(['whole', 'hypernet']);

export const modelComplexitySchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  /** NHWC input of one image, e.g. [1, 224, 224, 3]. */
  inputShape: z.array(z.number().int().positive()).length(4),
  params: paramCountSchema,
  /** Whole model (including the TargetNet) and, when the model exposes it, the HyperNet alone. */
  ops: z.strictObject({
    whole: opCountSchema,
    hypernet: opCountSchema.nullable(),
    /**
     * Extra work of the model's first forward (tensors derived from the parameters and cached for later calls);
     * `whole` and `hypernet` count a repeated forward. null when the first forward did not differ.
     */
    firstCallExtra: z.strictObject(totals).nullable(),
  }),
  latency: z.strictObject({ scope: timingScope, stats: latencyStatsSchema }).nullable(),
  throughput: z.strictObject({ scope: timingScope, entries: z.array(throughputEntrySchema) }).nullable(),
  references: z.array(referenceCheckSchema),
  notes: z.array(z.string()),
});

export const complexityReportSchema = z.strictObject({
  schemaVersion: z.literal(SCHEMA_VERSION),
  tool: z.strictObject({ name: z.literal('@iqa-bench/complexity'), version: z.string().min(1) }),
  /** ISO 8601 time the report was made. */
  createdAt: z.iso.datetime(),
  environment: environmentSchema,
  models: z.array(modelComplexitySchema).min(1),
});

export type ComplexityReport = z.infer<typeof complexityReportSchema>;
export type ModelComplexity = z.infer<typeof modelComplexitySchema>;
export type ReferenceCheck = z.infer<typeof referenceCheckSchema>;
export type OpCountRecord = z.infer<typeof opCountSchema>;

/**
 * Checks untrusted data (e.g. parsed JSON) against the schema and returns it typed; throws one error listing every
 * offending field path and what was expected.
 */
export function validateComplexityReport(data: unknown, source = 'complexity report'): ComplexityReport {
  const parsed = complexityReportSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map(
    (i) => `  ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`,
  );
  throw new Error(
    `${source}: not a valid complexity report (schema version ${SCHEMA_VERSION}):\n${lines.join('\n')}`,
  );
}

/** The report schema as a JSON Schema document. */
export function complexityReportJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(complexityReportSchema) as Record<string, unknown>;
}
