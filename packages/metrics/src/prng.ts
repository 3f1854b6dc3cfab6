/**
 * The one seeded pseudo-random generator of @iqa-bench/metrics (kept dependency-free on purpose).
 *
 * Generator: xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
 * 2021): 128-bit state, period 2^128 − 1, 32-bit outputs. The state is expanded from the 32-bit seed
 * by a Weyl sequence (step 0x9E3779B9) passed through the MurmurHash3 32-bit finaliser, so nearby
 * seeds give unrelated streams. Integers below a bound are drawn without modulo bias (rejection).
 * Same seed, same sequence, on every platform.
 */

/** A seeded stream of pseudo-random integers. */
export interface Prng {
  /** Next 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform integer in [0, bound), bound a positive integer ≤ 2^32. */
  nextBelow(bound: number): number;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Checks a seed: an integer in [0, 2^32). `where` names the caller in the error. */
export function checkSeed(where: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`${where}: seed must be an integer in [0, 2^32), got ${String(seed)}`);
  }
  return seed;
}

/** Creates the generator for `seed` (an integer in [0, 2^32)). */
export function createPrng(seed: number): Prng {
  checkSeed('createPrng', seed);
  let weyl = seed >>> 0;
  const s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    weyl = (weyl + 0x9e3779b9) >>> 0;
    s[i] = fmix32(weyl);
  }
  // The all-zero state is the one fixed point; fmix32 is a bijection, so this needs all four hashes zero.
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };

  return {
    nextUint32,
    nextBelow(bound: number): number {
      if (!Number.isInteger(bound) || bound < 1 || bound > 0x100000000) {
        throw new RangeError(`nextBelow: bound must be an integer in [1, 2^32], got ${bound}`);
      }
      // Accept draws below the largest multiple of bound that fits in 32 bits.
      const limit = 0x100000000 - (0x100000000 % bound);
      for (;;) {
        const x = nextUint32();
        if (x < limit) return x % bound;
      }
    },
  };
}
