import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ParamStore } from '../params.js';
import { fixture, readExpected } from './__tests__/fixtures.js';
import { exportStateDict, formatLoadReport, loadStateDict } from './load.js';
import { readWeights } from './read.js';
import { parseSafetensors, serializeSafetensors } from './safetensors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A hand-filled store with one entry per layout, shaped like layouts.pth (PyTorch: conv 2->4 3x3, pw 4->3 1x1, lin 3->2, BN(3)). */
function layoutsStore(): ParamStore {
  const s = new ParamStore('layouts');
  s.add('conv.weight', tf.zeros([3, 3, 2, 4]), { layout: 'conv' });
  s.add('conv.bias', tf.zeros([4]));
  s.add('pw.weight', tf.zeros([4, 3]), { layout: 'conv1x1' });
  s.add('pw.bias', tf.zeros([3]));
  s.add('lin.weight', tf.zeros([3, 2]), { layout: 'linear' });
  s.add('lin.bias', tf.zeros([2]));
  s.add('bn.weight', tf.zeros([3]));
  s.add('bn.bias', tf.zeros([3]));
  s.add('bn.running_mean', tf.zeros([3]), { trainable: false });
  s.add('bn.running_var', tf.zeros([3]), { trainable: false });
  s.add('bn.num_batches_tracked', tf.scalar(0, 'int32'), { trainable: false });
  return s;
}

interface Forward {
  x_nchw: { shape: number[]; values: number[] };
  y_nchw: { shape: number[]; values: number[] };
  out: { shape: number[]; values: number[] };
}

const stores: ParamStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.dispose();
});

