import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend.js';
import { createModel, type IqaModel } from '../model.js';
import type probeHandler from './__tests__/probe-handler.js';
import { ReplicaError, ReplicaPool } from './runtime.js';

const probe = new URL('./__tests__/probe-handler.ts', import.meta.url);
const source = { config: 'smart-iqa-micro' as const, seed: 3 };
let model: IqaModel;

beforeAll(async () => {
  await selectBackend('wasm');
  model = createModel(source.config, { seed: source.seed });
});
afterAll(() => model.dispose());

describe('ReplicaPool (one model replica per worker thread)', { timeout: 60_000 }, () => {
  it('builds the same replica in every worker and serves typed requests in order, moving buffers', async () => {
    const pool = await ReplicaPool.start<typeof probeHandler>({
      handler: probe,
      source,
      workers: 2,
    });
    try {
      expect(pool.size).toBe(2);
      const names = model.params.list().map((e) => e.name);
      for (const r of pool.replicas) {
        expect(r.backend.name).toBe('wasm');
        expect(r.config).toEqual(model.config);
        expect(r.params).toEqual(names);
      }
      const mine = model.params.get('conv1.0.weight').dataSync();
      for (const w of [0, 1]) expect(await pool.request(w, 'weights', 'conv1.0.weight')).toEqual(mine);
      const x = Float32Array.from([1.5, 2.25, -0.75]);
      await expect(pool.request(1, 'sum', x, [x.buffer])).resolves.toBe(3);
      expect(x.byteLength).toBe(0); // moved to the worker
      const y = Float32Array.from([4, 5]);
      await expect(pool.request(0, 'sum', y)).resolves.toBe(9);
      expect(Array.from(y)).toEqual([4, 5]); // copied
      // An async request is finished before the next one runs; each worker has its own state.
      const [, seen, other] = await Promise.all([
        pool.request(0, 'store', 7),
        pool.request(0, 'stored', undefined as never),
        pool.request(1, 'stored', undefined as never),
      ]);
      expect([seen, other]).toEqual([7, 0]);
    } finally {
      await pool.close();
    }
    await expect(pool.request(0, 'sum', new Float32Array(1))).rejects.toThrow(/the pool is closed/);
  });

  it("rethrows a handler's error with the worker's stack; the worker goes on serving", async () => {
    const pool = await ReplicaPool.start<typeof probeHandler>({
      handler: probe,
      source,
      workers: 1,
    });
    try {
      const err = await pool.request(0, 'fail', 'this').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ReplicaError);
      const e = err as ReplicaError;
      expect([e.name, e.message, e.worker]).toEqual(['RangeError', 'probe refuses this', 0]);
      expect(e.workerStack).toMatch(/^RangeError: probe refuses this\n\s+at .*probe-handler\.ts/);
      expect(e.stack).toContain(e.workerStack);
      await expect(pool.request(0, 'nope' as 'sum', new Float32Array(1))).rejects.toThrow(
        "replica worker: the handler has no request 'nope'",
      );
      await expect(pool.request(0, 'sum', Float32Array.from([2, 3]))).resolves.toBe(5);
    } finally {
      await pool.close();
    }
  });

  it('a worker that exits rejects its pending requests and every later one', async () => {
    const pool = await ReplicaPool.start<typeof probeHandler>({
      handler: probe,
      source,
      workers: 2,
    });
    try {
      const pending = [pool.request(1, 'exit', 3), pool.request(1, 'sum', Float32Array.from([1]))];
      for (const p of pending) await expect(p).rejects.toThrow('replica worker 1 exited (code 3)');
      await expect(pool.request(1, 'stored', undefined as never)).rejects.toThrow(
        /worker 1 exited \(code 3\)/,
      );
      await expect(pool.request(0, 'sum', Float32Array.from([1, 1]))).resolves.toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('refuses a bad worker count, a relative handler path, a module that is not a handler, and a model that cannot be built', async () => {
    await expect(ReplicaPool.start({ handler: probe, source, workers: 65 })).rejects.toThrow(
      'replica pool: workers must be an integer in [1, 64], got 65',
    );
    await expect(ReplicaPool.start({ handler: './handler.js', source, workers: 1 })).rejects.toThrow(
      "ReplicaPool: handler must be a URL (e.g. new URL('./handler.js', import.meta.url)), got './handler.js'",
    );
    await expect(
      ReplicaPool.start({
        handler: new URL('./__tests__/not-a-handler.js', import.meta.url),
        source,
        workers: 1,
      }),
    ).rejects.toThrow(/not-a-handler\.ts: the default export is not a replica handler/);
    await expect(
      ReplicaPool.start({ handler: probe, source: { checkpoint: '/no/such/file.safetensors' }, workers: 2 }),
    ).rejects.toThrow(/\/no\/such\/file\.safetensors/);
  });
});
