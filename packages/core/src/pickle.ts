/**
 * `@iqa-bench/core/pickle`: a safe, allow-list Python unpickler (protocols 0-5, the opcodes that data and PyTorch state dicts use).
 *
 * Python's pickle can call any importable callable (`os.system`, `builtins.eval`, ...) through GLOBAL/STACK_GLOBAL +
 * REDUCE. Here nothing is ever "imported": a global resolves only if the caller's allow-list names it, and calling it
 * runs the caller's own (data-only) handler. Everything else is refused with an error naming the global and the file.
 * Containers are Maps / arrays / small classes (no plain objects keyed by file content, so no prototype pollution), and
 * the memo, stack, mark depth and integer sizes are bounded.
 */

/**
 * A pickle could not be read: the message starts with the file (or source name), then the field (the opcode position,
 * or what was being built), then what is wrong. Readers built on the unpickler wrap it into their own error types.
 */
export class PickleError extends Error {
  override readonly name = 'PickleError';
  readonly file: string;
  readonly field: string | null;

  constructor(file: string, field: string | null, detail: string) {
    super(`${file}: ${field ? `${field}: ` : ''}${detail}`);
    this.file = file;
    this.field = field;
  }
}

function fileError(file: string, field: string | null, detail: string): PickleError {
  return new PickleError(file, field, detail);
}

/** A Python tuple (kept distinct from a list). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A Python set or frozenset. */
export class PySet {
  constructor(
    readonly items: PyValue[],
    readonly frozen: boolean,
  ) {}
}

export type PyKey = string | number | bigint | boolean | null;

/** A Python dict or collections.OrderedDict (both keep insertion order). `state` holds a BUILD state (e.g. `_metadata`). */
export class PyDict {
  readonly map = new Map<PyKey, PyValue>();
  state: PyValue | undefined = undefined;
  constructor(readonly ordered: boolean) {}
}

/** Base of the objects that allow-listed globals produce (tensor references, numpy dtypes, ...). */
export abstract class PyObject {
  abstract readonly pyType: string;
  /** BUILD opcode: set `state` on this object. Objects that take no state refuse it. */
  build(state: PyValue, ctx: UnpickleContext): void {
    void state;
    throw ctx.error(`BUILD on a ${this.pyType} is not supported`);
  }
}

/** A reference to an allow-listed global (what GLOBAL / STACK_GLOBAL push). */
export class PyGlobal extends PyObject {
  readonly pyType = 'global';
  constructor(
    readonly qualifiedName: string,
    readonly handler: GlobalHandler,
  ) {
    super();
  }
}

export type PyValue =
  null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PySet | PyObject;

export interface UnpickleContext {
  /** The file name (for error messages). */
  readonly source: string;
  /** A PickleError whose message starts with the file name and the opcode position. */
  error(message: string): PickleError;
}

export interface GlobalHandler {
  /** REDUCE: the global called with positional arguments. Absent: the global may only be referenced, never called. */
  call?(args: PyValue[], ctx: UnpickleContext): PyValue;
  /** NEWOBJ / NEWOBJ_EX: `cls.__new__(cls, *args)`. Absent: refused. */
  construct?(args: PyValue[], ctx: UnpickleContext): PyValue;
}

export interface UnpickleLimits {
  /** Maximum memo entries (default 2^20). */
  maxMemo: number;
  /** Maximum stack items, all mark levels together (default 2^22). */
  maxStack: number;
  /** Maximum MARK nesting (default 4096). */
  maxMarks: number;
  /** Maximum byte length of one LONG1/LONG4 integer (default 64). */
  maxLongBytes: number;
}

export const DEFAULT_UNPICKLE_LIMITS: UnpickleLimits = {
  maxMemo: 1 << 20,
  maxStack: 1 << 22,
  maxMarks: 4096,
  maxLongBytes: 64,
};

export interface UnpickleOptions {
  source: string;
  /** Allow-list: "module.name" -> handler. Anything not here is refused. */
  globals: ReadonlyMap<string, GlobalHandler>;
  /** PERSID / BINPERSID. Absent: persistent ids are refused. */
  persistentLoad?: (pid: PyValue, ctx: UnpickleContext) => PyValue;
  /** Offset of the pickle in `bytes` (several pickles may follow each other, as in the legacy torch format). */
  offset?: number;
  limits?: Partial<UnpickleLimits>;
}

export interface UnpickleResult {
  value: PyValue;
  /** Offset just after the STOP opcode. */
  end: number;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Python value -> short description for errors. */
export function pyTypeName(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return v.ordered ? 'OrderedDict' : 'dict';
  if (v instanceof PySet) return v.frozen ? 'frozenset' : 'set';
  if (v instanceof PyGlobal) return `global ${v.qualifiedName}`;
  return v.pyType;
}

function normaliseInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Two's-complement little-endian integer (LONG1 / LONG4). */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return normaliseInt(v);
}

function toKey(v: PyValue, ctx: UnpickleContext): PyKey {
  if (
    v === null ||
    typeof v === 'string' ||
    typeof v === 'number' ||
    typeof v === 'bigint' ||
    typeof v === 'boolean'
  )
    return v;
  throw ctx.error(`dict key of type ${pyTypeName(v)} is not supported`);
}

