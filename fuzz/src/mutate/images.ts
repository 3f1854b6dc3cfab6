/**
 * Image containers: a BMP writer (every header and pixel layout the decoder meets, for seeds and reproducers) and
 * structure-aware mutations of BMP headers, PNG chunks (CRCs kept valid), JPEG segments and TIFF directories.
 */
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import type { Rng } from '../rng.js';
import { concat, putInt } from './bytes.js';

export interface BmpSpec {
  width: number;
  height: number;
  bpp: 1 | 4 | 8 | 16 | 24 | 32;
  /** 0 = BI_RGB, 3 = BI_BITFIELDS. */
  compression?: 0 | 3;
  /** R, G, B masks (BI_BITFIELDS), written after a 40-byte header or inside a V4/V5 header. */
  masks?: readonly [number, number, number];
  /** 12 (OS/2), 40, 108 (V4), 124 (V5). */
  headerSize?: 12 | 40 | 108 | 124;
  topDown?: boolean;
  /** RGB of pixel (x, y), 0-255. */
  pixel: (x: number, y: number) => readonly [number, number, number];
}

/** Encodes a BMP; palette images use a fixed grey palette (index = grey level / step). */
export function bmp(s: BmpSpec): Uint8Array {
  const headerSize = s.headerSize ?? 40;
  const compression = s.compression ?? 0;
  const paletteN = s.bpp <= 8 ? 1 << s.bpp : 0;
  const entry = headerSize === 12 ? 3 : 4;
  const masksAfter = compression === 3 && headerSize === 40 ? 12 : 0;
  const stride = Math.floor((s.width * s.bpp + 31) / 32) * 4;
  const dataOffset = 14 + headerSize + masksAfter + paletteN * entry;
  const out = new Uint8Array(dataOffset + stride * s.height);
  out[0] = 0x42;
  out[1] = 0x4d;
  putInt(out, 2, 4, out.length, true);
  putInt(out, 10, 4, dataOffset, true);
  putInt(out, 14, 4, headerSize, true);
  if (headerSize === 12) {
    putInt(out, 18, 2, s.width, true);
    putInt(out, 20, 2, s.topDown ? -s.height : s.height, true);
    putInt(out, 22, 2, 1, true);
    putInt(out, 24, 2, s.bpp, true);
  } else {
    putInt(out, 18, 4, s.width, true);
    putInt(out, 22, 4, s.topDown ? -s.height : s.height, true);
    putInt(out, 26, 2, 1, true);
    putInt(out, 28, 2, s.bpp, true);
    putInt(out, 30, 4, compression, true);
    putInt(out, 34, 4, stride * s.height, true);
    putInt(out, 38, 4, 2835, true);
    putInt(out, 42, 4, 2835, true);
    if (compression === 3 && s.masks) s.masks.forEach((m, i) => putInt(out, 54 + i * 4, 4, m, true));
  }
  const palStart = 14 + headerSize + masksAfter;
  for (let i = 0; i < paletteN; i++) {
    const g = Math.round((i * 255) / (paletteN - 1));
    out.fill(g, palStart + i * entry, palStart + i * entry + 3);
  }
  const levels = paletteN - 1;
  const masks = s.masks ?? (s.bpp === 16 ? [0x7c00, 0x03e0, 0x001f] : [0xff0000, 0xff00, 0xff]);
  for (let y = 0; y < s.height; y++) {
    const row = dataOffset + (s.topDown ? y : s.height - 1 - y) * stride;
    for (let x = 0; x < s.width; x++) {
      const [r, g, b] = s.pixel(x, y);
      if (s.bpp === 24 || (s.bpp === 32 && compression === 0)) {
        const o = row + x * (s.bpp / 8);
        out[o] = b;
        out[o + 1] = g;
        out[o + 2] = r;
      } else if (s.bpp === 16 || s.bpp === 32) {
        let v = 0;
        [r, g, b].forEach((c, i) => {
          const m = masks[i] >>> 0;
          if (m === 0) return;
          let shift = 0;
          while (shift < 32 && ((m >>> shift) & 1) === 0) shift++;
          let bits = 0;
          while (shift + bits < 32 && ((m >>> (shift + bits)) & 1) === 1) bits++;
          v = (v | ((Math.round((c * (2 ** bits - 1)) / 255) * 2 ** shift) & m)) >>> 0;
        });
        putInt(out, row + x * (s.bpp / 8), (s.bpp / 8) as 2 | 4, v, true);
      } else {
        const idx = Math.round(((r + g + b) / 3 / 255) * levels);
        const bit = x * s.bpp;
        out[row + (bit >> 3)] |= idx << (8 - s.bpp - (bit & 7));
      }
    }
  }
  return out;
}

