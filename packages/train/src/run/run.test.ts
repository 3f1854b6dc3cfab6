import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendJsonl, readJsonl, writeFileAtomicSync, writeJsonl } from './atomic.js';
import { decodeCheckpoint, encodeCheckpoint, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { initialEarlyStopping, roundStats, updateEarlyStopping } from './stats.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'train-run-'));

describe('atomic files', () => {
  it('replaces a file and leaves no temp file behind', () => {
    const d = tmp();
    const f = join(d, 'a.json');
    writeFileAtomicSync(f, 'one');
    writeFileAtomicSync(f, [new Uint8Array([116, 119]), new Uint8Array([111])]);
    expect(readFileSync(f, 'utf8')).toBe('two');
    expect(readdirSync(d)).toEqual(['a.json']);
  });

  it('jsonl: appends, rewrites, and tolerates a torn last line', () => {
    const d = tmp();
    const f = join(d, 'm.jsonl');
    appendJsonl(f, { a: 1 });
    appendJsonl(f, { a: 2 });
    expect(readJsonl(f)).toEqual({ records: [{ a: 1 }, { a: 2 }], tornLastLine: false });
    writeFileSync(f, '{"a":1}\n{"a":2}\n{"a":');
    expect(readJsonl(f)).toEqual({ records: [{ a: 1 }, { a: 2 }], tornLastLine: true });
    appendJsonl(f, { a: 3 });
    expect(readFileSync(f, 'utf8')).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
    writeFileSync(f, '{"a":1}\nnope\n{"a":2}\n');
    expect(() => readJsonl(f)).toThrow(/m\.jsonl:2: not valid JSON/);
    writeJsonl(f, [{ b: 1 }]);
    expect(readFileSync(f, 'utf8')).toBe('{"b":1}\n');
  });
});

describe('checkpoint files', () => {
  it('round-trips tensors and state exactly (safetensors layout, 8-byte aligned data)', () => {
    const tensors = new Map([
      ['param/w', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, Math.PI, -0, 1e-30]) }],
      ['adam.m/w', { shape: [1], data: Float32Array.from([0.25]) }],
    ]);
    const state = { round: 1, epoch: 2, early: { best: 0.5, bad: 1 } };
    const chunks = encodeCheckpoint({ tensors, state });
    const headerLen = Number(new DataView(chunks[0].buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const bytes = Buffer.concat(chunks);
    const back = decodeCheckpoint(bytes, 'x');
    expect(back.state).toEqual(state);
    expect([...back.tensors.keys()]).toEqual(['param/w', 'adam.m/w']);
    expect(Buffer.from(back.tensors.get('param/w')!.data.buffer)).toEqual(
      Buffer.from(tensors.get('param/w')!.data.buffer),
    );
    const d = tmp();
    writeCheckpoint(join(d, 'c.ckpt'), { tensors, state });
    expect(readCheckpoint(join(d, 'c.ckpt')).state).toEqual(state);
  });

  it('rejects truncated and inconsistent files with the file named', () => {
    const bytes = Buffer.concat(
      encodeCheckpoint({ tensors: new Map([['a', { shape: [4], data: new Float32Array(4) }]]), state: {} }),
    );
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), 'ck')).toThrow(
      /^ck: invalid checkpoint: tensor 'a'/,
    );
    expect(() => decodeCheckpoint(bytes.subarray(0, 20), 'ck')).toThrow(
      /ck: invalid checkpoint: header length/,
    );
    expect(() => decodeCheckpoint(new Uint8Array(3), 'ck')).toThrow(/shorter than 8 bytes/);
  });
});

describe('stats', () => {
  it('median and quartiles over rounds as numpy (linear interpolation)', () => {
    // numpy.percentile([0.91, 0.88, 0.93, 0.90], [25, 50, 75]) = [0.895, 0.905, 0.915]
    const v = [0.91, 0.88, 0.93, 0.9];
    const s = roundStats(v);
    expect(s.q1).toBeCloseTo(0.895, 12);
    expect(s.median).toBeCloseTo(0.905, 12);
    expect(s.q3).toBeCloseTo(0.915, 12);
    expect([s.min, s.max]).toEqual([0.88, 0.93]);
    expect(s.iqr).toBeCloseTo(0.02, 12);
    expect(s.n).toBe(4);
    expect(roundStats([0.7]).median).toBe(0.7);
  });

  it('early stopping: patience counts evaluations without strict improvement; NaN never improves', () => {
    const o = { patience: 2, minDelta: 0, enabled: true };
    let s = initialEarlyStopping();
    const seq = [0.5, 0.6, 0.6, NaN];
    const improved: boolean[] = [];
    seq.forEach((v, e) => {
      const u = updateEarlyStopping(s, v, e, o);
      improved.push(u.improved);
      s = u.state;
    });
    expect(improved).toEqual([true, true, false, false]);
    expect(s).toEqual({ best: 0.6, bestEpoch: 1, bad: 2, stopped: true });
    const off = updateEarlyStopping(s, 0.1, 4, { ...o, enabled: false });
    expect(off.state.stopped).toBe(false);
  });
});
