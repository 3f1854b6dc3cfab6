/**
 * One call that picks the TensorFlow.js backend and says what it got and why.
 *
 * - `tensorflow`: libtensorflow through `@tensorflow/tfjs-node-gpu` (CUDA) or `@tensorflow/tfjs-node` (CPU). Both are
 *   optional peer dependencies (their install downloads libtensorflow), imported dynamically when present.
 * - `wasm`: `@tensorflow/tfjs-backend-wasm`, the embedded default. Single-threaded in Node (use src/pool for both cores).
 * - `cpu`: pure JavaScript, ~40x slower than wasm; a correctness oracle and the last fallback.
 *
 * `auto` tries tensorflow, then wasm, then cpu. An explicit request that cannot be met throws a
 * {@link BackendUnavailableError} naming every attempt, unless `fallback: true` (then it falls back in the same order
 * and `fellBack` / `reason` say so).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendAttempt {
  backend: BackendName;
  /** The npm package tried for it. */
  package: string;
  ok: boolean;
  /** Why it was not used (absent when ok). */
  error?: string;
}

export interface BackendSelection {
  /** The active backend (`tf.getBackend()`). */
  name: BackendName;
  requested: BackendPreference;
  /** The package that provides it (`@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`, `@tensorflow/tfjs-backend-wasm`, `@tensorflow/tfjs`). */
  package: string;
  /** true when an explicit request could not be met and `fallback` picked another backend. */
  fellBack: boolean;
  /** One sentence: why this backend. */
  reason: string;
  /** Every backend tried, in order. */
  attempts: BackendAttempt[];
  /** Compute threads the backend uses in this process (wasm in Node: 1). */
  threads: number;
  /** @tensorflow/tfjs-core version. */
  tfjsVersion: string;
}

export interface SelectBackendOptions {
  /** For an explicit request: fall back (tensorflow → wasm → cpu) instead of throwing. Default false. */
  fallback?: boolean;
}

export class BackendUnavailableError extends Error {
  readonly attempts: BackendAttempt[];
  constructor(message: string, attempts: BackendAttempt[]) {
    super(message);
    this.name = 'BackendUnavailableError';
    this.attempts = attempts;
  }
}

const require = createRequire(import.meta.url);

function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0];
}

function isModuleNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

async function activate(name: BackendName): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`tf.setBackend('${name}') did not activate it`);
  await tf.ready();
}

function notInstalled(pkg: string): string {
  return (
    `${pkg} is not installed (optional peer dependency; npm install ${pkg} needs network access to download ` +
    `libtensorflow${pkg === '@tensorflow/tfjs-node-gpu' ? ', and CUDA 11.2 + cuDNN 8.1 runtime libraries to run' : ''})`
  );
}

const TF_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

async function tryTensorflow(attempts: BackendAttempt[]): Promise<string | null> {
  for (const pkg of TF_PACKAGES) {
    try {
      // Resolve first: "not installed" is then told apart from a broken install whatever the loader's error looks like.
      require.resolve(pkg);
    } catch {
      attempts.push({ backend: 'tensorflow', package: pkg, ok: false, error: notInstalled(pkg) });
      continue;
    }
    try {
      // A variable specifier keeps TypeScript from requiring the optional peer's types at build time.
      const spec: string = pkg;
      await import(spec);
      if (!tf.engine().registryFactory['tensorflow']) {
        throw new Error(
          `${pkg} loaded but registered no 'tensorflow' backend with this @tensorflow/tfjs (${tf.version_core}); ` +
            'its @tensorflow/tfjs version probably differs: install matching versions',
        );
      }
      await activate('tensorflow');
      attempts.push({ backend: 'tensorflow', package: pkg, ok: true });
      return pkg;
    } catch (e) {
      const error = isModuleNotFound(e) ? notInstalled(pkg) : `${pkg} failed to load: ${errorText(e)}`;
      attempts.push({ backend: 'tensorflow', package: pkg, ok: false, error });
    }
  }
  return null;
}

/** Directory holding the backend's .wasm binaries (next to its Node entry point). */
export function wasmBinaryDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
}

