/**
 * A framework-neutral, ordered, in-memory state dict: PyTorch key -> tensor data in PyTorch layout
 * (row-major, contiguous). Every reader (safetensors, torch zip / legacy pickle) produces one and every writer takes one;
 * the conversion to and from the tfjs layouts of a model lives in ./load.ts.
 */

/** Element types a state dict can hold (PyTorch names). */
export type DType =
  'float64' | 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/**
 * Typed array per dtype. float16 / bfloat16 are kept as their raw 16-bit patterns (Uint16Array) and bool as 0/1 bytes,
 * because JavaScript has no native array type for them.
 */
export interface DTypeArrays {
  float64: Float64Array;
  float32: Float32Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

export type TensorArray = DTypeArrays[DType];

/** One tensor: dtype, shape and its contiguous row-major elements. */
export interface TensorData<D extends DType = DType> {
  dtype: D;
  shape: number[];
  data: DTypeArrays[D];
}

/** Ordered map from state-dict key to tensor (Map keeps insertion order: PyTorch state-dict order). */
export type StateDict = Map<string, TensorData>;

interface DTypeInfo {
  bytes: number;
  make: (n: number) => TensorArray;
  /** A typed view on an 8-byte-aligned copy; `buffer.byteLength` must be a multiple of `bytes`. */
  view: (buffer: ArrayBuffer, byteOffset: number, length: number) => TensorArray;
}

const DTYPES: Record<DType, DTypeInfo> = {
  float64: { bytes: 8, make: (n) => new Float64Array(n), view: (b, o, n) => new Float64Array(b, o, n) },
  float32: { bytes: 4, make: (n) => new Float32Array(n), view: (b, o, n) => new Float32Array(b, o, n) },
  float16: { bytes: 2, make: (n) => new Uint16Array(n), view: (b, o, n) => new Uint16Array(b, o, n) },
  bfloat16: { bytes: 2, make: (n) => new Uint16Array(n), view: (b, o, n) => new Uint16Array(b, o, n) },
  int64: { bytes: 8, make: (n) => new BigInt64Array(n), view: (b, o, n) => new BigInt64Array(b, o, n) },
  int32: { bytes: 4, make: (n) => new Int32Array(n), view: (b, o, n) => new Int32Array(b, o, n) },
  int16: { bytes: 2, make: (n) => new Int16Array(n), view: (b, o, n) => new Int16Array(b, o, n) },
  int8: { bytes: 1, make: (n) => new Int8Array(n), view: (b, o, n) => new Int8Array(b, o, n) },
  uint8: { bytes: 1, make: (n) => new Uint8Array(n), view: (b, o, n) => new Uint8Array(b, o, n) },
  bool: { bytes: 1, make: (n) => new Uint8Array(n), view: (b, o, n) => new Uint8Array(b, o, n) },
};

// Every reader and writer here assumes little-endian element bytes, the order PyTorch and safetensors write.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('@iqa-bench/model weights: a little-endian host is required');
}

export function isDType(s: string): s is DType {
  return Object.prototype.hasOwnProperty.call(DTYPES, s);
}

export function dtypeBytes(dtype: DType): number {
  return DTYPES[dtype].bytes;
}

/** Number of elements of a shape; throws on a negative, fractional or unsafe extent. */
export function numel(shape: readonly number[], what = 'tensor'): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new Error(`${what}: invalid dimension ${String(d)} in shape [${shape.join(',')}]`);
    n *= d;
    if (!Number.isSafeInteger(n))
      throw new Error(`${what}: shape [${shape.join(',')}] has too many elements`);
  }
  return n;
}

/** A zero-filled tensor. */
export function emptyTensor<D extends DType>(dtype: D, shape: number[]): TensorData<D> {
  return { dtype, shape: [...shape], data: DTYPES[dtype].make(numel(shape)) as DTypeArrays[D] };
}

/** Copies `byteLength = numel * size` little-endian bytes into a fresh, aligned typed array. */
export function tensorFromBytes(
  dtype: DType,
  shape: number[],
  bytes: Uint8Array,
  what = 'tensor',
): TensorData {
  const n = numel(shape, what);
  const need = n * DTYPES[dtype].bytes;
  if (bytes.byteLength !== need) {
    throw new Error(`${what}: ${dtype} [${shape.join(',')}] needs ${need} bytes, got ${bytes.byteLength}`);
  }
  const copy = new Uint8Array(need);
  copy.set(bytes);
  return { dtype, shape: [...shape], data: DTYPES[dtype].view(copy.buffer, 0, n) };
}

/** The raw little-endian bytes of a tensor (a view, not a copy). */
export function tensorBytes(t: TensorData): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Checks that data length matches shape and dtype. */
export function checkTensor(t: TensorData, what: string): void {
  if (!isDType(t.dtype)) throw new Error(`${what}: unknown dtype '${String(t.dtype)}'`);
  const n = numel(t.shape, what);
  if (t.data.length !== n)
    throw new Error(`${what}: shape [${t.shape.join(',')}] has ${n} elements but data has ${t.data.length}`);
  const want = DTYPES[t.dtype].make(0).constructor;
  if (t.data.constructor !== want) throw new Error(`${what}: ${t.dtype} data must be a ${want.name}`);
}

/** float16 bit pattern -> number (exact). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** number -> float16 bit pattern, round to nearest even (as PyTorch's .half()). */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && r & 1)) r += 1;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) r += 1;
  return sign | r;
}

/** bfloat16 bit pattern -> number (exact). */
export function bfloatToFloat(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/** Converts any dtype to float32 (float64 rounds; int64 beyond 2^53 loses precision like torch's .float()). */
export function toFloat32(t: TensorData): Float32Array {
  const n = t.data.length;
  switch (t.dtype) {
    case 'float32':
      return t.data as Float32Array;
    case 'float16': {
      const src = t.data as Uint16Array;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(src[i]);
      return out;
    }
    case 'bfloat16': {
      const src = t.data as Uint16Array;
      const out = new Float32Array(n);
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) outBits[i] = src[i] << 16;
      return out;
    }
    case 'int64': {
      const src = t.data as BigInt64Array;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(src[i]);
      return out;
    }
    default:
      return Float32Array.from(t.data as Exclude<TensorArray, BigInt64Array>);
  }
}

/** Converts an integer or bool tensor to int32, throwing (naming `what`) when a value does not fit. */
export function toInt32(t: TensorData, what: string): Int32Array {
  if (t.dtype === 'int32') return t.data as Int32Array;
  if (t.dtype === 'int64') {
    const src = t.data as BigInt64Array;
    const out = new Int32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i];
      if (v > 2147483647n || v < -2147483648n)
        throw new Error(`${what}: int64 value ${v} at index ${i} does not fit in int32`);
      out[i] = Number(v);
    }
    return out;
  }
  if (t.dtype === 'int16' || t.dtype === 'int8' || t.dtype === 'uint8' || t.dtype === 'bool')
    return Int32Array.from(t.data as Int16Array | Int8Array | Uint8Array);
  throw new Error(`${what}: expected an integer tensor, got ${t.dtype}`);
}

/** Shallow summary for error messages. */
export function describe(t: TensorData): string {
  return `${t.dtype}[${t.shape.join(',')}]`;
}
