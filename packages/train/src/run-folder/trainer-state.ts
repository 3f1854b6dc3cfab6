/**
 * The trainer state: where a run stands, saved with the weights and the optimizer moments in every checkpoint
 * (checkpoints/last.ckpt) so that a resumed run continues exactly where the checkpoint left it.
 */
import * as z from 'zod';
import type { EarlyStoppingState } from '../run/stats.js';
import { RunFolderError, validated } from './files.js';
import { roundResultSchema, runMetricsSchema, type RoundResult, type RunMetrics } from './summary.js';

/** The trainer state's format version. */
export const TRAINER_STATE_VERSION = 1;

export interface TrainerState {
  version: typeof TRAINER_STATE_VERSION;
  /** The config's hash (config.json): a checkpoint resumes only the run of the same config. */
  configHash: string;
  round: number;
  epoch: number;
  /** Next step index within `epoch`. */
  step: number;
  /** Optimizer steps done in this round. */
  globalStep: number;
  /** No model exists yet for `round` (checkpoint written at a round boundary). */
  freshRound: boolean;
  /** Sum of loss × samples over the steps of `epoch` done so far. */
  epochLossSum: number;
  early: EarlyStoppingState;
  bestSelect: RunMetrics | null;
  lastSelect: RunMetrics | null;
  epochsRun: number;
  optimizer: {
    kind: 'adam' | 'adamw';
    step: number;
    groups: { name: string; lr: number; weightDecay: number }[];
  } | null;
  /** The finished rounds. */
  rounds: RoundResult[];
  /** Records of metrics.jsonl written up to this state. */
  metricsLines: number;
}

const count = z.number().int().nonnegative();

/** Field order = the order the trainer builds the state in, so a state read back serialises to the same bytes. */
const trainerStateSchema: z.ZodType<TrainerState> = z.object({
  version: z.literal(TRAINER_STATE_VERSION),
  configHash: z.string(),
  round: count,
  epoch: count,
  step: count,
  globalStep: count,
  freshRound: z.boolean(),
  epochLossSum: z
    .number()
    .nullable()
    .transform((v) => v ?? Number.NaN),
  early: z.object({
    best: z.number().nullable(),
    bestEpoch: count.nullable(),
    bad: count,
    stopped: z.boolean(),
  }),
  bestSelect: runMetricsSchema.nullable(),
  lastSelect: runMetricsSchema.nullable(),
  epochsRun: count,
  optimizer: z
    .object({
      kind: z.enum(['adam', 'adamw']),
      step: count,
      groups: z.array(z.object({ name: z.string(), lr: z.number(), weightDecay: z.number() })),
    })
    .nullable(),
  rounds: z.array(roundResultSchema),
  metricsLines: count,
});

/** Validates a trainer state read from a checkpoint; `label` names the checkpoint in errors. */
export function parseTrainerState(value: unknown, label: string): TrainerState {
  const version = (value as { version?: unknown } | null)?.version;
  if (version !== TRAINER_STATE_VERSION) {
    throw new RunFolderError(
      label,
      `trainer state version ${JSON.stringify(version) ?? 'missing'}; this trainer reads version ${TRAINER_STATE_VERSION}`,
    );
  }
  return validated(trainerStateSchema, value, label, 'trainer state');
}
