import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';

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
});
