/**
 * A small, defensive BMP decoder (libvips, and so sharp, cannot read BMP; LIVE and TID2013 ship BMP).
 * Supports the Windows BITMAPINFOHEADER family (40/52/56/108/124-byte headers) and the OS/2 12-byte header,
 * 24- and 32-bit pixels (BI_RGB, or BI_BITFIELDS with 8-bit masks), 1/4/8-bit palettes, bottom-up and top-down rows.
 * RLE compression is refused with a clear error. Output: RGB uint8, row-major, top row first.
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

interface Parsed extends BmpHeader {
  topDown: boolean;
  dataOffset: number;
  compression: number;
  palette: Uint8Array | null; // RGB triples
  masks: [number, number, number] | null;
  headerSize: number;
}

function parse(buf: Uint8Array, withPalette = true): Parsed {
  if (!isBmp(buf)) throw new BmpError('not a BMP file (no "BM" signature)');
  if (buf.length < 26) throw new BmpError('truncated BMP header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dataOffset = dv.getUint32(10, true);
  const headerSize = dv.getUint32(14, true);
  let width: number;
  let heightRaw: number;
  let bpp: number;
  let compression = 0;
  let colorsUsed = 0;
  if (headerSize === 12) {
    width = dv.getUint16(18, true);
    heightRaw = dv.getInt16(20, true);
    bpp = dv.getUint16(24, true);
  } else if (headerSize >= 40 && headerSize <= 124) {
    if (buf.length < 14 + 40) throw new BmpError('truncated BMP info header');
    width = dv.getInt32(18, true);
    heightRaw = dv.getInt32(22, true);
    bpp = dv.getUint16(28, true);
    compression = dv.getUint32(30, true);
    colorsUsed = dv.getUint32(46, true);
  } else {
    throw new BmpError(`unsupported BMP header size ${headerSize}`);
  }
  if (width <= 0 || heightRaw === 0 || heightRaw === -2147483648)
    throw new BmpError(`bad BMP dimensions ${width}x${heightRaw}`);
  const topDown = heightRaw < 0;
  const height = Math.abs(heightRaw);
  let masks: [number, number, number] | null = null;
  if (compression === 3 || compression === 6) {
    // BI_BITFIELDS: masks follow a 40-byte header, or sit inside V4/V5 headers at the same place.
    if (buf.length < 14 + 40 + 12) throw new BmpError('truncated BMP bit masks');
    masks = [dv.getUint32(54, true), dv.getUint32(58, true), dv.getUint32(62, true)];
  } else if (compression !== 0) {
    throw new BmpError(`compressed BMP (compression ${compression}: RLE/JPEG/PNG) is not supported`);
  }
  if (![1, 4, 8, 24, 32].includes(bpp)) throw new BmpError(`unsupported BMP bit depth ${bpp}`);
  let palette: Uint8Array | null = null;
  if (bpp <= 8 && withPalette) {
    const n = colorsUsed === 0 ? 1 << bpp : colorsUsed;
    if (n > 256) throw new BmpError(`bad BMP palette size ${n}`);
    const entry = headerSize === 12 ? 3 : 4;
    const start = 14 + headerSize;
    if (start + n * entry > buf.length) throw new BmpError('truncated BMP palette');
    palette = new Uint8Array(256 * 3);
    for (let i = 0; i < n; i++) {
      palette[i * 3] = buf[start + i * entry + 2];
      palette[i * 3 + 1] = buf[start + i * entry + 1];
      palette[i * 3 + 2] = buf[start + i * entry];
    }
  }
  return { width, height, bitsPerPixel: bpp, topDown, dataOffset, compression, palette, masks, headerSize };
}

/** Reads only the dimensions (for the pixel budget check before decoding). */
export function readBmpHeader(buf: Uint8Array): BmpHeader {
  const p = parse(buf, false);
  return { width: p.width, height: p.height, bitsPerPixel: p.bitsPerPixel };
}

function maskShift(mask: number): { shift: number; bits: number } {
  if (mask === 0) return { shift: 0, bits: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (((mask >>> (shift + bits)) & 1) === 1) bits++;
  return { shift, bits };
}

/** Decodes a BMP to RGB uint8 (top row first). */
export function decodeBmp(buf: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const p = parse(buf);
  const { width, height, bitsPerPixel: bpp } = p;
  const stride = Math.floor((width * bpp + 31) / 32) * 4;
  if (p.dataOffset + stride * height > buf.length) {
    throw new BmpError(
      `truncated BMP pixel data: ${buf.length - p.dataOffset} bytes for ${width}x${height}x${bpp} bits (${stride * height} needed)`,
    );
  }
  const out = new Uint8Array(width * height * 3);
  const m = p.masks ? p.masks.map(maskShift) : null;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let y = 0; y < height; y++) {
    const srcRow = p.topDown ? y : height - 1 - y;
    let s = p.dataOffset + srcRow * stride;
    let o = y * width * 3;
    if (bpp === 24 || (bpp === 32 && !m)) {
      const step = bpp / 8;
      for (let x = 0; x < width; x++, s += step, o += 3) {
        out[o] = buf[s + 2];
        out[o + 1] = buf[s + 1];
        out[o + 2] = buf[s];
      }
    } else if (bpp === 32 && m && p.masks) {
      for (let x = 0; x < width; x++, s += 4, o += 3) {
        const v = dv.getUint32(s, true);
        for (let c = 0; c < 3; c++) {
          const { shift, bits } = m[c];
          const raw = bits === 0 ? 0 : (v & p.masks[c]) >>> shift;
          out[o + c] =
            bits === 0 ? 0 : bits >= 8 ? raw >>> (bits - 8) : Math.round((raw * 255) / ((1 << bits) - 1));
        }
      }
    } else if (p.palette) {
      const pal = p.palette;
      const perByte = 8 / bpp;
      const maskBits = (1 << bpp) - 1;
      for (let x = 0; x < width; x++, o += 3) {
        const byte = buf[s + Math.floor(x / perByte)];
        const idx = (byte >> (8 - bpp - (x % perByte) * bpp)) & maskBits;
        out[o] = pal[idx * 3];
        out[o + 1] = pal[idx * 3 + 1];
        out[o + 2] = pal[idx * 3 + 2];
      }
    } else {
      throw new BmpError(`unsupported BMP layout (${bpp} bits, compression ${p.compression})`);
    }
  }
  return { width, height, data: out };
}
