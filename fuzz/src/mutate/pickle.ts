/**
 * Python pickles as torch.save writes them, without Python: a small pickle writer (protocols 2 and 4, memo by object
 * identity), torch state-dict files in both layouts (zip: `archive/data.pkl` + one entry per storage; legacy: magic,
 * protocol, sys info, the pickle, the storage keys, then each storage's element count and bytes), an opcode scanner,
 * and mutations at three levels: tensors and storages (sizes, strides, offsets, dtypes, persistent ids), opcodes
 * (memo indices, integer arguments, deletions, duplications) and planted code-execution payloads that must never run.
 */
import type { Rng } from '../rng.js';
import { concat, putInt } from './bytes.js';
import { writeZip } from './zip.js';

export type Py =
  | { t: 'none' }
  | { t: 'bool'; v: boolean }
  | { t: 'int'; v: number | bigint }
  | { t: 'float'; v: number }
  | { t: 'str'; v: string }
  | { t: 'bytes'; v: Uint8Array }
  | { t: 'tuple'; items: Py[] }
  | { t: 'list'; items: Py[] }
  | { t: 'dict'; items: [Py, Py][]; ctor?: Py }
  | { t: 'global'; module: string; name: string }
  | { t: 'reduce'; fn: Py; args: Py }
  | { t: 'persid'; pid: Py }
  | { t: 'build'; obj: Py; state: Py };

export const py = {
  none: (): Py => ({ t: 'none' }),
  bool: (v: boolean): Py => ({ t: 'bool', v }),
  int: (v: number | bigint): Py => ({ t: 'int', v }),
  str: (v: string): Py => ({ t: 'str', v }),
  tuple: (...items: Py[]): Py => ({ t: 'tuple', items }),
  global: (module: string, name: string): Py => ({ t: 'global', module, name }),
  reduce: (fn: Py, ...args: Py[]): Py => ({ t: 'reduce', fn, args: { t: 'tuple', items: args } }),
};

const enc = new TextEncoder();

class Writer {
  private readonly parts: number[] = [];
  private readonly memo = new Map<Py, number>();

  constructor(private readonly protocol: 2 | 4) {}

  private op(...bytes: number[]): void {
    for (const b of bytes) this.parts.push(b);
  }

  private u32(v: number): void {
    this.op(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }

  private raw(b: Uint8Array): void {
    for (const x of b) this.parts.push(x);
  }

  private put(node: Py): void {
    const i = this.memo.size;
    this.memo.set(node, i);
    if (this.protocol === 4) this.op(0x94);
    else if (i < 256) this.op(0x71, i);
    else {
      this.op(0x72);
      this.u32(i);
    }
  }

  private str(s: string): void {
    const b = enc.encode(s);
    if (this.protocol === 4 && b.length < 256) this.op(0x8c, b.length);
    else {
      this.op(0x58);
      this.u32(b.length);
    }
    this.raw(b);
  }

  write(node: Py): void {
    const seen = this.memo.get(node);
    if (seen !== undefined) {
      if (seen < 256) this.op(0x68, seen);
      else {
        this.op(0x6a);
        this.u32(seen);
      }
      return;
    }
    switch (node.t) {
      case 'none':
        return this.op(0x4e);
      case 'bool':
        return this.op(node.v ? 0x88 : 0x89);
      case 'int': {
        // A mutated spec can hold NaN or a fraction where an integer belongs: pickle it as the float it is.
        if (typeof node.v === 'number' && !Number.isSafeInteger(node.v))
          return this.write({ t: 'float', v: node.v });
        const v = BigInt(node.v);
        if (v >= 0n && v < 256n) return this.op(0x4b, Number(v));
        if (v >= 0n && v < 65536n) return this.op(0x4d, Number(v) & 0xff, Number(v) >> 8);
        if (v >= -(2n ** 31n) && v < 2n ** 31n) {
          this.op(0x4a);
          return this.u32(Number(BigInt.asUintN(32, v)));
        }
        const bytes: number[] = [];
        let x = v;
        for (;;) {
          bytes.push(Number(BigInt.asUintN(8, x)));
          x >>= 8n;
          const sign = (bytes[bytes.length - 1] & 0x80) !== 0;
          if ((x === 0n && !sign) || (x === -1n && sign)) break;
        }
        this.op(0x8a, bytes.length, ...bytes);
        return;
      }
      case 'float': {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, node.v, false);
        this.op(0x47);
        return this.raw(b);
      }
      case 'str':
        this.str(node.v);
        return this.put(node);
      case 'bytes':
        this.op(0x42);
        this.u32(node.v.length);
        this.raw(node.v);
        return this.put(node);
      case 'tuple':
        if (node.items.length === 0) return this.op(0x29);
        if (node.items.length <= 3) {
          for (const x of node.items) this.write(x);
          this.op(0x84 + node.items.length);
        } else {
          this.op(0x28);
          for (const x of node.items) this.write(x);
          this.op(0x74);
        }
        return this.put(node);
      case 'list':
        this.op(0x5d);
        this.put(node);
        if (node.items.length > 0) {
          this.op(0x28);
          for (const x of node.items) this.write(x);
          this.op(0x65);
        }
        return;
      case 'dict':
        if (node.ctor) {
          this.write(node.ctor);
          this.op(0x29, 0x52);
        } else this.op(0x7d);
        this.put(node);
        if (node.items.length > 0) {
          this.op(0x28);
          for (const [k, v] of node.items) {
            this.write(k);
            this.write(v);
          }
          this.op(0x75);
        }
        return;
      case 'global':
        if (this.protocol === 4) {
          this.str(node.module);
          this.str(node.name);
          this.op(0x93);
        } else {
          this.op(0x63);
          this.raw(enc.encode(`${node.module}\n${node.name}\n`));
        }
        return this.put(node);
      case 'reduce':
        this.write(node.fn);
        this.write(node.args);
        this.op(0x52);
        return this.put(node);
      case 'persid':
        this.write(node.pid);
        this.op(0x51);
        return this.put(node);
      case 'build':
        this.write(node.obj);
        this.write(node.state);
        return this.op(0x62);
    }
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.parts);
  }
}

