/**
 * A small, defensive reader for MATLAB Level 5 MAT-files (the format of the LIVE and LIVE Challenge metadata), for
 * the few types those files use: numeric and logical arrays, char arrays and cell arrays, optionally inside
 * zlib-compressed elements (MATLAB's default since v7). Structs, objects, sparse and complex arrays are refused with
 * a clear error; MAT v7.3 (HDF5) files are recognised and refused. Every length is checked against the buffer, and
 * decompression is bounded. Char arrays read as MATLAB holds them (UTF-16 code units); data that is no text is
 * refused, naming the variable.
 */
import { constants as bufferConstants } from 'node:buffer';
import { inflateSync } from 'node:zlib';

/** A value read from a MAT-file. Arrays are column-major as MATLAB stores them; `dims` gives the shape. */
export type MatValue =
  | { kind: 'numeric'; className: string; dims: number[]; data: Float64Array }
  | { kind: 'char'; dims: number[]; text: string }
  | { kind: 'cell'; dims: number[]; cells: MatValue[] };

const MI = {
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

const CLASS_NAMES: Record<number, string> = {
  1: 'cell',
  2: 'struct',
  3: 'object',
  4: 'char',
  5: 'sparse',
  6: 'double',
  7: 'single',
  8: 'int8',
  9: 'uint8',
  10: 'int16',
  11: 'uint16',
  12: 'int32',
  13: 'uint32',
  14: 'int64',
  15: 'uint64',
};

/**
 * Raised for a malformed or unsupported MAT-file; the reader adds the file name. `variable` names the top-level
 * variable being read when the problem was found (undefined before its name is known).
 */
export class MatFormatError extends Error {
  variable: string | undefined;
  constructor(message: string, variable?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MatFormatError';
    this.variable = variable;
  }
}

export interface MatReadOptions {
  /** Upper bound for the bytes one compressed element may inflate to (default 256 MiB). */
  maxInflatedBytes?: number;
  /** Upper bound for the number of elements of one array or cell (default 50 million). */
  maxElements?: number;
}

interface Ctx {
  little: boolean;
  maxInflated: number;
  maxElements: number;
  depth: number;
  /** The top-level variable being read (for errors). */
  variable: string | undefined;
}

/**
 * Reads every top-level variable of a MAT v5 file. Any malformed input throws {@link MatFormatError} (never a
 * RangeError or TypeError from the parsing itself), with the variable named where it is known.
 */
export function readMat(buf: Uint8Array, options: MatReadOptions = {}): Map<string, MatValue> {
  if (buf.length >= 8 && buf[0] === 0x89 && buf[1] === 0x48 && buf[2] === 0x44 && buf[3] === 0x46) {
    throw new MatFormatError(
      'this is an HDF5 file (MAT v7.3), which is not supported; save it with `save -v7`',
    );
  }
  if (buf.length < 128) throw new MatFormatError('file shorter than the 128-byte MAT header');
  const headerText = Buffer.from(buf.subarray(0, 116)).toString('latin1');
  if (headerText.includes('MATLAB 7.3')) {
    throw new MatFormatError('MAT v7.3 (HDF5) files are not supported; save it with `save -v7`');
  }
  const e0 = buf[126];
  const e1 = buf[127];
  let little: boolean;
  if (e0 === 0x49 && e1 === 0x4d)
    little = true; // 'IM'
  else if (e0 === 0x4d && e1 === 0x49)
    little = false; // 'MI'
  else
    throw new MatFormatError(
      'no MAT v5 endian indicator at byte 126 (not a MATLAB 5 MAT-file; v4 files are not supported)',
    );
  const ctx: Ctx = {
    little,
    // zlib refuses an output bound above the largest Buffer, so a larger option would fail every inflate.
    maxInflated: Math.min(options.maxInflatedBytes ?? 256 * 1024 * 1024, bufferConstants.MAX_LENGTH),
    maxElements: options.maxElements ?? 50_000_000,
    depth: 0,
    variable: undefined,
  };
  const out = new Map<string, MatValue>();
  let pos = 128;
  while (pos + 8 <= buf.length) {
    ctx.variable = undefined;
    ctx.depth = 0;
    try {
      pos = readTopLevel(buf, pos, ctx, out);
    } catch (e) {
      if (e instanceof MatFormatError) {
        e.variable ??= ctx.variable;
        throw e;
      }
      // Whatever else a malformed file provokes is still a malformed file: report it as one, naming where.
      const err = e as Error;
      throw new MatFormatError(
        `malformed element at byte ${pos} (${err.name}: ${err.message})`,
        ctx.variable,
        { cause: e },
      );
    }
  }
  return out;
}

/** Reads the top-level element at `pos` into `out`; returns the position of the next one. */
function readTopLevel(buf: Uint8Array, pos: number, ctx: Ctx, out: Map<string, MatValue>): number {
  const { type, size, dataStart, next } = readTag(buf, pos, ctx);
  let body: Uint8Array;
  if (type === MI.COMPRESSED) {
    let inflated: Buffer;
    try {
      inflated = inflateSync(buf.subarray(dataStart, dataStart + size), {
        maxOutputLength: ctx.maxInflated,
      });
    } catch (e) {
      throw new MatFormatError(
        `cannot inflate a compressed element at byte ${pos} (${(e as Error).message})`,
      );
    }
    const inner = readTag(inflated, 0, ctx);
    if (inner.type !== MI.MATRIX)
      throw new MatFormatError(`compressed element at byte ${pos} does not hold a matrix`);
    body = inflated.subarray(inner.dataStart, inner.dataStart + inner.size);
  } else if (type === MI.MATRIX) {
    body = buf.subarray(dataStart, dataStart + size);
  } else {
    throw new MatFormatError(`unexpected top-level element of type ${type} at byte ${pos}`);
  }
  const { name, value } = readMatrix(body, ctx, null);
  out.set(name, value);
  return next;
}

function u32(buf: Uint8Array, pos: number, little: boolean): number {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(pos, little);
}

function readTag(
  buf: Uint8Array,
  pos: number,
  ctx: Ctx,
): { type: number; size: number; dataStart: number; next: number } {
  if (pos + 8 > buf.length) throw new MatFormatError(`truncated element tag at byte ${pos}`);
  const first = u32(buf, pos, ctx.little);
  const small = first >>> 16;
  if (small !== 0) {
    // Small data element: type and size packed in 4 bytes, data in the next 4.
    const type = first & 0xffff;
    if (small > 4) throw new MatFormatError(`bad small data element size ${small} at byte ${pos}`);
    return { type, size: small, dataStart: pos + 4, next: pos + 8 };
  }
  const type = first;
  const size = u32(buf, pos + 4, ctx.little);
  const dataStart = pos + 8;
  if (dataStart + size > buf.length) {
    throw new MatFormatError(
      `element at byte ${pos} claims ${size} bytes but only ${buf.length - dataStart} remain (truncated file?)`,
    );
  }
  // Compressed elements are not padded; others are padded to 8 bytes.
  const next = type === MI.COMPRESSED ? dataStart + size : dataStart + Math.ceil(size / 8) * 8;
  return { type, size, dataStart, next: Math.min(next, buf.length) };
}

const ELEMENT_BYTES: Record<number, number> = {
  [MI.INT8]: 1,
  [MI.UINT8]: 1,
  [MI.INT16]: 2,
  [MI.UINT16]: 2,
  [MI.INT32]: 4,
  [MI.UINT32]: 4,
  [MI.SINGLE]: 4,
  [MI.DOUBLE]: 8,
  [MI.INT64]: 8,
  [MI.UINT64]: 8,
  [MI.UTF8]: 1,
  [MI.UTF16]: 2,
  [MI.UTF32]: 4,
};

/** Reads the numbers of a numeric data element, converted to double. */
function readNumbers(buf: Uint8Array, type: number, start: number, size: number, ctx: Ctx): Float64Array {
  const w = ELEMENT_BYTES[type];
  if (w === undefined) throw new MatFormatError(`unsupported numeric data type ${type}`);
  if (size % w !== 0)
    throw new MatFormatError(`data size ${size} is not a multiple of ${w} for type ${type}`);
  const n = size / w;
  if (n > ctx.maxElements)
    throw new MatFormatError(`array of ${n} elements exceeds the limit of ${ctx.maxElements}`);
  const dv = new DataView(buf.buffer, buf.byteOffset + start, size);
  const out = new Float64Array(n);
  const le = ctx.little;
  for (let i = 0; i < n; i++) {
    const o = i * w;
    switch (type) {
      case MI.INT8:
        out[i] = dv.getInt8(o);
        break;
      case MI.UINT8:
      case MI.UTF8:
        out[i] = dv.getUint8(o);
        break;
      case MI.INT16:
        out[i] = dv.getInt16(o, le);
        break;
      case MI.UINT16:
      case MI.UTF16:
        out[i] = dv.getUint16(o, le);
        break;
      case MI.INT32:
        out[i] = dv.getInt32(o, le);
        break;
      case MI.UINT32:
      case MI.UTF32:
        out[i] = dv.getUint32(o, le);
        break;
      case MI.SINGLE:
        out[i] = dv.getFloat32(o, le);
        break;
      case MI.DOUBLE:
        out[i] = dv.getFloat64(o, le);
        break;
      case MI.INT64:
        out[i] = Number(dv.getBigInt64(o, le));
        break;
      case MI.UINT64:
        out[i] = Number(dv.getBigUint64(o, le));
        break;
    }
  }
  return out;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The text of a char array's data element. A MATLAB char is one UTF-16 code unit, so numeric data (MATLAB writes
 * uint16, other writers uint8 or wider types) must hold integers 0-65535, taken as code units: surrogate pairs form
 * their code point, and an unpaired surrogate stays the code unit MATLAB holds (the JS string is exactly MATLAB's).
 * miUTF16 data is code units as well, miUTF32 data must hold Unicode scalar values and miUTF8 data must be valid
 * UTF-8. Anything else is not text: it is refused, naming the variable, rather than guessed at.
 */
function charText(
  body: Uint8Array,
  real: { type: number; dataStart: number; size: number },
  data: Float64Array,
  where: string,
): string {
  if (real.type === MI.UTF8) {
    try {
      return UTF8.decode(body.subarray(real.dataStart, real.dataStart + real.size));
    } catch {
      throw new MatFormatError(`char array ${where} is not valid UTF-8`);
    }
  }
  const utf32 = real.type === MI.UTF32;
  const parts: string[] = [];
  const CHUNK = 4096;
  for (let start = 0; start < data.length; start += CHUNK) {
    const codes = Array.from(data.subarray(start, Math.min(start + CHUNK, data.length)));
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      const ok = utf32
        ? Number.isInteger(c) && c >= 0 && c <= 0x10ffff && (c < 0xd800 || c > 0xdfff)
        : Number.isInteger(c) && c >= 0 && c <= 0xffff;
      if (!ok) {
        throw new MatFormatError(
          `char array ${where} holds ${c} at position ${start + i + 1}, which is not a character ` +
            (utf32
              ? '(expected Unicode code points)'
              : "(expected MATLAB's UTF-16 code units, integers 0-65535)"),
        );
      }
    }
    parts.push(utf32 ? String.fromCodePoint(...codes) : String.fromCharCode(...codes));
  }
  return parts.join('');
}

/**
 * Reads a matrix element. `parent` labels it inside a cell array (`"names"{3}`); null at the top level, where the
 * variable's own name labels it.
 */
function readMatrix(body: Uint8Array, ctx: Ctx, parent: string | null): { name: string; value: MatValue } {
  if (ctx.depth > 32) throw new MatFormatError('cell arrays nested more than 32 deep');
  if (body.length === 0)
    return {
      name: '',
      value: { kind: 'numeric', className: 'double', dims: [0, 0], data: new Float64Array(0) },
    };
  let pos = 0;
  const flagsTag = readTag(body, pos, ctx);
  if (flagsTag.type !== MI.UINT32 || flagsTag.size < 8)
    throw new MatFormatError('matrix without an array-flags sub-element');
  const flags = u32(body, flagsTag.dataStart, ctx.little);
  const cls = flags & 0xff;
  const complex = (flags & 0x0800) !== 0;
  pos = flagsTag.next;
  const dimsTag = readTag(body, pos, ctx);
  if (dimsTag.type !== MI.INT32) throw new MatFormatError('matrix without a dimensions sub-element');
  const dims = Array.from(readNumbers(body, MI.INT32, dimsTag.dataStart, dimsTag.size, ctx));
  if (dims.length < 2 || dims.some((d) => d < 0))
    throw new MatFormatError(`bad dimensions [${dims.join(', ')}]`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > ctx.maxElements)
    throw new MatFormatError(`array of ${count} elements exceeds the limit of ${ctx.maxElements}`);
  pos = dimsTag.next;
  const nameTag = readTag(body, pos, ctx);
  if (nameTag.type !== MI.INT8 && nameTag.type !== MI.UINT8)
    throw new MatFormatError('matrix without a name sub-element');
  const name = Buffer.from(body.subarray(nameTag.dataStart, nameTag.dataStart + nameTag.size)).toString(
    'latin1',
  );
  pos = nameTag.next;
  if (parent === null) ctx.variable = name;
  const where = parent ?? `"${name}"`;
  const className = CLASS_NAMES[cls] ?? `class ${cls}`;
  if (cls === 1) {
    const cells: MatValue[] = [];
    for (let i = 0; i < count; i++) {
      const t = readTag(body, pos, ctx);
      if (t.type !== MI.MATRIX)
        throw new MatFormatError(`cell ${i + 1} of "${name}" is not a matrix element`);
      ctx.depth++;
      cells.push(
        readMatrix(body.subarray(t.dataStart, t.dataStart + t.size), ctx, `${where}{${i + 1}}`).value,
      );
      ctx.depth--;
      pos = t.next;
    }
    return { name, value: { kind: 'cell', dims, cells } };
  }
  if (cls === 2 || cls === 3 || cls === 5 || !(cls in CLASS_NAMES)) {
    throw new MatFormatError(
      `variable "${name}" is a ${className} array, which this reader does not support`,
    );
  }
  if (complex) throw new MatFormatError(`variable "${name}" is complex, which this reader does not support`);
  if (count === 0) {
    return {
      name,
      value:
        cls === 4
          ? { kind: 'char', dims, text: '' }
          : { kind: 'numeric', className, dims, data: new Float64Array(0) },
    };
  }
  const real = readTag(body, pos, ctx);
  const data = readNumbers(body, real.type, real.dataStart, real.size, ctx);
  if (cls === 4) {
    let text = charText(body, real, data, where);
    // Multi-row char arrays are column-major. MATLAB counts UTF-16 code units in the dimensions; scipy counts code
    // points; anything else cannot be laid out.
    if (dims[0] > 1) {
      const units = text.length === count ? text.split('') : Array.from(text);
      if (units.length !== count) {
        throw new MatFormatError(
          `char array ${where} holds ${text.length} characters for dimensions [${dims.join('x')}]`,
        );
      }
      const rows = dims[0];
      const cols = count / rows;
      const lines: string[] = [];
      for (let r = 0; r < rows; r++) {
        let line = '';
        for (let c = 0; c < cols; c++) line += units[c * rows + r];
        lines.push(line);
      }
      text = lines.join('\n');
    }
    return { name, value: { kind: 'char', dims, text } };
  }
  if (data.length !== count) {
    throw new MatFormatError(
      `variable "${name}" holds ${data.length} values for dimensions [${dims.join('x')}]`,
    );
  }
  return { name, value: { kind: 'numeric', className: flags & 0x0200 ? 'logical' : className, dims, data } };
}

/** The numbers of a numeric variable (any shape, column-major), or an error message. */
export function matNumbers(vars: Map<string, MatValue>, name: string): Float64Array | string {
  const v = vars.get(name);
  if (!v) return `no variable "${name}" (found: ${[...vars.keys()].join(', ') || 'none'})`;
  if (v.kind !== 'numeric') return `variable "${name}" is a ${v.kind} array, not numeric`;
  return v.data;
}

/** The strings of a cell array of char vectors (any shape, column-major), or an error message. */
export function matStrings(vars: Map<string, MatValue>, name: string): string[] | string {
  const v = vars.get(name);
  if (!v) return `no variable "${name}" (found: ${[...vars.keys()].join(', ') || 'none'})`;
  if (v.kind === 'char') return v.text.split('\n');
  if (v.kind !== 'cell') return `variable "${name}" is a ${v.kind} array, not a cell array of strings`;
  const out: string[] = [];
  for (let i = 0; i < v.cells.length; i++) {
    const c = v.cells[i];
    if (c.kind === 'char') out.push(c.text);
    else if (c.kind === 'cell' && c.cells.length === 1 && c.cells[0].kind === 'char')
      out.push(c.cells[0].text);
    else return `cell ${i + 1} of "${name}" is not a string`;
  }
  return out;
}
