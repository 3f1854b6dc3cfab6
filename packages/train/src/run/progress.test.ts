import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress, estimateEta, formatDuration } from './progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  const stream = { isTTY, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream;
  return { out, stream };
}

describe('progress', () => {
  it('plain mode (not a TTY): parseable lines with loss, rate and ETA, throttled, always the last one', () => {
    const { out, stream } = sink(false);
    const p = createProgress({ stream, plainEverySeconds: 3600 });
    p.start('round 0 epoch 1/2', 4);
    p.update(1, { loss: 0.5 });
    p.update(2, { loss: 0.25 });
    p.update(4, { loss: 0.125 });
    p.line('round 0 epoch 1: loss 0.2');
    p.stop();
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^round 0 epoch 1\/2 4\/4 loss 0\.1250 [\d.]+ step\/s eta (\d+s|-)\n$/);
    expect(out[1]).toBe('round 0 epoch 1: loss 0.2\n');
  });

  it('quiet mode writes nothing', () => {
    const { out, stream } = sink(true);
    const p = createProgress({ stream, mode: 'quiet' });
    p.start('x', 2);
    p.update(2, { loss: 1 });
    p.line('y');
    p.stop();
    expect(out).toEqual([]);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('estimateEta: units left at the rate timed so far; null before any unit', () => {
    expect(estimateEta({ timed: 5, seconds: 10, remaining: 3 })).toBe(6);
    expect(estimateEta({ timed: 0, seconds: 10, remaining: 3 })).toBeNull();
    expect(estimateEta({ timed: 4, seconds: 0, remaining: 3 })).toBeNull();
    expect(estimateEta({ timed: 4, seconds: 2, remaining: -1 })).toBe(0);
    expect([42, 185, 7620, 59.6].map(formatDuration)).toEqual(['42s', '3m05s', '2h07m', '1m00s']);
    expect(formatDuration(null)).toBe('-');
  });

  it("the ETA is the whole run's: every epoch of every round, evaluation time included in the rate", () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    const { out, stream } = sink(false);
    const p = createProgress({ stream, plainEverySeconds: 0 });
    // 2 rounds x 2 epochs x 4 steps = 16 steps; one step a second
    p.start('round 0 epoch 1/2', 4, 0, { done: 0, total: 16 });
    for (let s = 1; s <= 4; s++) {
      vi.setSystemTime(s * 1000);
      p.update(s, { loss: 1 });
    }
    // 4 steps in 4 s, 12 to go: 12 s (the epoch's own ETA would be 0)
    expect(out[3]).toBe('round 0 epoch 1/2 4/4 loss 1.0000 1.00 step/s eta 12s\n');
    // the epoch's evaluation takes 4 s: the rate falls to 5 steps in 9 s
    vi.setSystemTime(8000);
    p.start('round 0 epoch 2/2', 4, 0, { done: 4, total: 16 });
    vi.setSystemTime(9000);
    p.update(1, { loss: 1 });
    expect(out[4]).toBe('round 0 epoch 2/2 1/4 loss 1.0000 1.00 step/s eta 20s\n'); // 11 / (5 / 9) = 19.8
    // a run resumed at step 12 times only what it runs
    const r = sink(false);
    const q = createProgress({ stream: r.stream, plainEverySeconds: 0 });
    vi.setSystemTime(100_000);
    q.start('round 1 epoch 2/2', 4, 0, { done: 12, total: 16 });
    vi.setSystemTime(102_000);
    q.update(1, {});
    expect(r.out[0]).toBe('round 1 epoch 2/2 1/4 loss - 0.50 step/s eta 6s\n');
    // without the run's position, the phase's own ETA
    q.start('evaluation', 10);
    vi.setSystemTime(104_000);
    q.update(5, {});
    expect(r.out[1]).toBe('evaluation 5/10 loss - 2.50 step/s eta 2s\n');
  });
});