const BMP_FIELDS: readonly [number, 2 | 4, string][] = [
  [2, 4, 'file size'],
  [10, 4, 'pixel data offset'],
  [14, 4, 'header size'],
  [18, 4, 'width'],
  [22, 4, 'height'],
  [26, 2, 'planes'],
  [28, 2, 'bits per pixel'],
  [30, 4, 'compression'],
  [34, 4, 'image size'],
  [46, 4, 'colours used'],
  [54, 4, 'red mask'],
  [58, 4, 'green mask'],
  [62, 4, 'blue mask'],
  [66, 4, 'alpha mask'],
];

const BMP_VALUES = [
  0, 1, 2, 3, 4, 5, 6, 8, 12, 15, 16, 24, 32, 40, 52, 56, 64, 108, 124, 255, 256, 257, 0xff, 0xff00, 0xff0000,
  0xff000000, 0xf800, 0x07e0, 0x001f, 0x7fffffff, 0x80000000, 0xffffffff, 0x80000001, 65535, 100_000, -1, -2,
];

export function mutateBmp(b: Uint8Array, rng: Rng): { bytes: Uint8Array; note: string } {
  const out = b.slice();
  const [at, width, what] = rng.pick(BMP_FIELDS);
  const dv = new DataView(out.buffer);
  const cur = at + width <= out.length ? (width === 2 ? dv.getUint16(at, true) : dv.getUint32(at, true)) : 0;
  const v = rng.chance(0.7) ? rng.pick(BMP_VALUES) : cur + rng.pick([-1, 1, -4, 4, 1024]);
  putInt(out, at, width, v, true);
  return { bytes: out, note: `BMP ${what} ${cur} -> ${v >>> 0}` };
}

// ---------------------------------------------------------------------------------------------------------------------
// PNG

interface Chunk {
  type: string;
  data: Uint8Array;
}

function pngChunks(b: Uint8Array): Chunk[] | null {
  if (b.length < 8) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Chunk[] = [];
  let pos = 8;
  while (pos + 12 <= b.length) {
    const len = dv.getUint32(pos);
    if (pos + 12 + len > b.length) return null;
    out.push({
      type: String.fromCharCode(...b.subarray(pos + 4, pos + 8)),
      data: b.slice(pos + 8, pos + 8 + len),
    });
    pos += 12 + len;
  }
  return out;
}

function pngBytes(chunks: readonly Chunk[], lengthOverride?: { index: number; value: number }): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])];
  chunks.forEach((c, i) => {
    const head = new Uint8Array(8);
    putInt(head, 0, 4, lengthOverride?.index === i ? lengthOverride.value : c.data.length, false);
    for (let k = 0; k < 4; k++) head[4 + k] = c.type.charCodeAt(k) & 0xff;
    const crc = new Uint8Array(4);
    putInt(crc, 0, 4, crc32(concat(head.subarray(4), c.data)), false);
    parts.push(head, c.data, crc);
  });
  return concat(...parts);
}