async function tryWasm(attempts: BackendAttempt[]): Promise<boolean> {
  const pkg = '@tensorflow/tfjs-backend-wasm';
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Point it at its own binaries explicitly (bundlers and some ESM loaders lose __dirname). Only possible
    // before the backend is first initialised in this process.
    if (!tf.engine().registry['wasm']) {
      try {
        wasm.setWasmPaths(wasmBinaryDir() + path.sep);
      } catch {
        // already initialised by someone else: keep their paths
      }
    }
    await activate('wasm');
    attempts.push({ backend: 'wasm', package: pkg, ok: true });
    return true;
  } catch (e) {
    attempts.push({ backend: 'wasm', package: pkg, ok: false, error: `${pkg} failed: ${errorText(e)}` });
    return false;
  }
}

async function tryCpu(attempts: BackendAttempt[]): Promise<boolean> {
  try {
    await activate('cpu');
    attempts.push({ backend: 'cpu', package: '@tensorflow/tfjs', ok: true });
    return true;
  } catch (e) {
    attempts.push({
      backend: 'cpu',
      package: '@tensorflow/tfjs',
      ok: false,
      error: `cpu failed: ${errorText(e)}`,
    });
    return false;
  }
}

function threadsOf(name: BackendName): number {
  if (name !== 'wasm') return name === 'cpu' ? 1 : 0;
  const b = tf.backend() as unknown as { getThreadsCount?: () => number };
  return typeof b.getThreadsCount === 'function' ? b.getThreadsCount() : 1;
}

function describeAttempts(attempts: BackendAttempt[]): string {
  return attempts
    .filter((a) => !a.ok)
    .map((a) => a.error ?? `${a.package} failed`)
    .join('; ');
}

/**
 * Selects and activates a backend. `auto`: tensorflow (tfjs-node-gpu, tfjs-node) → wasm → cpu.
 * Throws {@link BackendUnavailableError} when an explicit request fails and `fallback` is not set.
 */
export async function selectBackend(
  pref: BackendPreference = 'auto',
  opts: SelectBackendOptions = {},
): Promise<BackendSelection> {
  const valid: BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];
  if (!valid.includes(pref)) {
    throw new Error(`selectBackend: unknown backend '${String(pref)}'; expected one of ${valid.join(', ')}`);
  }
  const attempts: BackendAttempt[] = [];
  const order: BackendName[] =
    pref === 'auto' || pref === 'tensorflow'
      ? ['tensorflow', 'wasm', 'cpu']
      : pref === 'wasm'
        ? ['wasm', 'cpu']
        : ['cpu'];
  const mayFallBack = pref === 'auto' || opts.fallback === true;
  for (const name of order) {
    let pkg: string | null = null;
    if (name === 'tensorflow') pkg = await tryTensorflow(attempts);
    else if (name === 'wasm') pkg = (await tryWasm(attempts)) ? '@tensorflow/tfjs-backend-wasm' : null;
    else pkg = (await tryCpu(attempts)) ? '@tensorflow/tfjs' : null;
    if (pkg !== null) {
      const fellBack = pref !== 'auto' && name !== pref;
      const failed = describeAttempts(attempts);
      let reason: string;
      if (!failed)
        reason = pref === 'auto' ? `auto: ${name} is the first available backend` : `${name} as requested`;
      else reason = `${fellBack ? `requested ${pref} unavailable` : `auto`}: using ${name} because ${failed}`;
      return {
        name,
        requested: pref,
        package: pkg,
        fellBack,
        reason,
        attempts,
        threads: threadsOf(name),
        tfjsVersion: tf.version_core,
      };
    }
    if (!mayFallBack) {
      throw new BackendUnavailableError(
        `Backend '${pref}' is not available: ${describeAttempts(attempts)}. ` +
          `Use 'auto' or { fallback: true } to fall back to wasm/cpu.`,
        attempts,
      );
    }
  }
  throw new BackendUnavailableError(
    `No TensorFlow.js backend could be activated: ${describeAttempts(attempts)}`,
    attempts,
  );
}