describe('loadStateDict / exportStateDict', () => {
  it('converts every layout so that the tfjs forward equals PyTorch', async () => {
    const store = layoutsStore();
    stores.push(store);
    const report = loadStateDict(store, (await readWeights(fixture('layouts.pth'))).stateDict);
    expect(report.loaded).toHaveLength(11);
    expect(store.get('bn.num_batches_tracked').dataSync()[0]).toBe(3);
    const f = JSON.parse(readFileSync(fixture('layouts.forward.json'), 'utf8')) as Forward;
    const [y, out] = tf.tidy(() => {
      const x = tf.transpose(
        tf.tensor4d(f.x_nchw.values, f.x_nchw.shape as [number, number, number, number]),
        [0, 2, 3, 1],
      );
      const c = tf.add(
        tf.conv2d(x as tf.Tensor4D, store.get('conv.weight') as tf.Tensor4D, 1, 'same'),
        store.get('conv.bias'),
      );
      const [b, h, w] = c.shape;
      const p = tf.add(
        tf.matMul(tf.reshape(c, [b * h * w, 4]), store.get('pw.weight') as tf.Tensor2D),
        store.get('pw.bias'),
      );
      const yNchw = tf.transpose(tf.reshape(p, [b, h, w, 3]), [0, 3, 1, 2]);
      const o = tf.add(
        tf.matMul(tf.mean(yNchw, [2, 3]), store.get('lin.weight') as tf.Tensor2D),
        store.get('lin.bias'),
      );
      return [yNchw, o];
    });
    const yv = y.dataSync();
    const ov = out.dataSync();
    y.dispose();
    out.dispose();
    for (let i = 0; i < f.y_nchw.values.length; i++)
      expect(Math.abs(yv[i] - f.y_nchw.values[i])).toBeLessThan(1e-5);
    for (let i = 0; i < f.out.values.length; i++)
      expect(Math.abs(ov[i] - f.out.values[i])).toBeLessThan(1e-5);
  });

  it('exports back to the exact PyTorch tensors (layout, order, int64 counters)', async () => {
    const store = layoutsStore();
    stores.push(store);
    const sd = (await readWeights(fixture('layouts.pth'))).stateDict;
    loadStateDict(store, sd);
    const back = exportStateDict(store);
    expect([...back.keys()]).toEqual([...sd.keys()]);
    // float32 in, float32 out, bit-exact; the int64 counter comes back as int64
    expect(Buffer.from(serializeSafetensors(back)).equals(Buffer.from(serializeSafetensors(sd)))).toBe(true);
    expect(back.get('bn.num_batches_tracked')).toEqual({
      dtype: 'int64',
      shape: [],
      data: new BigInt64Array([3n]),
    });
  });

  it('strict: names every missing, unexpected and mis-shaped tensor and changes nothing', async () => {
    const store = layoutsStore();
    stores.push(store);
    const sd = (await readWeights(fixture('layouts.pth'))).stateDict;
    sd.delete('lin.bias');
    sd.delete('bn.weight');
    sd.set('extra.weight', { dtype: 'float32', shape: [1], data: new Float32Array(1) });
    sd.set('conv.weight', { dtype: 'float32', shape: [4, 2, 5, 5], data: new Float32Array(200) });
    let message = '';
    try {
      loadStateDict(store, sd, { source: 'ckpt.pth' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('ckpt.pth: the weights do not match the model');
    expect(message).toContain('2 missing from the weights: lin.bias, bn.weight');
    expect(message).toContain('1 unexpected (not in the model): extra.weight');
    expect(message).toContain('conv.weight (model float[4,2,3,3], weights float32[4,2,5,5])');
    expect(tf.sum(tf.abs(store.get('conv.bias'))).dataSync()[0]).toBe(0);
    // non-strict: loads the rest and reports the same problems
    const r = loadStateDict(store, sd, { strict: false });
    expect(r.missing).toEqual(['lin.bias', 'bn.weight']);
    expect(r.unexpected).toEqual(['extra.weight']);
    expect(r.mismatched.map((m) => m.name)).toEqual(['conv.weight']);
    expect(r.loaded).toHaveLength(8);
    expect(tf.sum(tf.abs(store.get('conv.bias'))).dataSync()[0]).toBeGreaterThan(0);
    expect(formatLoadReport(r).split('\n')[0]).toBe('8 tensors loaded');
  });

  it('converts float16 / bfloat16 / float64 to float32 and int64 to int32, refusing overflow', async () => {
    const sd = (await readWeights(fixture('basic.zip.pth'))).stateDict;
    const expected = readExpected('basic');
    const store = new ParamStore('dtypes');
    stores.push(store);
    store.add('half', tf.zeros([6]));
    store.add('bfloat', tf.zeros([3]));
    store.add('double', tf.zeros([2, 2]));
    store.add('bn.num_batches_tracked', tf.scalar(0, 'int32'), { trainable: false });
    store.add('big.int64', tf.zeros([2], 'int32'), { trainable: false });
    store.add('mask', tf.zeros([3]));
    const r = loadStateDict(store, sd, { strict: false });
    expect([...store.get('half').dataSync()]).toEqual(
      expected.get('half')?.values.map((v) => (v === 'Infinity' ? Infinity : v)),
    );
    expect([...store.get('bfloat').dataSync()]).toEqual(expected.get('bfloat')?.values);
    expect([...store.get('double').dataSync()]).toEqual(
      (expected.get('double')?.values as number[]).map(Math.fround),
    );
    expect(store.get('bn.num_batches_tracked').dataSync()[0]).toBe(12345);
    expect(r.mismatched).toEqual([
      {
        name: 'big.int64',
        expected: 'integer[2]',
        got: 'int64[2] (big.int64: int64 value 1099511627776 at index 0 does not fit in int32)',
      },
      { name: 'mask', expected: 'float[3]', got: 'bool[3]' },
    ]);
  });

  it('round-trips through safetensors bytes', async () => {
    const store = layoutsStore();
    stores.push(store);
    loadStateDict(store, (await readWeights(fixture('layouts.pth'))).stateDict);
    const again = layoutsStore();
    stores.push(again);
    loadStateDict(again, parseSafetensors(serializeSafetensors(exportStateDict(store))).tensors);
    for (const n of store.names()) expect(again.get(n).dataSync()).toEqual(store.get(n).dataSync());
  });
});