/** A complete pickle of `node` (PROTO, value, STOP). */
export function dumps(node: Py, protocol: 2 | 4 = 2): Uint8Array {
  const w = new Writer(protocol);
  w.write(node);
  return concat(new Uint8Array([0x80, protocol]), w.bytes(), new Uint8Array([0x2e]));
}

// ---------------------------------------------------------------------------------------------------------------------
// torch.save files

export type TorchDType =
  'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export const STORAGE_CLASS: Record<TorchDType, string> = {
  float32: 'FloatStorage',
  float64: 'DoubleStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

export const DTYPE_BYTES: Record<TorchDType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export interface StorageSpec {
  key: string;
  dtype: TorchDType;
  /** Element count declared in the persistent id. */
  numel: number;
  /** The bytes written for it (normally numel x dtype size). */
  data: Uint8Array;
  location: string;
  /** Storage class name override (e.g. an unknown one). */
  cls?: string;
}

export interface TensorSpec {
  name: string;
  storage: string;
  offset: number;
  shape: number[];
  stride: number[];
  /** Wrap in torch._utils._rebuild_parameter (as nn.Parameter state). */
  parameter?: boolean;
}

/** A state dict as torch.save lays it out: storages and strided views of them, and how the file wraps it. */
export interface TorchSpec {
  storages: StorageSpec[];
  tensors: TensorSpec[];
  /** Checkpoint-dict key the state dict sits under ('model_hyper', ...), or none. */
  wrapper?: string;
  /** Extra top-level (or wrapper-level) entries: plain Python values or planted payloads. */
  extras?: [string, Py][];
  /** persistent-id kind (normally 'storage'). */
  pidKind?: string;
  protocol?: 2 | 4;
}

