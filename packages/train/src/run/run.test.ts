import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { initialEarlyStopping, roundStats, updateEarlyStopping } from './stats.js';
import { tempDir } from '../../../../tools/testing/temp-dir.js';

const tmp = () => tempDir('train-run-');

describe('checkpoint files', () => {
  it('round-trips tensors and state exactly (safetensors layout, 8-byte aligned data)', () => {
    const tensors = new Map([
      ['param/w', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, Math.PI, -0, 1e-30]) }],
      ['adam.m/w', { shape: [1], data: Float32Array.from([0.25]) }],
    ]);
    const state = { round: 1, epoch: 2, early: { best: 0.5, bad: 1 }, name: 'é"\n' };
    const bytes = encodeCheckpoint({ tensors, state });
    const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    // The bytes the trainer wrote before it used @iqa-bench/model's codec (sha256 of that encoder's output for this
    // content): old checkpoints stay readable and new ones byte-identical.
    expect(Buffer.from(bytes.subarray(8, 8 + headerLen)).toString('utf8')).toBe(
      '{"__metadata__":{"state":"{\\"round\\":1,\\"epoch\\":2,\\"early\\":{\\"best\\":0.5,\\"bad\\":1},\\"name\\":\\"é\\\\\\"\\\\n\\"}"},' +
        '"param/w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"adam.m/w":{"dtype":"F32","shape":[1],"data_offsets":[24,28]}}    ',
    );
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect([bytes.length, sha(bytes)]).toEqual([
      276,
      'ee305a6c28e0baef50a06635fd61c74b0ea5a403424fe639b4a3ff51e0ff0ccc',
    ]);
    const empty = encodeCheckpoint({ tensors: new Map(), state: { a: [1, null] } });
    expect([empty.length, sha(empty)]).toEqual([
      56,
      'cc775c3fc56717c3c1023eb72dbe7238c51585845a9f6118a3b8d79e21b2c0f9',
    ]);
    const back = decodeCheckpoint(bytes, 'x');
    expect(back.state).toEqual(state);
    expect([...back.tensors.keys()]).toEqual(['param/w', 'adam.m/w']);
    expect(Buffer.from(back.tensors.get('param/w')!.data.buffer)).toEqual(
      Buffer.from(tensors.get('param/w')!.data.buffer),
    );
    const d = tmp();
    writeCheckpoint(join(d, 'c.ckpt'), { tensors, state });
    expect(readCheckpoint(join(d, 'c.ckpt')).state).toEqual(state);
    expect(readdirSync(d)).toEqual(['c.ckpt']);
  });

  it('rejects truncated and inconsistent files with the file named', () => {
    const bytes = encodeCheckpoint({
      tensors: new Map([['a', { shape: [4], data: new Float32Array(4) }]]),
      state: {},
    });
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), 'ck')).toThrow(
      /^ck: invalid safetensors file: tensor data covers 16 bytes but the file has 12/,
    );
    expect(() => decodeCheckpoint(bytes.subarray(0, 20), 'ck')).toThrow(
      /^ck: invalid safetensors file: header length/,
    );
    expect(() => decodeCheckpoint(new Uint8Array(3), 'ck')).toThrow(/shorter than the 8-byte header length/);
    expect(() => readCheckpoint(join(tmp(), 'none.ckpt'))).toThrow(/none\.ckpt: checkpoint not found/);
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
