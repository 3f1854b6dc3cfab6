/**
 * Timing: batch-1 latency statistics and throughput over batch sizes, with peak tensor memory.
 *
 * One forward is too short and too noisy to time alone (the first calls after a warm-up still vary by 2x and more on a
 * shared CPU): every measurement runs untimed warm-up forwards, then timed ones until both a minimum count and a
 * minimum total time are reached, and reports the median with the interquartile range and the extremes.
 *
 * Every timed run is: start clock -> forward (inside tf.tidy) -> download every output (`await data()`, which waits
 * for asynchronous backends such as webgl / tfjs-node-gpu to finish) -> stop clock -> dispose. Outputs of the IQA
 * models are small (scores, or the generated TargetNet weights), so the download is a negligible part of the time.
 */
import * as tf from '@tensorflow/tfjs';
import { quantileSorted } from '@iqa-bench/metrics';
import { traceKernels } from './trace.js';

export interface LatencyStats {
  readonly batchSize: number;
  readonly warmup: number;
  readonly runs: number;
  readonly meanMs: number;
  /** Population standard deviation (ddof 0, numpy's default, as the original's `np.std`). */
  readonly stdMs: number;
  readonly minMs: number;
  readonly medianMs: number;
  /** 95th percentile, linear interpolation between order statistics (numpy's default method). */
  readonly p95Ms: number;
  readonly maxMs: number;
  /** First and third quartiles (numpy's default method): the interquartile range q3Ms − q1Ms is the spread reported. */
  readonly q1Ms: number;
  readonly q3Ms: number;
}

export interface TimingOptions {
  /** Untimed runs first (default 3). */
  warmup?: number;
  /** At least this many timed runs (default 10)... */
  runs?: number;
  /** ...and timed runs until this much time has passed (default 1,000 ms; 0: exactly `runs`). */
  minTimeMs?: number;
  /** At most this many timed runs, whatever `minTimeMs` asks (default 10,000). */
  maxRuns?: number;
}

/**
 * What a forward returns: a tensor, or arrays / objects holding tensors (e.g. `{ score, attention }` or the
 * HyperNet's TargetNet parameters). Every tensor in it is downloaded (timing) and disposed.
 */
export type ForwardOutput = object;

/** A forward pass: NHWC image batch in, tensors out. */
export type ForwardFn = (x: tf.Tensor4D) => ForwardOutput;

/** Runs `fn` in tf.tidy; the tensors it returns (at any depth of arrays / objects) survive. */
export function tidyForward(fn: () => ForwardOutput): ForwardOutput {
  return tf.tidy(() => fn() as tf.TensorContainer) as ForwardOutput;
}

/** Disposes every tensor in a forward output. */
export function disposeOutput(out: ForwardOutput): void {
  tf.dispose(outputsOf(out));
}

/** Summary statistics of timings in ms. */
export function latencyStats(
  times: readonly number[],
  meta: { batchSize: number; warmup: number },
): LatencyStats {
  if (times.length === 0) throw new Error('latencyStats: no timed runs');
  const sorted = [...times].sort((a, b) => a - b);
  const mean = times.reduce((s, t) => s + t, 0) / times.length;
  const variance = times.reduce((s, t) => s + (t - mean) ** 2, 0) / times.length;
  return {
    batchSize: meta.batchSize,
    warmup: meta.warmup,
    runs: times.length,
    meanMs: mean,
    stdMs: Math.sqrt(variance),
    minMs: sorted[0],
    medianMs: quantileSorted(sorted, 0.5),
    p95Ms: quantileSorted(sorted, 0.95),
    maxMs: sorted[sorted.length - 1],
    q1Ms: quantileSorted(sorted, 0.25),
    q3Ms: quantileSorted(sorted, 0.75),
  };
}

