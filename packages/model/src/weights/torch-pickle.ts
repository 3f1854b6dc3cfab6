/**
 * Reading files written by `torch.save` without Python: the zip format (torch >= 1.6) and the legacy pre-zip format,
 * through the allow-list unpickler in ./pickle.ts. Only what a state dict (or a checkpoint dict wrapping one) needs is
 * allowed: OrderedDict, the tensor / parameter rebuild functions and the typed storage classes (plus numpy scalars and
 * `_codecs.encode`, decoded as pure data, for the metric values training scripts store next to the weights).
 */
import { unzipSync } from 'fflate';
import type { DType, TensorData } from './state-dict.js';
import { dtypeBytes, emptyTensor } from './state-dict.js';
import { fileError } from './errors.js';
import type { GlobalHandler, PyValue, UnpickleContext, UnpickleLimits } from '@iqa-bench/core/pickle';
import { PyDict, PyGlobal, PyObject, PyTuple, pyTypeName, unpickle } from '@iqa-bench/core/pickle';

/**
 * Size bounds for reading untrusted checkpoint files.
 *
 * A pickled tensor is a view into a storage (offset, sizes, strides), and a view may repeat storage elements (stride 0,
 * overlapping strides): a file of a few hundred bytes can describe a tensor of 2^52 elements. So besides the file
 * size, what the views describe is bounded, from the sizes alone (exact integer arithmetic), before anything is
 * copied out:
 * - each view, when the pickle builds it: at most `maxTensorBytes`, and at most `maxExpansion` times the bytes of
 *   its storage (but always up to VIEW_BUDGET_FLOOR, 1 MiB);
 * - all the tensors a caller keeps (the state dict), before the first is copied: at most `maxExpansion` times the
 *   bytes of all the file's storages (at least VIEW_BUDGET_FLOOR), storages whose sizes have been checked against
 *   the data actually in the file.
 * An ordinary state dict (every tensor its own contiguous storage, or a slice of a shared one) copies out no more
 * bytes than its storages hold.
 */
export interface ReadLimits {
  /** Largest file accepted and largest total of extracted zip entries (default 2 GiB - 1). */
  maxBytes: number;
  /** Largest pickle (data.pkl) accepted (default 64 MiB). */
  maxPickleBytes: number;
  /** Largest tensor a view may describe, in bytes once copied out (default 2 GiB - 1). */
  maxTensorBytes: number;
  /** How many times its storage's bytes a view, and the file's storage bytes all kept tensors, may describe (default 4). */
  maxExpansion: number;
  pickle?: Partial<UnpickleLimits>;
}

export const DEFAULT_READ_LIMITS: Readonly<ReadLimits> = Object.freeze({
  maxBytes: 2 ** 31 - 1,
  maxPickleBytes: 64 * 2 ** 20,
  maxTensorBytes: 2 ** 31 - 1,
  maxExpansion: 4,
});

/** Views and kept tensors may always describe this many bytes, whatever their storages hold (1 MiB). */
export const VIEW_BUDGET_FLOOR = 2 ** 20;

/** The bytes the tensors of a file with `storageBytes` bytes of storage may describe together (see ReadLimits). */
export function keptTensorBudget(storageBytes: number, limits: Pick<ReadLimits, 'maxExpansion'>): number {
  return Math.max(VIEW_BUDGET_FLOOR, limits.maxExpansion * storageBytes);
}

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** One storage of the file (a flat run of elements several tensors may view). */
export class TorchStorage extends PyObject {
  readonly pyType = 'torch storage';
  /** Raw little-endian bytes, attached once the storage section has been read. */
  bytes: Uint8Array | undefined = undefined;
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    /** e.g. 'cpu' or 'cuda:0'; ignored (everything is loaded to host memory). */
    readonly location: string,
  ) {
    super();
  }
}

