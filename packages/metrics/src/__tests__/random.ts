/** Test support (not built): seeded random data from the package's own generator. */
import { createPrng } from '../prng.js';

/** n standard normal draws (Box–Muller on the seeded generator). */
export function normals(seed: number, n: number): Float64Array {
  const rng = createPrng(seed);
  const uniform = (): number => (rng.nextUint32() + 0.5) / 2 ** 32;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const a = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

/** n integers in [0, levels): tie-heavy data. */
export function integers(seed: number, n: number, levels: number): Float64Array {
  const rng = createPrng(seed);
  return Float64Array.from({ length: n }, () => rng.nextBelow(levels));
}

/** y = x + noise·N(0, 1), a correlated pair. */
export function correlated(seed: number, n: number, noise: number): { x: Float64Array; y: Float64Array } {
  const x = normals(seed, n);
  const e = normals(seed + 1, n);
  return { x, y: x.map((v, i) => v + noise * e[i]) };
}
