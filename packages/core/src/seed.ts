/**
 * `@iqa-bench/core/seed`: where every random number in iqa-bench comes from.
 *
 * One scheme: a random stream is identified by a *seed path*, a list of labels and counters such as
 * `['iqa-bench', 7, 'round', 0, 'epoch', 3]`, joined with `/` into a key for seedrandom's ARC4 generator. The path
 * says what the randomness is for (a split, a patch of an epoch, a dropout mask of a step), so any draw can be
 * regenerated from its coordinates alone, independent of the order in which other draws happened, and a resumed run
 * draws exactly what an uninterrupted one would. Integer seeds for TensorFlow.js ops are the first 32 bits of such a
 * stream, folded into [1, 2^31 - 1] (tfjs treats seed 0 as "unseeded").
 *
 * Parameter initialisation keys its seeds by parameter name with `nameSeed` (FNV-1a of `${seed}:${name}`), so the
 * initial values do not depend on the order in which a model registers its parameters.
 */
import seedrandom from 'seedrandom';

/** One element of a seed path. */
export type SeedPart = string | number;

/** A uniform generator in [0, 1) with 32-bit and 53-bit variants (a seedrandom ARC4 generator). */
export interface SeededRandom {
  (): number;
  /** A signed 32-bit integer. */
  int32(): number;
  /** Uniform in [0, 1) with 53 bits of randomness. */
  double(): number;
  /** Uniform in [0, 1) with 32 bits of randomness. */
  quick(): number;
}

/** The serialisable state of an ARC4 stream. */
export type RngState = seedrandom.State.Arc4;

/** The key of a seed path: its parts joined with `/`. */
export function seedKey(...path: readonly SeedPart[]): string {
  return path.map(String).join('/');
}

/** The random stream of a seed path. */
export function seededRandom(...path: readonly SeedPart[]): SeededRandom {
  return seedrandom(seedKey(...path));
}

/** Folds 32 random bits into a valid non-zero 31-bit seed, [1, 2^31 - 1]. */
function foldSeed(int32: number): number {
  return 1 + ((int32 >>> 0) % 2147483646);
}

/** A 31-bit integer seed in [1, 2^31 - 1] for the seed path (the first draw of its stream). */
export function deriveSeed(...path: readonly SeedPart[]): number {
  return foldSeed(seededRandom(...path).int32());
}

/** FNV-1a of `${seed}:${name}`, folded into [1, 2^31 - 1]: the seed of one named parameter's initial values. */
export function nameSeed(seed: number, name: string): number {
  let h = 0x811c9dc5;
  const s = `${seed}:${name}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) % 2147483646) + 1;
}

/** A random stream whose position can be saved (`state()`) and continued later (`RngStream.restore`). */
export class RngStream {
  private readonly prng: seedrandom.StatefulPRNG<RngState>;

  private constructor(prng: seedrandom.StatefulPRNG<RngState>) {
    this.prng = prng;
  }

  /** The stream of a seed path, at its start. */
  static fromPath(...path: readonly SeedPart[]): RngStream {
    return new RngStream(seedrandom(seedKey(...path), { state: true }));
  }

  /** Continues a stream from a state obtained with `state()`; the state is checked first (it may come from a file). */
  static restore(state: RngState): RngStream {
    if (
      typeof state !== 'object' ||
      state === null ||
      !Number.isInteger(state.i) ||
      !Number.isInteger(state.j) ||
      !Array.isArray(state.S) ||
      state.S.length !== 256 ||
      !state.S.every((v) => Number.isInteger(v) && v >= 0 && v < 256)
    ) {
      throw new Error('RngStream.restore: expected an ARC4 state {i, j, S[256]} of bytes');
    }
    return new RngStream(seedrandom('', { state: { i: state.i, j: state.j, S: [...state.S] } }));
  }

  /** Uniform in [0, 1) with 53 bits. */
  next(): number {
    return this.prng.double();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.prng.double() * n);
  }

  /** A fresh non-zero 31-bit seed for a tfjs random op. */
  seed(): number {
    return foldSeed(this.prng.int32());
  }

  state(): RngState {
    return this.prng.state();
  }
}

/**
 * Shuffles `items` in place with Fisher–Yates (from the last element down, `j = floor(random() * (i + 1))`) and
 * returns it: the same draws give the same order on every platform.
 */
export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}
