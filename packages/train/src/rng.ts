/**
 * Seeded randomness for training runs.
 *
 * Every random draw of a run derives from the run seed through a *path* of labels and counters
 * (`deriveSeed(seed, 'round', 0, 'epoch', 3, 'step', 17, 'micro', 1)`): counter-based, so the draws of any step can be
 * regenerated from its coordinates alone, and a resumed run draws exactly what an uninterrupted one would. Streams
 * (`RngStream`) are seedrandom ARC4 generators whose state is serialisable (`state()` / `RngStream.restore`).
 */
import seedrandom from 'seedrandom';

export type RngState = seedrandom.State.Arc4;

/** A 32-bit seed in [1, 2^31 - 1] (never 0: tfjs treats seed 0 as unseeded) derived from `seed` and a path. */
export function deriveSeed(seed: number, ...path: (string | number)[]): number {
  const key = `iqa-bench/${seed}/${path.join('/')}`;
  const u = seedrandom(key).int32() >>> 0;
  return 1 + (u % 2147483646);
}

/** A seedrandom ARC4 stream with serialisable state. */
export class RngStream {
  private readonly prng: seedrandom.StatefulPRNG<RngState>;

  private constructor(prng: seedrandom.StatefulPRNG<RngState>) {
    this.prng = prng;
  }

  static fromSeed(seed: number, ...path: (string | number)[]): RngStream {
    return new RngStream(seedrandom(`iqa-bench-stream/${seed}/${path.join('/')}`, { state: true }));
  }

  /** Continues a stream from a state obtained with `state()`. */
  static restore(state: RngState): RngStream {
    if (
      typeof state !== 'object' ||
      state === null ||
      !Number.isInteger(state.i) ||
      !Number.isInteger(state.j) ||
      !Array.isArray(state.S) ||
      state.S.length !== 256
    ) {
      throw new Error('RngStream.restore: expected an ARC4 state {i, j, S[256]}');
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
    return 1 + ((this.prng.int32() >>> 0) % 2147483646);
  }

  state(): RngState {
    return this.prng.state();
  }
}

/** The model's SeedSource contract: fresh non-zero integer seeds, in call order. */
export type SeedSource = () => number;

/**
 * The seeds of one forward pass: a stream keyed by the pass's coordinates, so a recomputation (activation
 * checkpointing, the second pass of a batch-level loss) replays exactly the same dropout / drop-path masks.
 */
export function seedSourceFor(seed: number, ...path: (string | number)[]): SeedSource {
  const stream = RngStream.fromSeed(seed, 'dropout', ...path);
  return () => stream.seed();
}

/** Fisher-Yates permutation of [0, n) drawn from `rng`. */
export function permutation(n: number, rng: RngStream): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
