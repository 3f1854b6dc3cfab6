/**
 * A small, defensive BMP decoder (libvips, and so sharp, cannot read BMP; LIVE and TID2013 ship BMP).
 * Supports the OS/2 12-byte header and the Windows BITMAPINFOHEADER family (40/52/56/64/108/124-byte headers),
 * 1/4/8-bit palettes, 16-bit (5-5-5), 24- and 32-bit pixels, bottom-up and top-down rows, and BI_BITFIELDS with the
 * mask layouts Pillow 9.4 decodes (16-bit 5-6-5 and 5-5-5; 24-bit BGR; 32-bit BGRX, XBGR, ABGR, RGBA, BGRA and all-zero
 * masks, which Pillow reads as BGRA). Other masks, and RLE/JPEG/PNG compression, are refused with a clear error, as
 * Pillow refuses them. Output: RGB uint8, row-major, top row first, alpha dropped (as `convert('RGB')`).
 */
export interface BmpHeader {
  width: number;
  height: number;
  bitsPerPixel: number;
}

export class BmpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BmpError';
  }
}

/** True when the bytes start with the BMP signature `BM`. */
export function isBmp(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d;
}

/** A 5- or 6-bit channel of a 16-bit pixel: `(pixel >> shift) & max`, scaled to 0-255 as Pillow does. */
interface Field16 {
  shift: number;
  max: number;
}

/** Where a row's pixels come from. */
type Layout =
  | { kind: 'palette'; palette: Uint8Array } // RGB triples, 256 entries
  | { kind: 'bytes'; step: 3 | 4; r: number; g: number; b: number } // byte offsets of R, G and B in a pixel
  | { kind: 'rgb16'; r: Field16; g: Field16; b: Field16 };