const nonNegNumber = (v: number, name: string): number => {
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name}: expected a non-negative number, got ${v}`);
  return v;
};

/** How long to keep timing: at least `minRuns` runs and `minTimeMs` in all, at most `maxRuns` runs. */
export interface RepeatLimits {
  minRuns: number;
  minTimeMs: number;
  maxRuns: number;
}

/** Calls `timed` (which returns the ms it took) until the limits are met; the time of each call, ms. */
export async function repeatTimed(timed: () => Promise<number>, limits: RepeatLimits): Promise<number[]> {
  const times: number[] = [];
  let total = 0;
  while (times.length < limits.maxRuns && (times.length < limits.minRuns || total < limits.minTimeMs)) {
    const t = await timed();
    times.push(t);
    total += t;
  }
  return times;
}

/** Timed forwards of `x` until the limits are met; the time of each, ms. */
export function timeRepeated(forward: ForwardFn, x: tf.Tensor4D, limits: RepeatLimits): Promise<number[]> {
  return repeatTimed(() => timeForward(forward, x), limits);
}

/** One complete forward: run, wait for and download the outputs, dispose. Returns elapsed ms. */
export async function timeForward(forward: ForwardFn, x: tf.Tensor4D): Promise<number> {
  const t0 = performance.now();
  const out = tidyForward(() => forward(x));
  try {
    await Promise.all(outputsOf(out).map((t) => t.data()));
  } finally {
    disposeOutput(out);
  }
  return performance.now() - t0;
}

function outputsOf(container: ForwardOutput): tf.Tensor[] {
  const found: tf.Tensor[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof tf.Tensor) found.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(container);
  return found;
}

const nonNegInt = (v: number, name: string): number => {
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name}: expected a non-negative integer, got ${v}`);
  return v;
};

/**
 * Warm-up, then timed forwards of `x` (one image batch) until at least `runs` ran and `minTimeMs` passed; statistics
 * in ms.
 */
export async function measureLatency(
  forward: ForwardFn,
  x: tf.Tensor4D,
  options: TimingOptions = {},
): Promise<LatencyStats> {
  const warmup = nonNegInt(options.warmup ?? 3, 'measureLatency warmup');
  const runs = nonNegInt(options.runs ?? 10, 'measureLatency runs');
  if (runs < 1) throw new Error('measureLatency runs: expected at least 1 timed run');
  const minTimeMs = nonNegNumber(options.minTimeMs ?? 1000, 'measureLatency minTimeMs');
  const maxRuns = Math.max(runs, nonNegInt(options.maxRuns ?? 10_000, 'measureLatency maxRuns'));
  for (let i = 0; i < warmup; i++) await timeForward(forward, x);
  const times = await timeRepeated(forward, x, { minRuns: runs, minTimeMs, maxRuns });
  return latencyStats(times, { batchSize: x.shape[0], warmup });
}

/** Peak live tensor bytes during one forward (sampled after every kernel), and the bytes live before it. */
export function measurePeakMemory(
  forward: ForwardFn,
  x: tf.Tensor4D,
): { baselineBytes: number; peakBytes: number } {
  const trace = traceKernels(() => tidyForward(() => forward(x)));
  disposeOutput(trace.result);
  return { baselineBytes: trace.baselineBytes, peakBytes: trace.peakBytes };
}

export type ThroughputStatus = 'ok' | 'out-of-memory' | 'skipped';

export interface ThroughputEntry {
  readonly batchSize: number;
  readonly status: ThroughputStatus;
  /** Images per second over all the timed batches: their images over their total time (status ok). */
  readonly imagesPerSecond?: number;
  /**
   * Images per second of the median batch, and of its first and third quartiles, slowest and fastest batch (status
   * ok): `median` is the figure to quote, `q1`…`q3` its spread.
   */
  readonly rate?: {
    readonly median: number;
    readonly q1: number;
    readonly q3: number;
    readonly min: number;
    readonly max: number;
  };
  readonly timedBatches?: number;
  readonly elapsedMs?: number;
  /** Peak live tensor bytes of the warm-up forward at this batch size (weights included). */
  readonly peakBytes?: number;
  /** Why the size was not measured (out-of-memory error text, or the reason for skipping). */
  readonly reason?: string;
}

export interface ThroughputOptions {
  /** Default [1, 4, 8, 16, 32]; measured in ascending order, stopping at the first size that runs out of memory. */
  batchSizes?: readonly number[];
  /**
   * Untimed forwards per batch size (default 2, at least 1: the first one is traced for its peak memory, and runs
   * slower for it).
   */
  warmup?: number;
  /** Timed forwards continue until this much time has passed (default 2,000 ms)... */
  minTimeMs?: number;
  /** ...and at least this many were run (default 5)... */
  minBatches?: number;
  /** ...but no more than this many (default 10,000). */
  maxBatches?: number;
  /**
   * Skip a batch size whose predicted peak (bytes before + per-image activation peak x batch size, from the largest
   * size measured so far) exceeds this. Default: the wasm heap limit (4 GiB - 64 KiB) on wasm, none elsewhere.
   * An over-allocation on wasm aborts the backend for the rest of the process, so predicting it is worth it.
   */
  memoryLimitBytes?: number | null;
}

/** The wasm backend's heap cap in Node (Wasm32 `getHeapMax`). */
export const WASM_HEAP_LIMIT_BYTES = 4294901760;

