/**
 * config.json: how a run was made. The resolved config and its hash (a run folder belongs to one config: a resumed
 * run must have the same hash), the package versions, the TensorFlow.js backend, the data's provenance and sizes, and
 * whatever the caller adds about the environment (what the backend selection reported).
 */
import { writeJsonAtomicSync } from '@iqa-bench/core/fs';
import * as z from 'zod';
import { trainConfigSchema, type TrainConfig } from '../config.js';
import { parseJson, readRunTextSync, validated } from './files.js';

/** config.json's name in a run folder. */
export const CONFIG_FILE = 'config.json';

export interface RunConfigFile {
  config: TrainConfig;
  /** sha256 (hex) of everything the numbers depend on. */
  configHash: string;
  /** The TensorFlow.js backend the run used. */
  backend: string;
  /** Versions of the iqa-bench packages and of tfjs-core. */
  packages: Record<string, string>;
  data: {
    /** The split's provenance (manifest path, hash, …), when the data says. */
    description: Record<string, unknown> | null;
    n: { train: number; select: number; test: number | null };
  };
  environment: Record<string, unknown>;
}

const count = z.number().int().nonnegative();

const configFileSchema: z.ZodType<RunConfigFile> = z.object({
  config: trainConfigSchema,
  configHash: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex'),
  backend: z.string(),
  packages: z.record(z.string(), z.string()),
  data: z.object({
    description: z.record(z.string(), z.unknown()).nullable(),
    n: z.object({ train: count, select: count, test: count.nullable() }),
  }),
  environment: z.record(z.string(), z.unknown()),
});

/** Validates a parsed config.json; `label` names the file in errors. */
export function parseRunConfigFile(value: unknown, label: string): RunConfigFile {
  return validated(configFileSchema, value, label, 'run config file');
}

/** Reads and validates a run folder's config.json. */
export function readRunConfigFileSync(file: string, label = file): RunConfigFile {
  return parseRunConfigFile(parseJson(readRunTextSync(file, label, 'run config file'), label), label);
}

/** Writes config.json atomically (pretty JSON). */
export function writeRunConfigFileSync(file: string, value: RunConfigFile): void {
  writeJsonAtomicSync(file, value);
}
