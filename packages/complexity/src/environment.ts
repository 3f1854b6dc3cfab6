/** Where a measurement ran: backend, tfjs version, Node, CPU model and (when known) the GPU. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';

export interface Environment {
  /** Active tfjs backend (`wasm`, `cpu`, `tensorflow`, `webgl`, ...). */
  readonly backend: string;
  /** Compute threads of the backend in this process when known (wasm in Node: 1). */
  readonly threads: number | null;
  /** @tensorflow/tfjs-core version. */
  readonly tfjsVersion: string;
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  /** `os.cpus()[0].model` and the number of logical cores. */
  readonly cpu: { readonly model: string; readonly cores: number };
  /** GPU name when a GPU backend is in use and its name is known, else null. */
  readonly gpu: string | null;
  /** Total system memory. */
  readonly memoryBytes: number;
}

export interface EnvironmentOptions {
  /** Threads of the backend (e.g. from `@iqa-bench/model`'s backend selection). */
  threads?: number | null;
  /** GPU name; pass `detectGpuName()` when running on a GPU backend. */
  gpu?: string | null;
}

/** Describes the current process and tfjs backend. */
export function describeEnvironment(options: EnvironmentOptions = {}): Environment {
  const cpus = os.cpus();
  return {
    backend: tf.getBackend(),
    threads: options.threads ?? null,
    tfjsVersion: tf.version_core,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu: { model: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length },
    gpu: options.gpu ?? null,
    memoryBytes: os.totalmem(),
  };
}

/** Name of the first NVIDIA GPU from `nvidia-smi` (null when unavailable). Call it only for a GPU backend. */
export function detectGpuName(): string | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const first = out.split('\n')[0]?.trim();
    return first ? first : null;
  } catch {
    return null;
  }
}
