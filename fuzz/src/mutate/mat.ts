/**
 * MATLAB Level 5 MAT-files (LIVE, LIVE Challenge metadata): a small writer for seeds and reproducers (numeric, char
 * and cell arrays; plain or zlib-compressed elements), a walker that finds every element tag (also inside compressed
 * elements) and mutations of tags, array flags, dimensions, names and character data.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import type { Rng } from '../rng.js';
import { concat, putInt } from './bytes.js';

export const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
} as const;
const CLASS = { cell: 1, char: 4, double: 6 } as const;

/** A value to write. `codes` writes a char array's raw code units with `dataType` (default UINT16). */
export type MatW =
  | { numeric: readonly number[]; dims?: readonly number[] }
  | { char: string; codes?: readonly number[]; dataType?: number; dims?: readonly number[] }
  | { cell: readonly MatW[]; dims?: readonly number[] };

function element(type: number, data: Uint8Array): Uint8Array {
  const tag = new Uint8Array(8);
  putInt(tag, 0, 4, type, true);
  putInt(tag, 4, 4, data.length, true);
  const pad = new Uint8Array((8 - (data.length % 8)) % 8);
  return concat(tag, data, pad);
}

function typed(type: number, values: readonly number[]): Uint8Array {
  const width =
    {
      [MI.INT8]: 1,
      [MI.UINT8]: 1,
      [MI.UTF8]: 1,
      [MI.INT16]: 2,
      [MI.UINT16]: 2,
      [MI.UTF16]: 2,
      [MI.INT32]: 4,
      [MI.UINT32]: 4,
      [MI.UTF32]: 4,
      [MI.DOUBLE]: 8,
    }[type] ?? 1;
  const out = new Uint8Array(values.length * width);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (type === MI.DOUBLE) dv.setFloat64(i * 8, v, true);
    else putInt(out, i * width, width as 1 | 2 | 4, v, true);
  });
  return out;
}

function matrix(name: string, v: MatW): Uint8Array {
  let cls: number;
  let dims: readonly number[];
  let body: Uint8Array[];
  if ('numeric' in v) {
    cls = CLASS.double;
    dims = v.dims ?? [1, v.numeric.length];
    body = [element(MI.DOUBLE, typed(MI.DOUBLE, v.numeric))];
  } else if ('char' in v) {
    cls = CLASS.char;
    const codes = v.codes ?? Array.from(v.char, (c) => c.codePointAt(0) ?? 0);
    dims = v.dims ?? [1, codes.length];
    body =
      codes.length === 0 ? [] : [element(v.dataType ?? MI.UINT16, typed(v.dataType ?? MI.UINT16, codes))];
  } else {
    cls = CLASS.cell;
    dims = v.dims ?? [1, v.cell.length];
    body = v.cell.map((c) => matrix('', c));
  }
  const flags = element(MI.UINT32, typed(MI.UINT32, [cls, 0]));
  const dimsEl = element(MI.INT32, typed(MI.INT32, dims));
  const nameEl = element(MI.INT8, new TextEncoder().encode(name));
  return element(MI.MATRIX, concat(flags, dimsEl, nameEl, ...body));
}

/** A MAT v5 file (little-endian) holding `vars`, each element zlib-compressed when `compress`. */
export function matFile(vars: readonly (readonly [string, MatW])[], compress = false): Uint8Array {
  const header = new Uint8Array(128).fill(0x20);
  header.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, written by the iqa-bench fuzzer'));
  header.fill(0, 116, 124);
  putInt(header, 124, 2, 0x0100, true);
  header[126] = 0x49; // 'I'
  header[127] = 0x4d; // 'M'
  const parts = vars.map(([name, v]) => {
    const m = matrix(name, v);
    if (!compress) return m;
    const z = deflateSync(m);
    const tag = new Uint8Array(8);
    putInt(tag, 0, 4, MI.COMPRESSED, true);
    putInt(tag, 4, 4, z.length, true);
    return concat(tag, z);
  });
  return concat(header, ...parts);
}

/** A tag found in a MAT buffer. */
export interface MatTag {
  at: number;
  type: number;
  size: number;
  small: boolean;
  /** flags, dims, name, data, matrix, compressed, cell */
  role: string;
}

/** The walk stops after this many tags (damaged sizes can make nested matrices overlap). */
const MAX_TAGS = 4096;

/** Every element tag of `buf` from `start` (top level) and inside matrices, recursively (not inside compressed ones). */
export function matTags(buf: Uint8Array, start = 128): MatTag[] {
  const out: MatTag[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tagAt = (
    pos: number,
  ): { type: number; size: number; small: boolean; data: number; next: number } | null => {
    if (pos + 8 > buf.length) return null;
    const first = dv.getUint32(pos, true);
    if (first >>> 16 !== 0)
      return { type: first & 0xffff, size: first >>> 16, small: true, data: pos + 4, next: pos + 8 };
    const size = dv.getUint32(pos + 4, true);
    const next = first === MI.COMPRESSED ? pos + 8 + size : pos + 8 + Math.ceil(size / 8) * 8;
    return { type: first, size, small: false, data: pos + 8, next };
  };
  const inMatrix = (from: number, end: number, depth: number): void => {
    const roles = ['flags', 'dims', 'name'];
    let pos = from;
    for (let i = 0; pos < end && out.length < MAX_TAGS; i++) {
      const t = tagAt(pos);
      if (!t) return;
      const role = i < 3 ? roles[i] : t.type === MI.MATRIX ? 'cell' : 'data';
      out.push({ at: pos, type: t.type, size: t.size, small: t.small, role });
      if (t.type === MI.MATRIX && depth < 8) inMatrix(t.data, Math.min(end, t.data + t.size), depth + 1);
      pos = t.next;
    }
  };
  let pos = start;
  while (pos + 8 <= buf.length && out.length < MAX_TAGS) {
    const t = tagAt(pos);
    if (!t) break;
    out.push({
      at: pos,
      type: t.type,
      size: t.size,
      small: t.small,
      role: t.type === MI.COMPRESSED ? 'compressed' : 'matrix',
    });
    if (t.type === MI.MATRIX) inMatrix(t.data, Math.min(buf.length, t.data + t.size), 0);
    if (t.next <= pos) break;
    pos = t.next;
  }
  return out;
}

const TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 255];
const CHAR_CODES = [
  0, 0x7f, 0xff, 0xd800, 0xdfff, 0xfffe, 0x10ffff, 0x110000, 0x7fffffff, 0x80000000, 0xffffffff,
];