/** A tensor as pickled: a strided view into a storage. Materialised on demand (only the tensors a caller keeps). */
export class TorchTensorRef extends PyObject {
  readonly pyType = 'torch tensor';
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
    private readonly source: string,
    /** Bytes of the contiguous copy materialize() makes (checked against ReadLimits when the view was built). */
    readonly byteLength: number,
  ) {
    super();
  }

  get dtype(): DType {
    return this.storage.dtype;
  }

  /** A contiguous copy of the view (handles strides, offsets and storages shared with other tensors). */
  materialize(what = 'tensor'): TensorData {
    const bytes = this.storage.bytes;
    if (!bytes) throw fileError(this.source, what, `storage '${this.storage.key}' has no data in the file`);
    const size = dtypeBytes(this.storage.dtype);
    const out = emptyTensor(this.storage.dtype, this.shape);
    const n = out.data.length;
    if (n === 0) return out;
    const dst = new Uint8Array(out.data.buffer);
    const rank = this.shape.length;
    // Fast path: a contiguous view is one copy.
    let contiguous = true;
    let expect = 1;
    for (let d = rank - 1; d >= 0; d--) {
      if (this.shape[d] !== 1 && this.stride[d] !== expect) contiguous = false;
      expect *= this.shape[d];
    }
    if (contiguous) {
      dst.set(bytes.subarray(this.offset * size, (this.offset + n) * size));
      return out;
    }
    const idx = new Array<number>(rank).fill(0);
    let src = this.offset;
    for (let i = 0; i < n; i++) {
      const from = src * size;
      const to = i * size;
      for (let b = 0; b < size; b++) dst[to + b] = bytes[from + b];
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]++;
        src += this.stride[d];
        if (idx[d] < this.shape[d]) break;
        src -= this.stride[d] * this.shape[d];
        idx[d] = 0;
      }
    }
    return out;
  }
}

/** numpy.dtype as pickled (only simple numeric dtypes; used to decode numpy scalars). */
class NumpyDType extends PyObject {
  readonly pyType = 'numpy.dtype';
  byteOrder = '<';
  constructor(readonly code: string) {
    super();
  }
  override build(state: PyValue, ctx: UnpickleContext): void {
    if (!(state instanceof PyTuple) || typeof state.items[1] !== 'string')
      throw ctx.error('unexpected numpy.dtype state');
    this.byteOrder = state.items[1];
  }
}

const NUMPY_CODES = /^(f2|f4|f8|i1|i2|i4|i8|u1|u2|u4|u8|b1)$/;

function decodeNumpyScalar(dt: NumpyDType, raw: Uint8Array, ctx: UnpickleContext): PyValue {
  const size = Number(dt.code.slice(1));
  if (raw.length !== size) throw ctx.error(`numpy scalar of dtype ${dt.code} has ${raw.length} bytes`);
  const little = dt.byteOrder !== '>';
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dt.code) {
    case 'f2':
      throw ctx.error('float16 numpy scalars are not supported');
    case 'f4':
      return v.getFloat32(0, little);
    case 'f8':
      return v.getFloat64(0, little);
    case 'i1':
      return v.getInt8(0);
    case 'i2':
      return v.getInt16(0, little);
    case 'i4':
      return v.getInt32(0, little);
    case 'u1':
      return v.getUint8(0);
    case 'u2':
      return v.getUint16(0, little);
    case 'u4':
      return v.getUint32(0, little);
    case 'b1':
      return v.getUint8(0) !== 0;
    case 'i8':
    case 'u8': {
      const b = dt.code === 'i8' ? v.getBigInt64(0, little) : v.getBigUint64(0, little);
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
    }
    default:
      throw ctx.error(`numpy dtype '${dt.code}' is not supported`);
  }
}

function int(v: PyValue, what: string, ctx: UnpickleContext): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  throw ctx.error(`${what} must be an integer, got ${pyTypeName(v)}`);
}

function intTuple(v: PyValue, what: string, ctx: UnpickleContext): number[] {
  // torch writes sizes and strides as tuples; torch.Size is pickled as a tuple too.
  if (!(v instanceof PyTuple) && !Array.isArray(v))
    throw ctx.error(`${what} must be a tuple of integers, got ${pyTypeName(v)}`);
  const items = v instanceof PyTuple ? v.items : v;
  if (items.length > 64) throw ctx.error(`${what} has ${items.length} dimensions`);
  return items.map((x, i) => int(x, `${what}[${i}]`, ctx));
}

/**
 * `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])` with bounds
 * checks: the view stays inside its storage and describes no more bytes than `limits` allow (see ReadLimits).
 */