export function mutatePng(b: Uint8Array, rng: Rng): { bytes: Uint8Array; note: string } {
  const chunks = pngChunks(b);
  if (!chunks || chunks.length === 0) return { bytes: b, note: 'not a chunked PNG' };
  const op = rng.int(8);
  const ihdr = chunks.find((c) => c.type === 'IHDR');
  if (op <= 1 && ihdr && ihdr.data.length >= 13) {
    const fields: [number, 1 | 4, string, number[]][] = [
      [0, 4, 'width', [0, 1, 65535, 65536, 100_000, 0x7fffffff, 0x80000000, 0xffffffff]],
      [4, 4, 'height', [0, 1, 65535, 65536, 100_000, 0x7fffffff, 0x80000000, 0xffffffff]],
      [8, 1, 'bit depth', [0, 1, 2, 4, 8, 16, 3, 255]],
      [9, 1, 'colour type', [0, 1, 2, 3, 4, 5, 6, 7, 255]],
      [10, 1, 'compression', [0, 1, 255]],
      [11, 1, 'filter', [0, 1, 255]],
      [12, 1, 'interlace', [0, 1, 2]],
    ];
    const [at, width, what, values] = rng.pick(fields);
    const v = rng.pick(values);
    putInt(ihdr.data, at, width, v, false);
    return { bytes: pngBytes(chunks), note: `IHDR ${what} = ${v}` };
  }
  const idat = chunks.filter((c) => c.type === 'IDAT');
  if (op === 2 && idat.length > 0) {
    let raw: Uint8Array;
    try {
      raw = inflateSync(concat(...idat.map((c) => c.data)));
    } catch {
      return { bytes: b, note: 'IDAT does not inflate' };
    }
    const kind = rng.int(3);
    const changed = raw.slice();
    let note: string;
    if (kind === 0) {
      for (let i = 0; i < 8; i++) changed[rng.int(changed.length)] = rng.int(256);
      note = 'IDAT: filtered bytes changed';
    } else if (kind === 1) {
      note = 'IDAT: raw data cut';
      raw = raw.subarray(0, rng.int(raw.length));
    } else {
      note = 'IDAT: 16 MiB of extra raw data';
    }
    const data = kind === 1 ? raw : kind === 2 ? concat(raw, new Uint8Array(16 << 20)) : changed;
    const first = chunks.indexOf(idat[0]);
    const rest = chunks.filter((c) => c.type !== 'IDAT');
    rest.splice(first, 0, { type: 'IDAT', data: deflateSync(data, { level: 1 }) });
    return { bytes: pngBytes(rest), note };
  }
  if (op === 3) {
    const i = rng.int(chunks.length);
    const v = rng.pick([0, 1, 0x7fffffff, 0xffffffff, chunks[i].data.length + 1]);
    return { bytes: pngBytes(chunks, { index: i, value: v }), note: `${chunks[i].type} length -> ${v}` };
  }
  if (op === 4) {
    const extra: Chunk = rng.pick([
      {
        type: 'iCCP',
        data: concat(new TextEncoder().encode('icc\0\0'), deflateSync(new Uint8Array(8 << 20), { level: 1 })),
      },
      {
        type: 'zTXt',
        data: concat(new TextEncoder().encode('k\0\0'), deflateSync(new Uint8Array(8 << 20), { level: 1 })),
      },
      { type: 'PLTE', data: new Uint8Array(rng.pick([0, 3, 768, 769])) },
      { type: 'tRNS', data: new Uint8Array(300) },
      { type: 'eXIf', data: new Uint8Array(64).fill(0xff) },
      { type: 'acTL', data: new Uint8Array([0, 0, 0, 1, 0, 0, 0, 0]) },
      { type: 'IEND', data: new Uint8Array(0) },
    ]);
    const at = rng.range(1, chunks.length);
    chunks.splice(at, 0, extra);
    return { bytes: pngBytes(chunks), note: `insert ${extra.type} chunk at ${at}` };
  }
  if (op === 5 && chunks.length > 1) {
    const i = rng.int(chunks.length);
    const [c] = chunks.splice(i, 1);
    if (rng.chance(0.5)) chunks.splice(rng.int(chunks.length + 1), 0, c, c);
    return { bytes: pngBytes(chunks), note: `move / duplicate ${c.type}` };
  }
  if (op === 6) {
    const i = rng.int(chunks.length);
    const d = chunks[i].data;
    if (d.length > 0) d[rng.int(d.length)] ^= 1 << rng.int(8);
    return { bytes: pngBytes(chunks), note: `${chunks[i].type}: bit flipped (CRC recomputed)` };
  }
  const i = rng.int(chunks.length);
  return { bytes: pngBytes(chunks.slice(0, i)), note: `keep the first ${i} chunks` };
}

// ---------------------------------------------------------------------------------------------------------------------
// JPEG

interface Segment {
  at: number;
  marker: number;
  len: number;
}

function jpegSegments(b: Uint8Array): Segment[] {
  const out: Segment[] = [];
  let pos = 2;
  while (pos + 4 <= b.length && b[pos] === 0xff) {
    const marker = b[pos + 1];
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      pos += 2;
      continue;
    }
    const len = (b[pos + 2] << 8) | b[pos + 3];
    out.push({ at: pos, marker, len });
    if (marker === 0xda || marker === 0xd9) break;
    pos += 2 + len;
  }
  return out;
}