/**
 * Unpickles one pickle from `bytes` at `offset` with an allow-list of globals. Never executes anything from the file.
 */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): UnpickleResult {
  const limits: UnpickleLimits = { ...DEFAULT_UNPICKLE_LIMITS, ...opts.limits };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = opts.offset ?? 0;
  let opPos = pos;
  const ctx: UnpickleContext = {
    source: opts.source,
    error: (message: string) => fileError(opts.source, `pickle at byte ${opPos}`, message),
  };

  let stack: PyValue[] = [];
  const marks: PyValue[][] = [];
  let stackSize = 0;
  const memo = new Map<number, PyValue>();

  const need = (n: number): void => {
    if (n < 0 || pos + n > bytes.length)
      throw ctx.error(`truncated: needs ${n} more bytes, ${bytes.length - pos} left`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++];
  };
  const u16 = (): number => {
    need(2);
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = dv.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length))
      throw ctx.error(`declared length ${v} exceeds the data (${bytes.length} bytes)`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) throw ctx.error('truncated: missing end of line');
    const s = latin1.decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const utf8 = (b: Uint8Array): string => {
    try {
      return textDecoder.decode(b);
    } catch {
      throw ctx.error('invalid UTF-8 in a string');
    }
  };

  const push = (v: PyValue): void => {
    if (++stackSize > limits.maxStack) throw ctx.error(`stack exceeds ${limits.maxStack} items`);
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === 0) throw ctx.error('stack underflow');
    stackSize--;
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw ctx.error('stack underflow');
    return stack[stack.length - 1];
  };
  const pushMark = (): void => {
    if (marks.length >= limits.maxMarks) throw ctx.error(`MARK nesting exceeds ${limits.maxMarks}`);
    marks.push(stack);
    stack = [];
  };
  /** Items since the last MARK (removes them and the mark). */
  const popMark = (): PyValue[] => {
    const prev = marks.pop();
    if (!prev) throw ctx.error('no MARK on the stack');
    const items = stack;
    stackSize -= items.length;
    stack = prev;
    return items;
  };
  const memoPut = (idx: number, v: PyValue): void => {
    if (!memo.has(idx) && memo.size >= limits.maxMemo)
      throw ctx.error(`memo exceeds ${limits.maxMemo} entries`);
    memo.set(idx, v);
  };
  const memoGet = (idx: number): PyValue => {
    const v = memo.get(idx);
    if (v === undefined) throw ctx.error(`memo key ${idx} is not defined`);
    return v;
  };
  const long = (n: number): number | bigint => {
    if (n > limits.maxLongBytes) throw ctx.error(`integer of ${n} bytes exceeds ${limits.maxLongBytes}`);
    return decodeLong(take(n));
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const qualified = `${module}.${name}`;
    const handler = opts.globals.get(qualified);
    if (!handler) {
      throw fileError(
        opts.source,
        null,
        `refusing to load: the pickle refers to the Python global '${qualified}', which is not allowed ` +
          `(a PyTorch pickle can run arbitrary code; only these globals are accepted: ${[...opts.globals.keys()].join(', ')})`,
      );
    }
    return new PyGlobal(qualified, handler);
  };
  const callable = (v: PyValue, op: string): PyGlobal => {
    if (v instanceof PyGlobal) return v;
    throw ctx.error(`${op} on a ${pyTypeName(v)}, which is not an allowed callable`);
  };
  const persistent = (pid: PyValue): PyValue => {
    if (!opts.persistentLoad) throw ctx.error('persistent ids are not supported here');
    return opts.persistentLoad(pid, ctx);
  };
  const setItems = (dict: PyValue, items: PyValue[]): void => {
    if (!(dict instanceof PyDict)) throw ctx.error(`SETITEM(S) on a ${pyTypeName(dict)}`);
    if (items.length % 2 !== 0) throw ctx.error('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) dict.map.set(toKey(items[i], ctx), items[i + 1]);
  };
  const appendItems = (list: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(list)) throw ctx.error(`APPEND(S) on a ${pyTypeName(list)}`);
    for (const it of items) list.push(it);
  };
  const tupleArgs = (v: PyValue, op: string): PyValue[] => {
    if (v instanceof PyTuple) return v.items;
    throw ctx.error(`${op} arguments must be a tuple, got ${pyTypeName(v)}`);
  };

  for (;;) {
    opPos = pos;
    const op = u8();
    switch (op) {
      case 0x80: {
        // PROTO
        const proto = u8();
        if (proto > 5) throw ctx.error(`unsupported pickle protocol ${proto}`);
        break;
      }
      case 0x95: // FRAME: a length prefix only; data is read from the flat buffer.
        u64();
        break;
      case 0x2e: {
        // STOP
        const value = pop();
        return { value, end: pos };
      }
      case 0x28: // MARK
        pushMark();
        break;
      case 0x30: // POP
        if (stack.length === 0 && marks.length > 0) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      // ---- constants
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(long(u8()));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0) throw ctx.error('negative LONG4 length');
        push(long(n));
        break;
      }
      case 0x49: {
        // INT (text)
        const s = line();
        if (s === '01') push(true);
        else if (s === '00') push(false);
        else if (/^[+-]?\d{1,40}$/.test(s)) push(normaliseInt(BigInt(s)));
        else throw ctx.error(`bad INT literal '${s.slice(0, 40)}'`);
        break;
      }
      case 0x4c: {
        // LONG (text)
        const s = line().replace(/L$/, '');
        if (!/^[+-]?\d{1,40}$/.test(s)) throw ctx.error(`bad LONG literal '${s.slice(0, 40)}'`);
        push(normaliseInt(BigInt(s)));
        break;
      }
      case 0x47: {
        // BINFLOAT (big-endian double)
        need(8);
        push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x46: {
        // FLOAT (text)
        const s = line();
        const v = Number(s);
        if (Number.isNaN(v) && !/^[+-]?nan$/i.test(s))
          throw ctx.error(`bad FLOAT literal '${s.slice(0, 40)}'`);
        push(v);
        break;
      }
      // ---- strings and bytes
      case 0x58: // BINUNICODE
        push(utf8(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(utf8(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        push(utf8(take(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text); only plain ASCII accepted
        {
          const s = line();
          if (s.includes('\\')) throw ctx.error('escaped UNICODE literals are not supported');
          push(s);
        }
        break;
      case 0x54: {
        // BINSTRING (Python 2 str, decoded as latin-1 like encoding='latin1')
        const n = i32();
        if (n < 0) throw ctx.error('negative BINSTRING length');
        push(latin1.decode(take(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        push(latin1.decode(take(u8())));
        break;
      case 0x53: {
        // STRING (text, quoted)
        const s = line();
        const m = /^(['"])(.*)\1$/.exec(s);
        if (!m || m[2].includes('\\')) throw ctx.error('unsupported STRING literal');
        push(m[2]);
        break;
      }
      case 0x42: // BINBYTES
        push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        push(take(u64()).slice());
        break;
      case 0x96: // BYTEARRAY8
        push(take(u64()).slice());
        break;
      // ---- containers
      case 0x29: // EMPTY_TUPLE
        push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        push(new PyTuple([a, b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        push(new PyDict(false));
        break;
      case 0x64: {
        // DICT
        const d = new PyDict(false);
        setItems(d, popMark());
        push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        push(new PySet([], false));
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof PySet) || s.frozen) throw ctx.error(`ADDITEMS on a ${pyTypeName(s)}`);
        s.items.push(...items);
        break;
      }
      case 0x91: // FROZENSET
        push(new PySet(popMark(), true));
        break;
      // ---- memo
      case 0x70: {
        // PUT (text)
        const s = line();
        if (!/^\d{1,10}$/.test(s)) throw ctx.error('bad PUT index');
        memoPut(Number(s), top());
        break;
      }
      case 0x71: // BINPUT
        memoPut(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size, top());
        break;
      case 0x67: {
        // GET (text)
        const s = line();
        if (!/^\d{1,10}$/.test(s)) throw ctx.error('bad GET index');
        push(memoGet(Number(s)));
        break;
      }
      case 0x68: // BINGET
        push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(u32()));
        break;
      // ---- globals and object construction (allow-list only)
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          throw ctx.error('STACK_GLOBAL needs two strings');
        push(resolveGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = tupleArgs(pop(), 'REDUCE');
        const fn = callable(pop(), 'REDUCE');
        if (!fn.handler.call)
          throw ctx.error(`REDUCE on '${fn.qualifiedName}', which may be referenced but not called`);
        push(fn.handler.call(args, ctx));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = tupleArgs(pop(), 'NEWOBJ');
        const cls = callable(pop(), 'NEWOBJ');
        if (!cls.handler.construct) throw ctx.error(`NEWOBJ on '${cls.qualifiedName}' is not allowed`);
        push(cls.handler.construct(args, ctx));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = tupleArgs(pop(), 'NEWOBJ_EX');
        const cls = callable(pop(), 'NEWOBJ_EX');
        if (!(kwargs instanceof PyDict) || kwargs.map.size > 0)
          throw ctx.error('NEWOBJ_EX with keyword arguments is not supported');
        if (!cls.handler.construct) throw ctx.error(`NEWOBJ_EX on '${cls.qualifiedName}' is not allowed`);
        push(cls.handler.construct(args, ctx));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.state = state;
        else if (obj instanceof PyObject) obj.build(state, ctx);
        else throw ctx.error(`BUILD on a ${pyTypeName(obj)}`);
        break;
      }
      case 0x50: // PERSID (text)
        push(persistent(line()));
        break;
      case 0x51: // BINPERSID
        push(persistent(pop()));
        break;
      case 0x69: // INST
      case 0x6f: // OBJ
        throw ctx.error('INST/OBJ (protocol-0 class instantiation) is not allowed');
      case 0x82:
      case 0x83:
      case 0x84:
        throw ctx.error('EXT1/EXT2/EXT4 (copyreg extension registry) is not allowed');
      case 0x97:
      case 0x98:
        throw ctx.error('out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER) are not supported');
      default:
        throw ctx.error(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
