import type { ModelCostLimits } from '@iqa-bench/model';
import type { ReadLimits } from '@iqa-bench/model/weights';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';

/** The flags that raise the bounds of the checkpoint readers, for a file the user trusts. */
export interface ModelLimitFlags {
  maxModelBytes?: number;
  maxParams?: number;
  maxTensorBytes?: number;
  maxExpansion?: number;
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** `4294967296`, `4GiB`, `512 MiB`, `8GB` → bytes. */
export function byteSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(value);
  const bytes = m ? Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? Number.NaN) : Number.NaN;
  if (!Number.isSafeInteger(Math.round(bytes)) || bytes < 1)
    throw new InvalidArgumentError('expected a size in bytes, e.g. 8589934592, 8GiB or 512MiB.');
  return Math.round(bytes);
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('expected a positive number, e.g. 2e9.');
  return n;
}

/** Adds --max-model-bytes, --max-params, --max-tensor-bytes and --max-expansion to a command that loads checkpoints. */
export function modelLimitOptions(cmd: Command): Command {
  return cmd
    .option(
      '--max-model-bytes <size>',
      'refuse a checkpoint whose model would need more memory than this (default 4GiB; raise only for a trusted file)',
      byteSize,
    )
    .option(
      '--max-params <n>',
      'refuse a checkpoint whose model has more parameters than this (default 1e9; raise only for a trusted file)',
      positiveNumber,
    )
    .option(
      '--max-tensor-bytes <size>',
      'refuse a PyTorch checkpoint with a tensor larger than this (default 2GiB; raise only for a trusted file)',
      byteSize,
    )
    .option(
      '--max-expansion <x>',
      'refuse a PyTorch checkpoint whose tensors describe more than x times its stored bytes (default 4)',
      positiveNumber,
    );
}

/** The loaders' `limits` option from the flags (only what was given: the packages' defaults stay in one place). */
export function modelLimits(flags: ModelLimitFlags): Partial<ReadLimits & ModelCostLimits> {
  return {
    ...(flags.maxModelBytes !== undefined ? { maxModelBytes: flags.maxModelBytes } : {}),
    ...(flags.maxParams !== undefined ? { maxParams: flags.maxParams } : {}),
    ...(flags.maxTensorBytes !== undefined ? { maxTensorBytes: flags.maxTensorBytes } : {}),
    ...(flags.maxExpansion !== undefined ? { maxExpansion: flags.maxExpansion } : {}),
  };
}