export function contiguousStride(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/** The root object torch.save pickles for `spec` (`legacy`: 6-field persistent ids with a view slot). */
export function torchRoot(spec: TorchSpec, legacy: boolean): Py {
  const pids = new Map<string, Py>();
  for (const s of spec.storages) {
    const fields: Py[] = [
      py.str(spec.pidKind ?? 'storage'),
      py.global('torch', s.cls ?? STORAGE_CLASS[s.dtype]),
      py.str(s.key),
      py.str(s.location),
      py.int(s.numel),
    ];
    if (legacy) fields.push(py.none());
    pids.set(s.key, { t: 'persid', pid: { t: 'tuple', items: fields } });
  }
  const rebuild = py.global('torch._utils', '_rebuild_tensor_v2');
  const ordered = py.global('collections', 'OrderedDict');
  const items: [Py, Py][] = spec.tensors.map((t) => {
    const storage = pids.get(t.storage) ?? py.none();
    let v = py.reduce(
      rebuild,
      storage,
      py.int(t.offset),
      { t: 'tuple', items: t.shape.map((d) => py.int(d)) },
      { t: 'tuple', items: t.stride.map((d) => py.int(d)) },
      py.bool(false),
      py.reduce(ordered),
    );
    if (t.parameter)
      v = py.reduce(py.global('torch._utils', '_rebuild_parameter'), v, py.bool(true), py.reduce(ordered));
    return [py.str(t.name), v];
  });
  const sd: Py = { t: 'dict', items, ctor: ordered };
  const extras = (spec.extras ?? []).map(([k, v]): [Py, Py] => [py.str(k), v]);
  if (spec.wrapper) return { t: 'dict', items: [[py.str(spec.wrapper), sd], ...extras] };
  if (extras.length > 0) (sd as { items: [Py, Py][] }).items.push(...extras);
  return sd;
}

/** A torch >= 1.6 zip checkpoint. */
export function torchZip(spec: TorchSpec): Uint8Array {
  const entries: [string, Uint8Array][] = [
    ['archive/data.pkl', dumps(torchRoot(spec, false), spec.protocol ?? 2)],
    ['archive/byteorder', enc.encode('little')],
    ...spec.storages.map((s): [string, Uint8Array] => [`archive/data/${s.key}`, s.data]),
    ['archive/version', enc.encode('3\n')],
  ];
  return writeZip(entries, 0);
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** A legacy (pre-zip) torch.save file. */
export function torchLegacy(spec: TorchSpec): Uint8Array {
  const sys: Py = {
    t: 'dict',
    items: [
      [py.str('protocol_version'), py.int(1001)],
      [py.str('little_endian'), py.bool(true)],
      [
        py.str('type_sizes'),
        {
          t: 'dict',
          items: [
            [py.str('short'), py.int(2)],
            [py.str('int'), py.int(4)],
            [py.str('long'), py.int(4)],
          ],
        },
      ],
    ],
  };
  const parts = [
    dumps(py.int(LEGACY_MAGIC)),
    dumps(py.int(1001)),
    dumps(sys),
    dumps(torchRoot(spec, true), spec.protocol ?? 2),
  ];
  parts.push(dumps({ t: 'list', items: spec.storages.map((s) => py.str(s.key)) }));
  for (const s of spec.storages) {
    const n = new Uint8Array(8);
    putInt(n, 0, 8, s.numel, true);
    parts.push(n, s.data);
  }
  return concat(...parts);
}

// ---------------------------------------------------------------------------------------------------------------------
// Opcode scanning

type Arg = 'none' | 'u1' | 'u2' | 'u4' | 'i4' | 'u8' | 'f8' | 'len1' | 'len4' | 'len8' | 'line' | 'line2';

const OPCODES: Record<number, [string, Arg]> = {};
for (const [code, name, arg] of [
  [0x28, 'MARK', 'none'],
  [0x2e, 'STOP', 'none'],
  [0x30, 'POP', 'none'],
  [0x31, 'POP_MARK', 'none'],
  [0x32, 'DUP', 'none'],
  [0x46, 'FLOAT', 'line'],
  [0x49, 'INT', 'line'],
  [0x4a, 'BININT', 'i4'],
  [0x4b, 'BININT1', 'u1'],
  [0x4c, 'LONG', 'line'],
  [0x4d, 'BININT2', 'u2'],
  [0x4e, 'NONE', 'none'],
  [0x50, 'PERSID', 'line'],
  [0x51, 'BINPERSID', 'none'],
  [0x52, 'REDUCE', 'none'],
  [0x53, 'STRING', 'line'],
  [0x54, 'BINSTRING', 'len4'],
  [0x55, 'SHORT_BINSTRING', 'len1'],
  [0x56, 'UNICODE', 'line'],
  [0x58, 'BINUNICODE', 'len4'],
  [0x61, 'APPEND', 'none'],
  [0x62, 'BUILD', 'none'],
  [0x63, 'GLOBAL', 'line2'],
  [0x64, 'DICT', 'none'],
  [0x7d, 'EMPTY_DICT', 'none'],
  [0x65, 'APPENDS', 'none'],
  [0x67, 'GET', 'line'],
  [0x68, 'BINGET', 'u1'],
  [0x69, 'INST', 'line2'],
  [0x6a, 'LONG_BINGET', 'u4'],
  [0x6c, 'LIST', 'none'],
  [0x5d, 'EMPTY_LIST', 'none'],
  [0x6f, 'OBJ', 'none'],
  [0x70, 'PUT', 'line'],
  [0x71, 'BINPUT', 'u1'],
  [0x72, 'LONG_BINPUT', 'u4'],
  [0x73, 'SETITEM', 'none'],
  [0x74, 'TUPLE', 'none'],
  [0x29, 'EMPTY_TUPLE', 'none'],
  [0x75, 'SETITEMS', 'none'],
  [0x47, 'BINFLOAT', 'f8'],
  [0x80, 'PROTO', 'u1'],
  [0x81, 'NEWOBJ', 'none'],
  [0x82, 'EXT1', 'u1'],
  [0x83, 'EXT2', 'u2'],
  [0x84, 'EXT4', 'u4'],
  [0x85, 'TUPLE1', 'none'],
  [0x86, 'TUPLE2', 'none'],
  [0x87, 'TUPLE3', 'none'],
  [0x88, 'NEWTRUE', 'none'],
  [0x89, 'NEWFALSE', 'none'],
  [0x8a, 'LONG1', 'len1'],
  [0x8b, 'LONG4', 'len4'],
  [0x42, 'BINBYTES', 'len4'],
  [0x43, 'SHORT_BINBYTES', 'len1'],
  [0x8c, 'SHORT_BINUNICODE', 'len1'],
  [0x8d, 'BINUNICODE8', 'len8'],
  [0x8e, 'BINBYTES8', 'len8'],
  [0x8f, 'EMPTY_SET', 'none'],
  [0x90, 'ADDITEMS', 'none'],
  [0x91, 'FROZENSET', 'none'],
  [0x92, 'NEWOBJ_EX', 'none'],
  [0x93, 'STACK_GLOBAL', 'none'],
  [0x94, 'MEMOIZE', 'none'],
  [0x95, 'FRAME', 'u8'],
  [0x96, 'BYTEARRAY8', 'len8'],
  [0x97, 'NEXT_BUFFER', 'none'],
  [0x98, 'READONLY_BUFFER', 'none'],
] as [number, string, Arg][])
  OPCODES[code] = [name, arg];

export interface Op {
  at: number;
  end: number;
  code: number;
  name: string;
  arg: Arg;
}

/** The opcodes of the pickle starting at `from` (up to and including STOP), or what could be scanned. */
export function scanPickle(b: Uint8Array, from = 0): Op[] {
  const out: Op[] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = from;
  while (pos < b.length && out.length < 1_000_000) {
    const code = b[pos];
    const info = OPCODES[code];
    if (!info) break;
    const [name, arg] = info;
    let end = pos + 1;
    const need = (n: number): boolean => end + n <= b.length;
    switch (arg) {
      case 'u1':
        end += 1;
        break;
      case 'u2':
        end += 2;
        break;
      case 'u4':
      case 'i4':
        end += 4;
        break;
      case 'u8':
      case 'f8':
        end += 8;
        break;
      case 'len1':
        end += need(1) ? 1 + b[end] : 1;
        break;
      case 'len4':
        end += need(4) ? 4 + dv.getUint32(end, true) : 4;
        break;
      case 'len8':
        end += need(8) ? 8 + Number(dv.getBigUint64(end, true)) : 8;
        break;
      case 'line':
      case 'line2': {
        for (let k = arg === 'line' ? 1 : 2; k > 0; k--) {
          const nl = b.indexOf(0x0a, end);
          end = nl < 0 ? b.length : nl + 1;
        }
        break;
      }
    }
    if (end > b.length) break;
    out.push({ at: pos, end, code, name, arg });
    pos = end;
    if (code === 0x2e) break;
  }
  return out;
}

/** `os.system('touch $FUZZ_SENTINEL/<tag>')` and friends as protocol-2 opcodes (never to be executed). */
export function payload(rng: Rng): { bytes: Uint8Array; note: string } {
  const cmd = `touch "$FUZZ_SENTINEL/pickle-${rng.int(1000)}"`;
  const [module, name, arg] = rng.pick([
    ['os', 'system', cmd],
    ['posix', 'system', cmd],
    ['subprocess', 'getoutput', cmd],
    ['builtins', 'eval', `__import__('os').system('${cmd}')`],
    ['builtins', 'exec', `import os; os.system('${cmd}')`],
    ['__builtin__', 'eval', `__import__('os').system('${cmd}')`],
    ['torch.serialization', 'load', '/etc/passwd'],
    ['torch._utils', '_rebuild_tensor_v2.__globals__', 'x'],
    ['collections', 'OrderedDict.__init__', 'x'],
  ] as const);
  const w = dumps(py.reduce(py.global(module, name), py.str(arg)));
  return {
    bytes: w.subarray(2, w.length - 1),
    note: `planted ${module}.${name}(${JSON.stringify(arg).slice(0, 40)})`,
  };
}

const OP_INTS = [0, 1, 2, 3, 4, 255, 256, 65535, 0x7fffffff, -1, -2, 2 ** 26, 2 ** 31, 1e9];

/** One opcode-level mutation of the pickle at [from, STOP]; bytes around it are kept. */
export function mutatePickle(b: Uint8Array, rng: Rng, from = 0): { bytes: Uint8Array; note: string } {
  const ops = scanPickle(b, from).filter((o) => o.name !== 'PROTO');
  if (ops.length === 0) return { bytes: b, note: 'no opcodes' };
  const o = rng.pick(ops);
  const splice = (at: number, end: number, insert: Uint8Array): Uint8Array =>
    concat(b.subarray(0, at), insert, b.subarray(end));
  const kind = rng.weighted<string>([
    [3, 'int'],
    [2, 'memo'],
    [2, 'delete'],
    [1, 'duplicate'],
    [1, 'swap'],
    [1, 'replace'],
    [2, 'payload'],
    [1, 'string'],
  ]);
  if (kind === 'int') {
    const ints = ops.filter((x) => ['BININT', 'BININT1', 'BININT2', 'LONG1'].includes(x.name));
    if (ints.length > 0) {
      const x = rng.pick(ints);
      const v = rng.pick(OP_INTS);
      const w = dumps(py.int(Math.trunc(v)));
      return { bytes: splice(x.at, x.end, w.subarray(2, w.length - 1)), note: `int @${x.at} -> ${v}` };
    }
  }
  if (kind === 'memo') {
    const memo = ops.filter((x) =>
      ['BINGET', 'BINPUT', 'LONG_BINGET', 'LONG_BINPUT', 'MEMOIZE'].includes(x.name),
    );
    if (memo.length > 0) {
      const x = rng.pick(memo);
      const out = b.slice();
      if (x.name === 'MEMOIZE')
        return { bytes: splice(x.at, x.end, new Uint8Array(0)), note: `drop MEMOIZE @${x.at}` };
      const v = rng.pick([0, 1, 2, 7, 255, 0xffff, 0xffffffff, 1 << 20]);
      if (x.arg === 'u1') out[x.at + 1] = v & 0xff;
      else putInt(out, x.at + 1, 4, v, true);
      return { bytes: out, note: `${x.name} @${x.at} index -> ${x.arg === 'u1' ? v & 0xff : v}` };
    }
  }
  if (kind === 'duplicate')
    return { bytes: splice(o.end, o.end, b.subarray(o.at, o.end)), note: `duplicate ${o.name} @${o.at}` };
  if (kind === 'swap') {
    const i = ops.indexOf(o);
    const p = ops[i + 1];
    if (p)
      return {
        bytes: splice(o.at, p.end, concat(b.subarray(p.at, p.end), b.subarray(o.at, o.end))),
        note: `swap ${o.name} @${o.at} with ${p.name}`,
      };
  }
  if (kind === 'replace') {
    const codes = Object.keys(OPCODES).map(Number);
    const c = rng.pick(codes);
    const out = b.slice();
    out[o.at] = c;
    return { bytes: out, note: `${o.name} @${o.at} -> ${OPCODES[c][0]}` };
  }
  if (kind === 'payload') {
    const p = payload(rng);
    return { bytes: splice(o.at, o.at, p.bytes), note: `${p.note} before ${o.name} @${o.at}` };
  }
  if (kind === 'string') {
    const strs = ops.filter((x) => ['BINUNICODE', 'SHORT_BINUNICODE', 'GLOBAL'].includes(x.name));
    if (strs.length > 0) {
      const x = rng.pick(strs);
      if (x.name === 'GLOBAL') {
        const g = rng.pick([
          'os\nsystem\n',
          'torch\nFloatStorage\n',
          'torch\nUntypedStorage\n',
          'torch._utils\n_rebuild_tensor\n',
          'collections\nOrderedDict\n',
          'numpy\ndtype\n',
          'torch\nTensor\n',
        ]);
        return {
          bytes: splice(x.at + 1, x.end, enc.encode(g)),
          note: `GLOBAL @${x.at} -> ${g.replace(/\n/g, ' ')}`,
        };
      }
      const s = rng.pick([
        '',
        'module',
        'storage',
        'cuda:0',
        '../x',
        'x'.repeat(65),
        '__proto__',
        'model_hyper',
        'state_dict',
      ]);
      const text = enc.encode(s);
      const op = new Uint8Array(5 + text.length);
      op[0] = 0x58;
      putInt(op, 1, 4, text.length, true);
      op.set(text, 5);
      return { bytes: splice(x.at, x.end, op), note: `string @${x.at} -> ${JSON.stringify(s.slice(0, 20))}` };
    }
  }
  return { bytes: splice(o.at, o.end, new Uint8Array(0)), note: `delete ${o.name} @${o.at}` };
}
