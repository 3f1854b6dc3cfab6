/**
 * `@iqa-bench/complexity/report`: building a ComplexityReport by hand: the schema (zod) and its version, the tool
 * version, wrapping models into a report, the reference comparisons, the reference model names and LaTeX escaping.
 */
export { complexityReportSchema, SCHEMA_VERSION } from '../schema.js';
export { makeReport, referenceChecks, TOOL_VERSION } from '../analyze.js';
export { REFERENCE_MODELS } from '../references.js';
export { latexEscape } from '../format.js';