/** Whether an error is the backend running out of memory (wasm heap abort, allocation failure, CUDA OOM). */
export function isOutOfMemoryError(e: unknown): boolean {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return /Aborted\(|memory access out of bounds|out of memory|OOM|failed to allocate|Cannot enlarge memory|Array buffer allocation failed|Invalid typed array length|RESOURCE_EXHAUSTED/i.test(
    text,
  );
}

/** Repeats a batch-1 image along the batch axis (the original's throughput input: one image repeated). */
export function repeatBatch(x: tf.Tensor4D, batchSize: number): tf.Tensor4D {
  if (x.shape[0] !== 1)
    throw new Error(`repeatBatch: expected a batch-1 image, got shape [${x.shape.join(', ')}]`);
  return tf.tile(x, [batchSize, 1, 1, 1]);
}

/** Images per second at each batch size, the single image repeated; stops cleanly at the first out-of-memory. */
/** The throughput entry of timed batches of `batchSize` images (the times in ms, after `warmup` untimed ones). */
export function throughputOf(times: readonly number[], batchSize: number, warmup: number): ThroughputEntry {
  const elapsed = times.reduce((a, t) => a + t, 0);
  // Faster batches, more images per second: the rate quartiles are the time quartiles' reciprocals.
  const st = latencyStats(times, { batchSize, warmup });
  const rate = (ms: number) => (batchSize * 1000) / ms;
  return {
    batchSize,
    status: 'ok',
    imagesPerSecond: (times.length * batchSize * 1000) / elapsed,
    rate: {
      median: rate(st.medianMs),
      q1: rate(st.q3Ms),
      q3: rate(st.q1Ms),
      min: rate(st.maxMs),
      max: rate(st.minMs),
    },
    timedBatches: times.length,
    elapsedMs: elapsed,
  };
}

export async function measureThroughput(
  forward: ForwardFn,
  image: tf.Tensor4D,
  options: ThroughputOptions = {},
): Promise<ThroughputEntry[]> {
  const sizes = [...(options.batchSizes ?? [1, 4, 8, 16, 32])];
  sizes.forEach((b) => {
    if (!Number.isInteger(b) || b < 1)
      throw new Error(`measureThroughput batchSizes: expected positive integers, got ${b}`);
  });
  sizes.sort((a, b) => a - b);
  const warmup = Math.max(1, nonNegInt(options.warmup ?? 2, 'measureThroughput warmup'));
  const minTimeMs = nonNegNumber(options.minTimeMs ?? 2000, 'measureThroughput minTimeMs');
  const minBatches = Math.max(1, nonNegInt(options.minBatches ?? 5, 'measureThroughput minBatches'));
  const maxBatches = Math.max(
    minBatches,
    nonNegInt(options.maxBatches ?? 10_000, 'measureThroughput maxBatches'),
  );
  const limit =
    options.memoryLimitBytes === undefined
      ? tf.getBackend() === 'wasm'
        ? WASM_HEAP_LIMIT_BYTES
        : null
      : options.memoryLimitBytes;

  const entries: ThroughputEntry[] = [];
  let perImageBytes: number | null = null;
  let stopReason: string | null = null;
  for (const batchSize of sizes) {
    if (stopReason !== null) {
      entries.push({ batchSize, status: 'skipped', reason: stopReason });
      continue;
    }
    const baseline = tf.memory().numBytes;
    if (limit !== null && perImageBytes !== null) {
      const predicted = baseline + perImageBytes * batchSize;
      if (predicted > limit) {
        stopReason = `predicted peak ${mib(predicted)} exceeds the memory limit ${mib(limit)}`;
        entries.push({ batchSize, status: 'skipped', reason: stopReason });
        continue;
      }
    }
    const x = repeatBatch(image, batchSize);
    try {
      // First warm-up forward traced for its peak memory.
      const peak = measurePeakMemory(forward, x);
      perImageBytes = Math.max(perImageBytes ?? 0, (peak.peakBytes - peak.baselineBytes) / batchSize);
      for (let i = 1; i < warmup; i++) await timeForward(forward, x);
      const times = await timeRepeated(forward, x, {
        minRuns: minBatches,
        minTimeMs,
        maxRuns: maxBatches,
      });
      entries.push({ ...throughputOf(times, batchSize, warmup), peakBytes: peak.peakBytes });
    } catch (e) {
      if (!isOutOfMemoryError(e)) throw e;
      const text = e instanceof Error ? e.message.split('\n')[0] : String(e);
      entries.push({ batchSize, status: 'out-of-memory', reason: text });
      stopReason = `a smaller batch size (${batchSize}) ran out of memory`;
    } finally {
      x.dispose();
    }
  }
  return entries;
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
