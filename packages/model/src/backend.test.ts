import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError, selectBackend, wasmBinaryDir } from './backend.js';
import { existsSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}
const hasTfNode = installed('@tensorflow/tfjs-node-gpu') || installed('@tensorflow/tfjs-node');

describe('selectBackend', () => {
  afterAll(async () => {
    await selectBackend('wasm');
  });

  it('wasm: activates the embedded backend, one thread in Node, binaries resolved from the package', async () => {
    const sel = await selectBackend('wasm');
    expect(sel).toMatchObject({ name: 'wasm', requested: 'wasm', fellBack: false, threads: 1 });
    expect(sel.package).toBe('@tensorflow/tfjs-backend-wasm');
    expect(sel.reason).toBe('wasm as requested');
    expect(tf.getBackend()).toBe('wasm');
    expect(existsSync(path.join(wasmBinaryDir(), 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
    // It computes.
    const y = tf.tidy(() => tf.sum(tf.matMul(tf.ones([4, 3]), tf.ones([3, 2]))));
    expect(y.dataSync()[0]).toBe(24);
    y.dispose();
  });

  it('cpu: the pure-JS backend', async () => {
    const sel = await selectBackend('cpu');
    expect(sel).toMatchObject({
      name: 'cpu',
      requested: 'cpu',
      fellBack: false,
      package: '@tensorflow/tfjs',
    });
    expect(tf.getBackend()).toBe('cpu');
  });

  it("'tensorflow' without tfjs-node(-gpu) installed: a clear error naming both packages, or a reported fallback", async () => {
    if (hasTfNode) {
      // On a machine with libtensorflow bindings the request is met.
      const sel = await selectBackend('tensorflow');
      expect(sel.name).toBe('tensorflow');
      return;
    }
    const err = await selectBackend('tensorflow').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/Backend 'tensorflow' is not available/);
    expect(msg).toMatch(/@tensorflow\/tfjs-node-gpu is not installed/);
    expect(msg).toMatch(/@tensorflow\/tfjs-node is not installed/);
    expect((err as BackendUnavailableError).attempts.map((a) => a.package)).toEqual([
      '@tensorflow/tfjs-node-gpu',
      '@tensorflow/tfjs-node',
    ]);

    const sel = await selectBackend('tensorflow', { fallback: true });
    expect(sel).toMatchObject({ name: 'wasm', requested: 'tensorflow', fellBack: true });
    expect(sel.reason).toMatch(
      /^requested tensorflow unavailable: using wasm because @tensorflow\/tfjs-node-gpu is not installed/,
    );
    expect(sel.attempts.map((a) => [a.package, a.ok])).toEqual([
      ['@tensorflow/tfjs-node-gpu', false],
      ['@tensorflow/tfjs-node', false],
      ['@tensorflow/tfjs-backend-wasm', true],
    ]);
  });

  it("'auto' takes the first available backend in the order tensorflow, wasm, cpu and says why", async () => {
    const sel = await selectBackend('auto');
    expect(sel.requested).toBe('auto');
    expect(sel.fellBack).toBe(false);
    if (hasTfNode) expect(sel.name).toBe('tensorflow');
    else {
      expect(sel.name).toBe('wasm');
      expect(sel.reason).toMatch(/^auto: using wasm because @tensorflow\/tfjs-node-gpu is not installed/);
    }
  });

  it('rejects an unknown preference', async () => {
    await expect(selectBackend('webgpu' as never)).rejects.toThrow(
      /unknown backend 'webgpu'; expected one of auto, tensorflow, wasm, cpu/,
    );
  });
});
