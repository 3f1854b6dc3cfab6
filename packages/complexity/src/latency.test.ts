import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isOutOfMemoryError,
  latencyStats,
  measureLatency,
  measurePeakMemory,
  measureThroughput,
} from './latency.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const image = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
const filter = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 8) as tf.Tensor4D;
afterAll(() => tf.dispose([image, filter]));

/** A tiny "model": conv + global mean -> one score per image. */
const forward = (x: tf.Tensor4D) => tf.mean(tf.relu(tf.conv2d(x, filter, 1, 'same')), [1, 2, 3]);

describe('latencyStats', () => {
  it('matches numpy (mean, np.std ddof 0, median, percentile 95 linear)', () => {
    const times = [5.2, 3.1, 4.8, 9.7, 3.3, 4.1, 6.0, 3.9, 4.4, 12.5];
    const s = latencyStats(times, { batchSize: 1, warmup: 2 });
    // numpy 1.x/2.x: mean 5.7, std 2.8879058156387303, median 4.6, percentile(95) 11.239999999999997.
    expect(s.meanMs).toBeCloseTo(5.7, 12);
    expect(s.stdMs).toBeCloseTo(2.8879058156387303, 12);
    expect(s.medianMs).toBeCloseTo(4.6, 12);
    expect(s.p95Ms).toBeCloseTo(11.24, 12);
    expect([s.minMs, s.maxMs, s.runs, s.warmup, s.batchSize]).toEqual([3.1, 12.5, 10, 2, 1]);
    // np.percentile(times, 25) 3.9499999999999997, np.percentile(times, 75) 5.8.
    expect(s.q1Ms).toBeCloseTo(3.95, 12);
    expect(s.q3Ms).toBeCloseTo(5.8, 12);
  });
});

