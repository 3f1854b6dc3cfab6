import { describe, expect, it } from 'vitest';
import type { CliIo, TextSink } from './io.js';
import { duration, Output } from './io.js';

class Sink implements TextSink {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** An Output whose clock moves by the given steps (ms), one per reading. */
function output(tty: boolean, flags = {}, steps: number[] = []): { out: Output; err: Sink } {
  const err = new Sink(tty);
  let t = 0;
  let i = 0;
  const io: CliIo = {
    stdout: new Sink(tty),
    stderr: err,
    cwd: '/work',
    now: () => (t += steps[i++] ?? 0),
  };
  return { out: new Output(io, flags), err };
}

describe('progress off a terminal', () => {
  it('prints a plain line at most every interval, with elapsed time and what is left, and a closing line', () => {
    // Clock readings: start 0, then one per tick.
    const { out, err } = output(false, {}, [0, 1000, 2000, 2500, 1000, 4000, 500]);
    const p = out.progress('predict', 6, 5000);
    for (let i = 0; i < 6; i++) p.tick();
    p.stop();
    // Ticks at 1 s, 3 s, 5.5 s (a line: 3 done, 5.5 s → 5.5 s left), 6.5 s, 10.5 s (a line: 5 s since the last),
    // 11 s (all done: no progress line), then the closing line.
    expect(err.text).toBe(
      'predict: 3/6 (50%), 6 s elapsed, about 6 s left\n' +
        'predict: 5/6 (83%), 11 s elapsed, about 2 s left\n' +
        'predict: 6/6 in 11 s\n',
    );
  });

  it('says nothing for work that ends within the interval, and nothing with --quiet or --json', () => {
    const fast = output(false, {}, [0, 10, 10, 10]);
    const p = fast.out.progress('eval', 3, 5000);
    p.tick();
    p.tick();
    p.tick();
    p.stop();
    expect(fast.err.text).toBe('');
    for (const flags of [{ quiet: true }, { json: true }]) {
      const q = output(false, flags, [0, 9000, 9000]);
      const pq = q.out.progress('eval', 3, 5000);
      pq.tick();
      pq.tick();
      pq.stop();
      expect(q.err.text).toBe('');
    }
  });

  it('formats durations', () => {
    expect([duration(400), duration(59_400), duration(185_000), duration(3_725_000)]).toEqual([
      '0 s',
      '59 s',
      '3 min 05 s',
      '1 h 02 min',
    ]);
  });
});

describe('--out file names', () => {
  it('refuses an extension the command does not write, naming the flag', () => {
    expect(() => output(false, { out: 'scores.txt' }).out.checkOutExtension(['.json', '.csv'])).toThrow(
      '--out scores.txt: expected a file name ending in .json or .csv',
    );
    expect(() => output(false, { out: 'r.JSON' }).out.checkOutExtension(['.json'])).not.toThrow();
    expect(() => output(false, {}).out.checkOutExtension(['.json'])).not.toThrow();
  });
});
