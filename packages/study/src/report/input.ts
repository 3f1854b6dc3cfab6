/**
 * What a study report is made from: the study's declaration (baseline, forward-ablation chain, sweeps, settings) and
 * one record per planned run (variant × seed), finished or not. The planner/executor side of the package produces it
 * (`collectStudyReportInput`); the report side aggregates it (statistics) and renders it. A run that failed or never
 * ran is a record with its status, never left out.
 */
import type { ResultFile } from '@iqa-bench/metrics';

/** Where a planned run stands. `done` has a valid summary and result; `missing` was never started. */
export type StudyRunStatus = 'done' | 'failed' | 'running' | 'queued' | 'missing';

/** One epoch (or evaluation point) of a run's training curve, as its metrics log records it. */
export interface StudyCurvePoint {
  epoch: number;
  /** Mean training loss of the epoch. */
  trainLoss?: number;
  /** Validation SRCC / PLCC after the epoch, when the run validates. */
  valSrcc?: number;
  valPlcc?: number;
}

export interface StudyRunRecord {
  /** Content address of the run: hash of the resolved config, the seed and the dataset manifests. */
  runId: string;
  /** The variant's name as the study file gives it (the baseline included). */
  variant: string;
  seed: number;
  status: StudyRunStatus;
  /** Why the run failed, when it did. */
  error?: string;
  /** The variant's overrides of the base config, by dotted field path (`model.fusion`). Empty for the baseline. */
  overrides: Record<string, unknown>;
  /** The resolved training config the run used (JSON). */
  config: Record<string, unknown>;
  /**
   * The run's evaluation: `datasets[0]` is the in-domain test part of the shared split, the others the study's
   * cross-dataset evaluation sets, in the study file's order. Every entry carries `predictions`, with the same
   * image ids in the same order for every run of the study (the shared split), so runs can be compared pairwise.
   */
  result?: ResultFile;
  /** The training curve (one point per epoch). */
  curve?: StudyCurvePoint[];
  /** The model's size: parameters and GMACs per 224 crop (@iqa-bench/complexity). */
  complexity?: { params: number; gmacs: number };
}

/** A numeric field swept by a list value in the study file (`lr: [1e-7, 5e-7, 1e-6]`). */
export interface StudySweep {
  /** Dotted field path, e.g. `optim.lr`. */
  field: string;
  /** The variants the list expanded into, with the value each one sets, in the file's order. */
  variants: { name: string; value: number }[];
}

export interface StudyReportInput {
  /** The study's name (from the file, or the file's stem). */
  name: string;
  /** The variant every other one is compared with. */
  baseline: string;
  /**
   * Forward-ablation order, from the plainest model to the full one: each step adds one component, and its Δ is
   * against the step before (the original's "share of the total improvement" table). Absent when the study has none.
   */
  chain?: string[];
  seeds: number[];
  sweeps: StudySweep[];
  /**
   * The evaluation settings the page states: patches, crop mode, preprocessing, seeds, split hash, backend and the
   * like, as label → value.
   */
  settings: Record<string, string | number | boolean>;
  /** Every planned run, in plan order (variants in file order, then seeds). */
  runs: StudyRunRecord[];
}