export function mutateJpeg(b: Uint8Array, rng: Rng): { bytes: Uint8Array; note: string } {
  const segs = jpegSegments(b);
  if (segs.length === 0) return { bytes: b, note: 'no JPEG segments' };
  const out = b.slice();
  const op = rng.int(6);
  const sof = segs.find(
    (s) =>
      s.marker >= 0xc0 && s.marker <= 0xcf && s.marker !== 0xc4 && s.marker !== 0xc8 && s.marker !== 0xcc,
  );
  if (op <= 1 && sof) {
    const fields: [number, 1 | 2, string, number[]][] = [
      [4, 1, 'precision', [0, 1, 8, 12, 16, 255]],
      [5, 2, 'height', [0, 1, 65535, 16384]],
      [7, 2, 'width', [0, 1, 65535, 16384]],
      [9, 1, 'components', [0, 1, 2, 3, 4, 5, 255]],
      [11, 1, 'sampling', [0x00, 0x11, 0x22, 0x44, 0x41, 0x14, 0xff]],
      [12, 1, 'quant table', [0, 1, 3, 4, 255]],
    ];
    const [off, width, what, values] = rng.pick(fields);
    const v = rng.pick(values);
    putInt(out, sof.at + off, width, v, false);
    return { bytes: out, note: `SOF${sof.marker - 0xc0} ${what} = ${v}` };
  }
  if (op === 2) {
    const s = rng.pick(segs);
    const v = rng.pick([0, 1, 2, 3, 0xffff, s.len + 1, s.len - 1]);
    putInt(out, s.at + 2, 2, v, false);
    return { bytes: out, note: `segment 0x${s.marker.toString(16)} length ${s.len} -> ${v}` };
  }
  if (op === 3) {
    const s = rng.pick(segs);
    const body = s.at + 4;
    const n = Math.max(0, Math.min(s.len - 2, out.length - body));
    for (let i = 0; i < 4 && n > 0; i++)
      out[body + rng.int(n)] = rng.pick([0, 0xff, 0x10, 0x11, rng.int(256)]);
    return { bytes: out, note: `segment 0x${s.marker.toString(16)} body bytes changed` };
  }
  if (op === 4) {
    const marker = rng.pick([0xe1, 0xe2, 0xfe, 0xdd, 0xc4, 0xdb, 0xc2]);
    const body =
      marker === 0xdd
        ? new Uint8Array([0, 1])
        : new Uint8Array(rng.pick([0, 2, 100, 65533])).fill(rng.int(256));
    const seg = new Uint8Array(4 + body.length);
    seg[0] = 0xff;
    seg[1] = marker;
    putInt(seg, 2, 2, body.length + 2, false);
    seg.set(body, 4);
    const at = rng.pick(segs).at;
    return {
      bytes: concat(out.subarray(0, at), seg, out.subarray(at)),
      note: `insert marker 0x${marker.toString(16)} (${body.length} bytes)`,
    };
  }
  const scan = segs.find((s) => s.marker === 0xda);
  const from = scan ? scan.at : 0;
  const at = from + rng.int(Math.max(1, out.length - from));
  return { bytes: out.subarray(0, at).slice(), note: `cut inside the scan at ${at}` };
}

// ---------------------------------------------------------------------------------------------------------------------
// TIFF

export function mutateTiff(b: Uint8Array, rng: Rng): { bytes: Uint8Array; note: string } {
  if (b.length < 8) return { bytes: b, note: 'short TIFF' };
  const little = b[0] === 0x49;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ifd = dv.getUint32(4, little);
  if (ifd + 2 > b.length) return { bytes: b, note: 'IFD outside the file' };
  const n = dv.getUint16(ifd, little);
  const out = b.slice();
  const op = rng.int(5);
  if (op === 0) {
    const v = rng.pick([0, 1, 0xffff, n + 1, 4096]);
    putInt(out, ifd, 2, v, little);
    return { bytes: out, note: `IFD entry count ${n} -> ${v}` };
  }
  if (op === 1) {
    const next = ifd + 2 + n * 12;
    const v = rng.pick([ifd, 8, 0xffffffff, next]);
    putInt(out, next, 4, v, little);
    return { bytes: out, note: `next IFD offset -> ${v}` };
  }
  if (n === 0) return { bytes: out, note: 'empty IFD' };
  const e = ifd + 2 + rng.int(n) * 12;
  if (e + 12 > b.length) return { bytes: out, note: 'entry outside the file' };
  const tag = dv.getUint16(e, little);
  if (op === 2) {
    const v = rng.pick([0, 1, 2, 3, 4, 5, 7, 12, 13, 16, 0xffff]);
    putInt(out, e + 2, 2, v, little);
    return { bytes: out, note: `tag ${tag} type -> ${v}` };
  }
  if (op === 3) {
    const v = rng.pick([0, 1, 2, 0x10000, 0x7fffffff, 0xffffffff]);
    putInt(out, e + 4, 4, v, little);
    return { bytes: out, note: `tag ${tag} count -> ${v}` };
  }
  const v = rng.pick([
    0,
    1,
    2,
    3,
    5,
    7,
    8,
    16,
    32,
    64,
    255,
    32773,
    34712,
    65535,
    65536,
    1 << 20,
    0x7fffffff,
    0xffffffff,
    b.length,
    b.length + 1,
  ]);
  const type = dv.getUint16(e + 2, little);
  putInt(out, e + 8, type === 3 ? 2 : 4, v, little);
  return { bytes: out, note: `tag ${tag} value -> ${v}` };
}
