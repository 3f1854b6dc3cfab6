/** Format-blind byte mutations: flips, boundary values, inserts, deletes, duplication, truncation, splices. */
import type { Rng } from '../rng.js';

/** A mutation's result and a short description of what it did (kept with every reproducer). */
export interface Mutated {
  bytes: Uint8Array;
  note: string;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export { concat };

/** Overwrites `width` bytes at `at` with `value` (little- or big-endian), clipped to the buffer. */
export function putInt(
  bytes: Uint8Array,
  at: number,
  width: 1 | 2 | 4 | 8,
  value: number,
  little: boolean,
): void {
  let v = BigInt.asUintN(width * 8, BigInt(Math.trunc(value)));
  for (let i = 0; i < width; i++) {
    const pos = little ? at + i : at + width - 1 - i;
    if (pos >= 0 && pos < bytes.length) bytes[pos] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** One random byte-level mutation of `input` (never modifies it). `others` are splice partners. */
export function mutateBytes(input: Uint8Array, rng: Rng, others: readonly Uint8Array[] = []): Mutated {
  const n = input.length;
  const at = n === 0 ? 0 : rng.int(n);
  const kind = rng.weighted<string>([
    [4, 'flip'],
    [3, 'byte'],
    [3, 'int'],
    [2, 'insert'],
    [3, 'delete'],
    [1, 'duplicate'],
    [2, 'truncate'],
    [1, 'splice'],
    [1, 'append'],
  ]);
  switch (kind) {
    case 'flip': {
      const out = input.slice();
      const flips = rng.range(1, 4);
      for (let i = 0; i < flips && n > 0; i++) out[rng.int(n)] ^= 1 << rng.int(8);
      return { bytes: out, note: `flip ${flips} bit(s) near ${at}` };
    }
    case 'byte': {
      const out = input.slice();
      const v = rng.pick([0, 1, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x22, 0x5b, 0x7b, 0x2c, 0x3a]);
      if (n > 0) out[at] = v;
      return { bytes: out, note: `byte ${at} = ${v}` };
    }
    case 'int': {
      const out = input.slice();
      const width = rng.pick([1, 2, 4, 8] as const);
      const v = rng.interestingInt();
      const little = rng.chance(0.8);
      putInt(out, at, width, v, little);
      return { bytes: out, note: `int${width * 8}${little ? 'le' : 'be'} ${v} at ${at}` };
    }
    case 'insert': {
      const len = rng.length(256);
      const fill = rng.chance(0.5) ? rng.bytes(len) : new Uint8Array(len).fill(rng.int(256));
      return {
        bytes: concat(input.subarray(0, at), fill, input.subarray(at)),
        note: `insert ${len} at ${at}`,
      };
    }
    case 'delete': {
      const len = Math.min(n - at, rng.length(64) + 1);
      return {
        bytes: concat(input.subarray(0, at), input.subarray(at + len)),
        note: `delete ${len} at ${at}`,
      };
    }
    case 'duplicate': {
      const len = Math.min(n - at, rng.length(512) + 1);
      const times = rng.range(1, 8);
      const chunk = input.subarray(at, at + len);
      return {
        bytes: concat(
          input.subarray(0, at + len),
          ...Array<Uint8Array>(times).fill(chunk),
          input.subarray(at + len),
        ),
        note: `duplicate ${len} at ${at} x${times}`,
      };
    }
    case 'truncate':
      return { bytes: input.slice(0, at), note: `truncate to ${at}` };
    case 'splice': {
      if (others.length === 0) return mutateBytes(input, rng);
      const other = rng.pick(others);
      const from = other.length === 0 ? 0 : rng.int(other.length);
      return {
        bytes: concat(input.subarray(0, at), other.subarray(from)),
        note: `splice at ${at} from another seed at ${from}`,
      };
    }
    default: {
      const len = rng.length(4096) + 1;
      return { bytes: concat(input, rng.bytes(len)), note: `append ${len}` };
    }
  }
}

/** `count` stacked byte mutations. */
export function mutateBytesN(
  input: Uint8Array,
  rng: Rng,
  count: number,
  others: readonly Uint8Array[] = [],
): Mutated {
  let bytes = input;
  const notes: string[] = [];
  for (let i = 0; i < count; i++) {
    const m = mutateBytes(bytes, rng, others);
    bytes = m.bytes;
    notes.push(m.note);
  }
  return { bytes, note: notes.join('; ') };
}