/** One structural mutation of an uncompressed MAT buffer region (tags from `matTags`). */
function mutateTags(buf: Uint8Array, rng: Rng, start: number): { bytes: Uint8Array; note: string } {
  const tags = matTags(buf, start).filter((t) => t.role !== 'compressed');
  if (tags.length === 0) return { bytes: buf, note: 'no tags' };
  const t = rng.pick(tags);
  const out = buf.slice();
  const data = t.small ? t.at + 4 : t.at + 8;
  const op = rng.int(6);
  if (op === 0) {
    const v = rng.pick(TYPES);
    putInt(out, t.at, t.small ? 2 : 4, v, true);
    return { bytes: out, note: `${t.role} tag @${t.at} type ${t.type} -> ${v}` };
  }
  if (op === 1 && !t.small) {
    const v = rng.chance(0.5) ? rng.interestingInt() : t.size + rng.pick([-8, -1, 1, 8, 4096]);
    putInt(out, t.at + 4, 4, v, true);
    return { bytes: out, note: `${t.role} tag @${t.at} size ${t.size} -> ${v >>> 0}` };
  }
  if (t.role === 'flags') {
    const cls = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 15, 16, 255]);
    const bits = rng.pick([0, 0x200, 0x400, 0x800]);
    putInt(out, data, 4, cls | bits, true);
    return { bytes: out, note: `array flags @${data} class ${cls} bits ${bits}` };
  }
  if (t.role === 'dims') {
    const n = Math.max(1, Math.floor(t.size / 4));
    const i = rng.int(n);
    const v = rng.pick([0, 1, 2, -1, 3, 1000, 65536, 0x7fffffff, -(2 ** 31), 50_000_001]);
    putInt(out, data + i * 4, 4, v, true);
    return { bytes: out, note: `dimension ${i + 1} @${data + i * 4} -> ${v}` };
  }
  if (t.role === 'data' && t.size > 0) {
    const width = [MI.INT32, MI.UINT32, MI.UTF32, MI.SINGLE].includes(t.type as 5)
      ? 4
      : [MI.INT16, MI.UINT16, MI.UTF16].includes(t.type as 3)
        ? 2
        : t.type === MI.DOUBLE
          ? 8
          : 1;
    // The tag's declared size may run past the bytes there are (an earlier mutation, a cut file): stay inside them.
    const n = Math.max(1, Math.floor(Math.min(t.size, out.length - data) / width));
    const i = rng.int(n);
    if (width === 8 && data + i * 8 + 8 <= out.length) {
      new DataView(out.buffer, out.byteOffset, out.byteLength).setFloat64(
        data + i * 8,
        rng.pick([NaN, Infinity, -Infinity, 1e308, -0, 2 ** 53 + 2]),
        true,
      );
      return { bytes: out, note: `double ${i} @${data + i * 8} set to a boundary value` };
    }
    const v = rng.pick(CHAR_CODES);
    putInt(out, data + i * width, width as 1 | 2 | 4, v, true);
    return { bytes: out, note: `data value ${i} (type ${t.type}) @${data + i * width} -> ${v >>> 0}` };
  }
  if (t.role === 'name' && !t.small) {
    putInt(out, t.at + 4, 4, rng.pick([0, 1, 63, 64, 65, 4096, 0xffffffff]), true);
    return { bytes: out, note: `name length @${t.at + 4} changed` };
  }
  out[data] = rng.int(256);
  return { bytes: out, note: `${t.role} data byte @${data} changed` };
}

/** One structure-aware mutation of a MAT file (inside a compressed element when there is one). */
export function mutateMat(buf: Uint8Array, rng: Rng): { bytes: Uint8Array; note: string } {
  const top = matTags(buf);
  const compressed = top.filter((t) => t.role === 'compressed' && t.at + 8 + t.size <= buf.length);
  if (compressed.length > 0 && rng.chance(0.8)) {
    const c = rng.pick(compressed);
    let inner: Uint8Array;
    try {
      inner = inflateSync(buf.subarray(c.at + 8, c.at + 8 + c.size));
    } catch {
      return mutateTags(buf, rng, 128);
    }
    let note: string;
    let changed: Uint8Array;
    if (rng.chance(0.1)) {
      changed = concat(inner, new Uint8Array(rng.pick([1 << 20, 16 << 20])));
      note = `compressed element @${c.at} inflates to ${changed.length} bytes`;
    } else {
      const m = mutateTags(inner, rng, 0);
      changed = m.bytes;
      note = `in compressed element @${c.at}: ${m.note}`;
    }
    const z = deflateSync(changed, { level: 1 });
    const tag = new Uint8Array(8);
    putInt(tag, 0, 4, MI.COMPRESSED, true);
    putInt(tag, 4, 4, z.length, true);
    return { bytes: concat(buf.subarray(0, c.at), tag, z, buf.subarray(c.at + 8 + c.size)), note };
  }
  return mutateTags(buf, rng, 128);
}
