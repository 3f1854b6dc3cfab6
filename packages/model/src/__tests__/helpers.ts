/** Shared test helpers: backend setup and deterministic values independent of tfjs randomness. */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export const PARITY_MICRO = fileURLToPath(new URL('../../fixtures/parity/micro/', import.meta.url));

export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  if (tf.getBackend() !== name) {
    await tf.setBackend(name);
    await tf.ready();
  }
}

/** Deterministic values in [-1, 1) from a 32-bit LCG. */
export function lcgValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** A fresh seed source 1, 2, 3, … scaled by `base` (never 0). */
export function seedSequence(base = 1000): () => number {
  let i = 0;
  return () => base + ++i;
}

/** max |a - b| / max |b|. */
export function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let md = 0;
  let mb = 0;
  for (let i = 0; i < a.length; i++) {
    md = Math.max(md, Math.abs(a[i] - b[i]));
    mb = Math.max(mb, Math.abs(b[i]));
  }
  return mb === 0 ? md : md / mb;
}
