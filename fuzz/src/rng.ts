/**
 * The fuzzer's random numbers: one seedrandom stream per input, keyed by the @iqa-bench/core seed-path scheme
 * (`['fuzz', seed, format, index]`), so input `index` of a format is the same on every machine and in every worker,
 * whatever order the inputs run in.
 */
import { seededRandom, type SeedPart, type SeededRandom } from '@iqa-bench/core/seed';

/** Integers that break size and offset arithmetic: zero, signs, powers of two and their neighbours, float limits. */
export const INTERESTING_INTS: readonly number[] = [
  0,
  1,
  -1,
  2,
  7,
  8,
  15,
  16,
  127,
  128,
  255,
  256,
  4095,
  4096,
  32767,
  32768,
  65535,
  65536,
  2 ** 24,
  2 ** 26,
  2 ** 30,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -(2 ** 31),
  1e9,
];

export class Rng {
  private readonly random: SeededRandom;

  constructor(...path: readonly SeedPart[]) {
    this.random = seededRandom(...path);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.random.double();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.random.double() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.random.double() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[this.int(items.length)];
  }

  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((s, [w]) => s + w, 0);
    let x = this.random.double() * total;
    for (const [w, v] of items) {
      x -= w;
      if (x < 0) return v;
    }
    return items[items.length - 1][1];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /** A boundary integer (mostly) or a small random one. */
  interestingInt(): number {
    return this.chance(0.75) ? this.pick(INTERESTING_INTS) : this.range(-4, 300);
  }

  /** A small exponent-distributed length: mostly short, sometimes long. */
  length(max: number): number {
    return Math.min(max, Math.floor(2 ** (this.next() * Math.log2(max + 1))));
  }
}