function rebuildTensor(
  args: PyValue[],
  ctx: UnpickleContext,
  minArgs: number,
  fn: string,
  limits: Pick<ReadLimits, 'maxTensorBytes' | 'maxExpansion'>,
): TorchTensorRef {
  if (args.length < minArgs || args.length > 7) throw ctx.error(`${fn} called with ${args.length} arguments`);
  const [storage, offsetV, sizeV, strideV] = args;
  if (!(storage instanceof TorchStorage))
    throw ctx.error(`${fn}: first argument must be a storage, got ${pyTypeName(storage)}`);
  const offset = int(offsetV, `${fn} storage_offset`, ctx);
  const shape = intTuple(sizeV, `${fn} size`, ctx);
  const stride = intTuple(strideV, `${fn} stride`, ctx);
  if (stride.length !== shape.length)
    throw ctx.error(`${fn}: size has ${shape.length} dims but stride has ${stride.length}`);
  if (offset < 0 || shape.some((d) => d < 0) || stride.some((s) => s < 0))
    throw ctx.error(`${fn}: negative offset, size or stride`);
  const view = `view (offset ${offset}, size [${shape.join(',')}], stride [${stride.join(',')}])`;
  // Exact arithmetic: a product of up to 64 sizes of up to 2^53 each.
  const elements = shape.reduce((a, d) => a * BigInt(d), 1n);
  const size = dtypeBytes(storage.dtype);
  const bytes = elements * BigInt(size);
  const storageBytes = storage.numel * size;
  const budget = Math.min(
    limits.maxTensorBytes,
    keptTensorBudget(storageBytes, { maxExpansion: limits.maxExpansion }),
  );
  if (bytes > BigInt(budget)) {
    const which =
      budget === limits.maxTensorBytes
        ? `maxTensorBytes = ${limits.maxTensorBytes}`
        : `maxExpansion = ${limits.maxExpansion} times the ${storageBytes} bytes of storage '${storage.key}'`;
    throw ctx.error(
      `${fn}: ${view} of storage '${storage.key}' (${storage.numel} x ${storage.dtype}) describes ${elements} elements, ` +
        `${bytes} bytes once copied, over the limit of ${budget} bytes (${which}); refusing to allocate it ` +
        '(raise ReadLimits.maxExpansion / maxTensorBytes only for a trusted file)',
    );
  }
  const n = Number(elements);
  if (n > 0) {
    let last = BigInt(offset);
    for (let d = 0; d < shape.length; d++) last += BigInt(shape[d] - 1) * BigInt(stride[d]);
    if (last >= BigInt(storage.numel)) {
      throw ctx.error(
        `${fn}: ${view} reaches element ${last} of storage '${storage.key}' which has ${storage.numel} elements`,
      );
    }
  }
  if (args.length >= 5 && typeof args[4] !== 'boolean')
    throw ctx.error(`${fn}: requires_grad must be a bool`);
  return new TorchTensorRef(storage, offset, shape, stride, ctx.source, Number(bytes));
}

function unwrapParameter(args: PyValue[], ctx: UnpickleContext, fn: string): PyValue {
  if (args.length < 1 || !(args[0] instanceof TorchTensorRef))
    throw ctx.error(`${fn}: expected a tensor argument`);
  return args[0];
}

function orderedDict(args: PyValue[], ctx: UnpickleContext): PyDict {
  const d = new PyDict(true);
  if (args.length === 0) return d;
  const items = args[0];
  if (args.length !== 1 || !Array.isArray(items))
    throw ctx.error('OrderedDict() takes an optional list of pairs');
  for (const pair of items) {
    const kv = pair instanceof PyTuple ? pair.items : Array.isArray(pair) ? pair : null;
    const key = kv?.[0];
    if (!kv || kv.length !== 2 || !(typeof key === 'string' || typeof key === 'number'))
      throw ctx.error('OrderedDict item must be a (key, value) pair');
    d.map.set(key, kv[1]);
  }
  return d;
}

const REFERENCE_ONLY: GlobalHandler = {};