describe('measureLatency', () => {
  it('runs warm-up and timed forwards and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const s = await measureLatency(forward, image, { warmup: 1, runs: 5, minTimeMs: 0 });
    expect([s.runs, s.warmup, s.batchSize]).toEqual([5, 1, 1]);
    expect(s.minMs).toBeGreaterThan(0);
    expect(s.minMs <= s.medianMs && s.medianMs <= s.p95Ms && s.p95Ms <= s.maxMs).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('times until both the minimum count and the minimum total time are reached', async () => {
    // A forward that takes at least 4 ms: 2 runs cannot fill 60 ms.
    const slow = (x: tf.Tensor4D) => {
      const t0 = performance.now();
      while (performance.now() - t0 < 4);
      return forward(x);
    };
    const s = await measureLatency(slow, image, { warmup: 0, runs: 2, minTimeMs: 60 });
    expect(s.runs).toBeGreaterThan(2);
    expect(s.runs).toBeLessThanOrEqual(16);
    expect(s.meanMs * s.runs).toBeGreaterThanOrEqual(60);
    const capped = await measureLatency(slow, image, { warmup: 0, runs: 2, minTimeMs: 60, maxRuns: 3 });
    expect(capped.runs).toBe(3);
    const exact = await measureLatency(slow, image, { warmup: 0, runs: 2, minTimeMs: 0 });
    expect(exact.runs).toBe(2);
  });

  it('rejects bad run counts', async () => {
    await expect(measureLatency(forward, image, { runs: 0 })).rejects.toThrow(/at least 1/);
    await expect(measureLatency(forward, image, { warmup: -1 })).rejects.toThrow(/warmup/);
  });
});

describe('measureThroughput', () => {
  it('measures every batch size with the image repeated', async () => {
    const seen: number[] = [];
    const entries = await measureThroughput(
      (x) => {
        seen.push(x.shape[0]);
        return forward(x);
      },
      image,
      { batchSizes: [4, 1, 2], minTimeMs: 0, minBatches: 2 },
    );
    expect(entries.map((e) => [e.batchSize, e.status, e.timedBatches])).toEqual([
      [1, 'ok', 2],
      [2, 'ok', 2],
      [4, 'ok', 2],
    ]);
    // Per size: one traced warm-up, one plain warm-up, 2 timed.
    expect(seen).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4]);
    for (const e of entries) {
      expect(e.imagesPerSecond).toBeCloseTo((e.batchSize * 2 * 1000) / e.elapsedMs!, 6);
      expect(e.peakBytes).toBeGreaterThan(0);
      // Two batches: the median rate is the batch size over their mean time, the extremes bracket it.
      const r = e.rate!;
      expect(r.median).toBeCloseTo(e.imagesPerSecond!, 6);
      expect(r.min <= r.q1 && r.q1 <= r.median && r.median <= r.q3 && r.q3 <= r.max).toBe(true);
    }
  });

  it('times at least 5 batches per size by default, and reports the median rate and its spread', async () => {
    const times = [12, 10, 11, 30, 10.5];
    let call = 0;
    // Fake clock: each timed forward "takes" the next time of the list (the traced and plain warm-ups take 0).
    const now = performance.now;
    let clock = 0;
    performance.now = () => clock;
    try {
      const entries = await measureThroughput(
        (x) => {
          call += 1;
          if (call > 2) clock += times[call - 3] ?? 1000;
          return forward(x);
        },
        image,
        { batchSizes: [4], minTimeMs: 0 },
      );
      expect(entries[0].timedBatches).toBe(5);
      // Batch times 12, 10, 11, 30, 10.5 ms: np.median 11.0, np.percentile 25 / 75 10.5 / 12.0.
      expect(entries[0].rate).toEqual({
        median: 4000 / 11,
        q1: 4000 / 12,
        q3: 4000 / 10.5,
        min: 4000 / 30,
        max: 4000 / 10,
      });
      expect(entries[0].imagesPerSecond).toBeCloseTo((5 * 4000) / 73.5, 9);
    } finally {
      performance.now = now;
    }
  });

  it('stops cleanly at the first out-of-memory error and skips the larger sizes', async () => {
    const before = tf.memory().numTensors;
    const entries = await measureThroughput(
      (x) => {
        if (x.shape[0] >= 4)
          throw new Error('RuntimeError: Aborted(). Build with -sASSERTIONS for more info.');
        return forward(x);
      },
      image,
      { batchSizes: [1, 2, 4, 8], minTimeMs: 0 },
    );
    expect(entries.map((e) => [e.batchSize, e.status])).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [4, 'out-of-memory'],
      [8, 'skipped'],
    ]);
    expect(entries[2].reason).toMatch(/Aborted/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rethrows errors that are not out-of-memory', async () => {
    const failing = () => {
      throw new Error('shape mismatch');
    };
    await expect(measureThroughput(failing, image, { batchSizes: [1], minTimeMs: 0 })).rejects.toThrow(
      'shape mismatch',
    );
  });

  it('skips sizes whose predicted peak exceeds the memory limit', async () => {
    const peak = measurePeakMemory(forward, image);
    const perImage = peak.peakBytes - peak.baselineBytes;
    expect(perImage).toBeGreaterThan(0);
    const limit = tf.memory().numBytes + 2.5 * perImage; // room for 2 images, not 4
    const entries = await measureThroughput(forward, image, {
      batchSizes: [1, 2, 4, 8],
      minTimeMs: 0,
      memoryLimitBytes: limit,
    });
    expect(entries.map((e) => [e.batchSize, e.status])).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [4, 'skipped'],
      [8, 'skipped'],
    ]);
    expect(entries[2].reason).toMatch(/exceeds the memory limit/);
  });
});

describe('isOutOfMemoryError', () => {
  it('recognises wasm heap aborts and allocation failures only', () => {
    expect(isOutOfMemoryError(new Error('RuntimeError: Aborted()'))).toBe(true);
    expect(
      isOutOfMemoryError(Object.assign(new Error('memory access out of bounds'), { name: 'RuntimeError' })),
    ).toBe(true);
    expect(isOutOfMemoryError(new RangeError('Array buffer allocation failed'))).toBe(true);
    expect(isOutOfMemoryError(new Error('OOM when allocating tensor with shape[32,3136,384]'))).toBe(true);
    expect(isOutOfMemoryError(new Error('Operands could not be broadcast together'))).toBe(false);
  });
});