interface Parsed extends BmpHeader {
  topDown: boolean;
  dataOffset: number;
  compression: number;
  headerSize: number;
  colorsUsed: number;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const HEADER_SIZES = [12, 40, 52, 56, 64, 108, 124];

const BGR24: Layout = { kind: 'bytes', step: 3, r: 2, g: 1, b: 0 };
const BGRX32: Layout = { kind: 'bytes', step: 4, r: 2, g: 1, b: 0 };
const RGB555: Layout = {
  kind: 'rgb16',
  r: { shift: 10, max: 31 },
  g: { shift: 5, max: 31 },
  b: { shift: 0, max: 31 },
};
const RGB565: Layout = {
  kind: 'rgb16',
  r: { shift: 11, max: 31 },
  g: { shift: 5, max: 63 },
  b: { shift: 0, max: 31 },
};

/**
 * The bit-field layouts Pillow 9.4 decodes (BmpImagePlugin's SUPPORTED table): [bits, R, G, B, A mask, layout]. At 16
 * and 24 bits the alpha mask is not looked at; at 32 bits it is part of the key. Each layout is a fixed byte or bit
 * extraction, so no mask value is ever scanned bit by bit.
 */
const MASK_LAYOUTS: [number, number, number, number, number | null, Layout][] = [
  [16, 0xf800, 0x07e0, 0x001f, null, RGB565],
  [16, 0x7c00, 0x03e0, 0x001f, null, RGB555],
  [24, 0xff0000, 0xff00, 0xff, null, BGR24],
  [32, 0xff0000, 0xff00, 0xff, 0, BGRX32],
  [32, 0xff000000, 0xff0000, 0xff00, 0, { kind: 'bytes', step: 4, r: 3, g: 2, b: 1 }],
  [32, 0xff000000, 0xff0000, 0xff00, 0xff, { kind: 'bytes', step: 4, r: 3, g: 2, b: 1 }],
  [32, 0xff, 0xff00, 0xff0000, 0xff000000, { kind: 'bytes', step: 4, r: 0, g: 1, b: 2 }],
  [32, 0xff0000, 0xff00, 0xff, 0xff000000, BGRX32],
  [32, 0, 0, 0, 0, BGRX32],
];

const hex = (m: number): string => `0x${m.toString(16)}`;

/** Parses the file and info headers (enough for the dimensions; no masks, no palette). */
function parseHeader(buf: Uint8Array): Parsed {
  if (!isBmp(buf)) throw new BmpError('not a BMP file (no "BM" signature)');
  if (buf.length < 26) throw new BmpError('truncated BMP header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dataOffset = dv.getUint32(10, true);
  const headerSize = dv.getUint32(14, true);
  let width: number;
  let heightRaw: number;
  let bpp: number;
  let compression = BI_RGB;
  let colorsUsed = 0;
  if (!HEADER_SIZES.includes(headerSize)) {
    throw new BmpError(`unsupported BMP header size ${headerSize} (expected ${HEADER_SIZES.join(', ')})`);
  }
  if (headerSize === 12) {
    width = dv.getUint16(18, true);
    heightRaw = dv.getInt16(20, true);
    bpp = dv.getUint16(24, true);
  } else {
    if (buf.length < 14 + 40) throw new BmpError('truncated BMP info header');
    width = dv.getInt32(18, true);
    heightRaw = dv.getInt32(22, true);
    bpp = dv.getUint16(28, true);
    compression = dv.getUint32(30, true);
    colorsUsed = dv.getUint32(46, true);
  }
  if (width <= 0 || heightRaw === 0 || heightRaw === -2147483648)
    throw new BmpError(`bad BMP dimensions ${width}x${heightRaw}`);
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw new BmpError(`compressed BMP (compression ${compression}: RLE/JPEG/PNG) is not supported`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) throw new BmpError(`unsupported BMP bit depth ${bpp}`);
  return {
    width,
    height: Math.abs(heightRaw),
    bitsPerPixel: bpp,
    topDown: heightRaw < 0,
    dataOffset,
    compression,
    headerSize,
    colorsUsed,
  };
}

/**
 * The pixel layout of a parsed file. BI_BITFIELDS masks sit right after a 40-byte header, or inside the larger
 * headers at the same place (bytes 54-66); the alpha mask is read only from headers that hold one (56 bytes and up)
 * and is 0 otherwise, as Pillow reads it.
 */
function layoutOf(buf: Uint8Array, p: Parsed): Layout {
  const bpp = p.bitsPerPixel;
  if (p.compression === BI_BITFIELDS || p.compression === BI_ALPHABITFIELDS) {
    // R, G, B masks at bytes 54-66, and the alpha mask at 66-70 in headers of 56 bytes and more.
    if (buf.length < (p.headerSize >= 56 ? 70 : 66)) throw new BmpError('truncated BMP bit masks');
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const [r, g, b] = [dv.getUint32(54, true), dv.getUint32(58, true), dv.getUint32(62, true)];
    let a = 0;
    if (p.headerSize >= 56) a = dv.getUint32(66, true);
    const hit = MASK_LAYOUTS.find(
      ([bits, mr, mg, mb, ma]) =>
        bits === bpp && mr === r && mg === g && mb === b && (ma === null || ma === a),
    );
    if (!hit) {
      throw new BmpError(
        `unsupported BMP bit-field masks R ${hex(r)} G ${hex(g)} B ${hex(b)} A ${hex(a)} at ${bpp} bits ` +
          '(supported: 16-bit 5-6-5 and 5-5-5, 24-bit BGR, 32-bit BGRX/XBGR/ABGR/RGBA/BGRA, as Pillow)',
      );
    }
    return hit[5];
  }
  if (bpp === 16) return RGB555;
  if (bpp === 24) return BGR24;
  if (bpp === 32) return BGRX32;
  const n = p.colorsUsed === 0 ? 1 << bpp : p.colorsUsed;
  if (n > 256) throw new BmpError(`bad BMP palette size ${n}`);
  const entry = p.headerSize === 12 ? 3 : 4;
  const start = 14 + p.headerSize;
  if (start + n * entry > buf.length) throw new BmpError('truncated BMP palette');
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < n; i++) {
    palette[i * 3] = buf[start + i * entry + 2];
    palette[i * 3 + 1] = buf[start + i * entry + 1];
    palette[i * 3 + 2] = buf[start + i * entry];
  }
  return { kind: 'palette', palette };
}

/** Reads only the dimensions (for the pixel budget check before decoding); needs the first 54 bytes. */
export function readBmpHeader(buf: Uint8Array): BmpHeader {
  const p = parseHeader(buf);
  return { width: p.width, height: p.height, bitsPerPixel: p.bitsPerPixel };
}

/** Decodes a BMP to RGB uint8 (top row first). */
export function decodeBmp(buf: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const p = parseHeader(buf);
  const layout = layoutOf(buf, p);
  const { width, height, bitsPerPixel: bpp } = p;
  const stride = Math.floor((width * bpp + 31) / 32) * 4;
  if (p.dataOffset + stride * height > buf.length) {
    throw new BmpError(
      `truncated BMP pixel data: ${buf.length - p.dataOffset} bytes for ${width}x${height}x${bpp} bits (${stride * height} needed)`,
    );
  }
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const srcRow = p.topDown ? y : height - 1 - y;
    let s = p.dataOffset + srcRow * stride;
    let o = y * width * 3;
    if (layout.kind === 'bytes') {
      const { step, r, g, b } = layout;
      for (let x = 0; x < width; x++, s += step, o += 3) {
        out[o] = buf[s + r];
        out[o + 1] = buf[s + g];
        out[o + 2] = buf[s + b];
      }
    } else if (layout.kind === 'rgb16') {
      const { r, g, b } = layout;
      for (let x = 0; x < width; x++, s += 2, o += 3) {
        const v = buf[s] | (buf[s + 1] << 8);
        // Pillow's BGR;15 / BGR;16 unpackers: integer v * 255 / max, truncated.
        out[o] = Math.floor((((v >> r.shift) & r.max) * 255) / r.max);
        out[o + 1] = Math.floor((((v >> g.shift) & g.max) * 255) / g.max);
        out[o + 2] = Math.floor((((v >> b.shift) & b.max) * 255) / b.max);
      }
    } else {
      const pal = layout.palette;
      const perByte = 8 / bpp;
      const maskBits = (1 << bpp) - 1;
      for (let x = 0; x < width; x++, o += 3) {
        const byte = buf[s + Math.floor(x / perByte)];
        const idx = (byte >> (8 - bpp - (x % perByte) * bpp)) & maskBits;
        out[o] = pal[idx * 3];
        out[o + 1] = pal[idx * 3 + 1];
        out[o + 2] = pal[idx * 3 + 2];
      }
    }
  }
  return { width, height, data: out };
}