/** The allow-list but for the tensor rebuild functions (torchGlobals adds them, bounded by the read's limits). */
const DATA_GLOBALS: readonly [string, GlobalHandler][] = [
  ['collections.OrderedDict', { call: orderedDict, construct: () => new PyDict(true) }],
  ['torch._utils._rebuild_parameter', { call: (a, c) => unwrapParameter(a, c, '_rebuild_parameter') }],
  [
    'torch._utils._rebuild_parameter_with_state',
    { call: (a, c) => unwrapParameter(a, c, '_rebuild_parameter_with_state') },
  ],
  [
    'torch._tensor._rebuild_from_type_v2',
    {
      // (func, new_type, args, state): only plain tensors / parameters with no Python state.
      call: (a, c) => {
        const [fn, type, args, state] = a;
        if (
          a.length !== 4 ||
          !(fn instanceof PyGlobal) ||
          !(type instanceof PyGlobal) ||
          !(args instanceof PyTuple)
        ) {
          throw c.error('_rebuild_from_type_v2: unexpected arguments');
        }
        if (type.qualifiedName !== 'torch.Tensor' && type.qualifiedName !== 'torch.nn.parameter.Parameter') {
          throw c.error(`_rebuild_from_type_v2: tensor subclass '${type.qualifiedName}' is not allowed`);
        }
        if (!(state === null || (state instanceof PyDict && state.map.size === 0)))
          throw c.error('_rebuild_from_type_v2: tensor attributes are not supported');
        if (!fn.handler.call || !fn.qualifiedName.startsWith('torch._utils._rebuild_'))
          throw c.error(`_rebuild_from_type_v2: '${fn.qualifiedName}' is not a tensor rebuild function`);
        return fn.handler.call(args.items, c);
      },
    },
  ],
  ['torch.Tensor', REFERENCE_ONLY],
  ['torch.nn.parameter.Parameter', REFERENCE_ONLY],
  ...Object.keys(STORAGE_DTYPES).map((n): [string, GlobalHandler] => [`torch.${n}`, REFERENCE_ONLY]),
  [
    '_codecs.encode',
    {
      // Protocol-2 pickles write Python 3 bytes as _codecs.encode(str, 'latin1').
      call: (a, c) => {
        const [s, enc] = a;
        if (a.length !== 2 || typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1'))
          throw c.error("_codecs.encode: only (str, 'latin1') is allowed");
        const out = new Uint8Array(s.length);
        for (let i = 0; i < s.length; i++) {
          const code = s.charCodeAt(i);
          if (code > 255) throw c.error('_codecs.encode: character outside latin-1');
          out[i] = code;
        }
        return out;
      },
    },
  ],
  ...['numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar'].map((n): [string, GlobalHandler] => [
    n,
    {
      call: (a, c) => {
        const [dt, raw] = a;
        if (a.length !== 2 || !(dt instanceof NumpyDType) || !(raw instanceof Uint8Array))
          throw c.error('numpy scalar: unexpected arguments');
        return decodeNumpyScalar(dt, raw, c);
      },
    },
  ]),
  [
    'numpy.dtype',
    {
      call: (a, c) => {
        const code = a[0];
        if (typeof code !== 'string' || !NUMPY_CODES.test(code))
          throw c.error(`numpy.dtype '${String(code)}' is not supported`);
        return new NumpyDType(code);
      },
    },
  ],
];

/**
 * The allow-list: every global a state-dict pickle may name, and what calling it does (pure data). Tensor views are
 * bounded by `limits` (see ReadLimits).
 */
export function torchGlobals(
  limits: Pick<ReadLimits, 'maxTensorBytes' | 'maxExpansion'> = DEFAULT_READ_LIMITS,
): ReadonlyMap<string, GlobalHandler> {
  return new Map<string, GlobalHandler>([
    ...DATA_GLOBALS,
    [
      'torch._utils._rebuild_tensor_v2',
      { call: (a, c) => rebuildTensor(a, c, 6, '_rebuild_tensor_v2', limits) },
    ],
    ['torch._utils._rebuild_tensor', { call: (a, c) => rebuildTensor(a, c, 4, '_rebuild_tensor', limits) }],
  ]);
}

// ---------------------------------------------------------------------------------------------------------------------

function storageFromPid(
  pid: PyValue,
  ctx: UnpickleContext,
  storages: Map<string, TorchStorage>,
  legacy: boolean,
): TorchStorage {
  if (!(pid instanceof PyTuple)) throw ctx.error(`persistent id must be a tuple, got ${pyTypeName(pid)}`);
  const [kind, type, key, location, count, view] = pid.items;
  if (kind === 'module')
    throw ctx.error(
      'the file holds a pickled nn.Module (source code), not a state dict; re-save model.state_dict()',
    );
  if (kind !== 'storage') throw ctx.error(`unsupported persistent id kind '${String(kind)}'`);
  if (pid.items.length !== (legacy ? 6 : 5))
    throw ctx.error(`storage persistent id has ${pid.items.length} fields`);
  if (!(type instanceof PyGlobal)) throw ctx.error('storage type must be a torch storage class');
  const dtype = STORAGE_DTYPES[type.qualifiedName.replace(/^torch\./, '')];
  if (!dtype) throw ctx.error(`'${type.qualifiedName}' is not a storage type`);
  if (typeof key !== 'string' || key.length === 0 || key.length > 64)
    throw ctx.error('storage key must be a short string');
  if (typeof location !== 'string') throw ctx.error('storage location must be a string');
  const n = int(count, 'storage size', ctx);
  if (n < 0) throw ctx.error('negative storage size');
  if (legacy && view !== null) throw ctx.error('legacy storage views (torch < 1.0 files) are not supported');
  const prev = storages.get(key);
  if (prev) {
    if (prev.dtype !== dtype || prev.numel !== n)
      throw ctx.error(`storage '${key}' is declared twice with different types or sizes`);
    return prev;
  }
  const s = new TorchStorage(key, dtype, n, location);
  storages.set(key, s);
  return s;
}

/** The result of reading a torch.save file: the unpickled object, with tensor data attached. */
export interface TorchFile {
  format: 'torch-zip' | 'torch-legacy';
  root: PyValue;
  /** Bytes the tensors a caller keeps may describe together (keptTensorBudget of the file's checked storages). */
  keptBudget: number;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ZIP_MAGIC.every((b, i) => bytes[i] === b);
}

/** A legacy torch file begins with a pickle (PROTO 2) of the magic number. */
export function isLegacyTorch(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5;
}

function checkEntryName(name: string, source: string): void {
  if (
    name.length === 0 ||
    name.startsWith('/') ||
    name.includes('\\') ||
    name.includes('\0') ||
    /^[A-Za-z]:/.test(name) ||
    name.split('/').includes('..')
  ) {
    throw fileError(
      source,
      null,
      `zip entry name '${name}' escapes the archive (absolute path or '..'); refusing to read`,
    );
  }
}

/** Reads a torch >= 1.6 zip checkpoint (`<prefix>/data.pkl`, `<prefix>/data/<key>`, ...). */
export function readTorchZip(
  bytes: Uint8Array,
  source: string,
  limits: ReadLimits = DEFAULT_READ_LIMITS,
): TorchFile {
  const declared = new Map<string, number>();
  const scan = (want: (name: string) => boolean): Record<string, Uint8Array> => {
    let total = 0;
    try {
      const files = unzipSync(bytes, {
        filter: (f) => {
          checkEntryName(f.name, source);
          if (!want(f.name)) return false;
          if (f.originalSize > limits.maxBytes || (total += f.originalSize) > limits.maxBytes) {
            throw fileError(
              source,
              null,
              `zip entry '${f.name}' declares ${f.originalSize} bytes, over the limit of ${limits.maxBytes}`,
            );
          }
          declared.set(f.name, f.originalSize);
          return true;
        },
      });
      for (const [name, data] of Object.entries(files)) {
        if (data.length !== declared.get(name))
          throw fileError(
            source,
            null,
            `zip entry '${name}' is ${data.length} bytes, declared ${declared.get(name)}`,
          );
      }
      return files;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith(source)) throw err;
      throw fileError(
        source,
        null,
        `not a readable zip archive (truncated or corrupt?): ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  };
  // Pass 1: the pickle (and byteorder). The prefix is whatever folder holds data.pkl.
  const meta = scan((name) => /^[^/]+\/(data\.pkl|byteorder)$/.test(name));
  const pklNames = Object.keys(meta).filter((n) => n.endsWith('/data.pkl'));
  if (pklNames.length !== 1) {
    throw fileError(
      source,
      null,
      `a torch zip checkpoint has exactly one '<prefix>/data.pkl', found ${pklNames.length}`,
    );
  }
  const prefix = pklNames[0].slice(0, -'data.pkl'.length);
  const byteorder = meta[`${prefix}byteorder`];
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== 'little') {
    throw fileError(source, null, `big-endian torch checkpoints are not supported`);
  }
  const pkl = meta[`${prefix}data.pkl`];
  if (pkl.length > limits.maxPickleBytes)
    throw fileError(
      source,
      null,
      `data.pkl is ${pkl.length} bytes, over the limit of ${limits.maxPickleBytes}`,
    );
  const storages = new Map<string, TorchStorage>();
  const { value: root, end } = unpickle(pkl, {
    source,
    globals: torchGlobals(limits),
    persistentLoad: (pid, ctx) => storageFromPid(pid, ctx, storages, false),
    limits: limits.pickle,
  });
  if (end !== pkl.length)
    throw fileError(source, null, `${pkl.length - end} bytes after the end of data.pkl`);
  // Pass 2: the storages the pickle refers to.
  const wanted = new Set([...storages.keys()].map((k) => `${prefix}data/${k}`));
  const data = scan((name) => wanted.has(name));
  for (const s of storages.values()) {
    const raw = data[`${prefix}data/${s.key}`];
    if (!raw)
      throw fileError(
        source,
        null,
        `storage '${s.key}' (${prefix}data/${s.key}) is missing from the archive`,
      );
    const need = s.numel * dtypeBytes(s.dtype);
    if (raw.length !== need)
      throw fileError(
        source,
        null,
        `storage '${s.key}' has ${raw.length} bytes, expected ${need} (${s.numel} x ${s.dtype})`,
      );
    s.bytes = raw;
  }
  return { format: 'torch-zip', root, keptBudget: keptTensorBudget(totalStorageBytes(storages), limits) };
}

function totalStorageBytes(storages: Map<string, TorchStorage>): number {
  let total = 0;
  for (const s of storages.values()) total += s.bytes?.byteLength ?? 0;
  return total;
}

/** Reads a legacy (pre-zip, `_use_new_zipfile_serialization=False`) torch.save file. */
export function readTorchLegacy(
  bytes: Uint8Array,
  source: string,
  limits: ReadLimits = DEFAULT_READ_LIMITS,
): TorchFile {
  const globals = torchGlobals(limits);
  const header = (offset: number): { value: PyValue; end: number } =>
    unpickle(bytes, { source, globals, offset, limits: limits.pickle });
  const magic = header(0);
  if (magic.value !== LEGACY_MAGIC)
    throw fileError(source, null, `not a torch checkpoint (no torch.save magic number)`);
  const proto = header(magic.end);
  if (proto.value !== 1001)
    throw fileError(source, null, `unsupported legacy torch protocol version ${String(proto.value)}`);
  const sys = header(proto.end);
  if (!(sys.value instanceof PyDict) || sys.value.map.get('little_endian') !== true) {
    throw fileError(source, null, `only little-endian legacy torch files are supported`);
  }
  const storages = new Map<string, TorchStorage>();
  const main = unpickle(bytes, {
    source,
    globals,
    offset: sys.end,
    persistentLoad: (pid, ctx) => storageFromPid(pid, ctx, storages, true),
    limits: limits.pickle,
  });
  const keysPickle = header(main.end);
  const keys = keysPickle.value;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string'))
    throw fileError(source, null, `legacy storage key list is not a list of strings`);
  let pos = keysPickle.end;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys as string[]) {
    const s = storages.get(key);
    if (!s) throw fileError(source, null, `storage '${key}' is in the file but no tensor uses it`);
    if (s.bytes) throw fileError(source, null, `storage '${key}' appears twice`);
    if (pos + 8 > bytes.length)
      throw fileError(source, null, `truncated: storage '${key}' header is missing`);
    const count = dv.getBigInt64(pos, true);
    pos += 8;
    if (count !== BigInt(s.numel))
      throw fileError(
        source,
        null,
        `storage '${key}' has ${count} elements in the data, ${s.numel} in the pickle`,
      );
    const need = s.numel * dtypeBytes(s.dtype);
    if (pos + need > bytes.length)
      throw fileError(
        source,
        null,
        `truncated: storage '${key}' needs ${need} bytes, ${bytes.length - pos} left`,
      );
    s.bytes = bytes.subarray(pos, pos + need);
    pos += need;
  }
  for (const s of storages.values()) {
    if (!s.bytes)
      throw fileError(source, null, `storage '${s.key}' is used by a tensor but has no data in the file`);
  }
  if (pos !== bytes.length)
    throw fileError(source, null, `${bytes.length - pos} unexpected bytes after the last storage`);
  return {
    format: 'torch-legacy',
    root: main.value,
    keptBudget: keptTensorBudget(totalStorageBytes(storages), limits),
  };
}
