/**
 * Test helper: torch.save files written byte by byte (zip and legacy layouts), for files PyTorch would never write
 * (views describing far more elements than their storage holds, and the like). Pickles use protocol 2, the opcodes
 * torch.save emits: GLOBAL, BINPERSID, REDUCE, MARK/TUPLE, SETITEMS.
 */
import { zipSync } from 'fflate';

type Bytes = number[];
const utf8 = (s: string): Bytes => [...new TextEncoder().encode(s)];

export const P = {
  str: (s: string): Bytes => {
    const b = utf8(s);
    return [0x58, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24, ...b];
  },
  /** BININT for 0 <= n < 2^31, else LONG1 (two's complement, little-endian). */
  int: (n: number | bigint): Bytes => {
    const v = BigInt(n);
    if (v >= 0n && v < 2n ** 31n) {
      const x = Number(v);
      return [0x4a, x & 0xff, (x >> 8) & 0xff, (x >> 16) & 0xff, x >>> 24];
    }
    const out: number[] = [];
    for (let r = v; ;) {
      const byte = Number(r & 0xffn);
      out.push(byte);
      r >>= 8n;
      if ((r === 0n && (byte & 0x80) === 0) || (r === -1n && (byte & 0x80) !== 0)) break;
    }
    return [0x8a, out.length, ...out];
  },
  none: (): Bytes => [0x4e],
  bool: (b: boolean): Bytes => [b ? 0x88 : 0x89],
  global: (module: string, name: string): Bytes => [0x63, ...utf8(`${module}\n${name}\n`)],
  tuple: (...items: Bytes[]): Bytes => [0x28, ...items.flat(), 0x74],
  list: (...items: Bytes[]): Bytes => [0x5d, 0x28, ...items.flat(), 0x65],
  call: (fn: Bytes, ...args: Bytes[]): Bytes => [...fn, ...P.tuple(...args), 0x52],
  /** collections.OrderedDict() with (key, value) items. */
  orderedDict: (items: [string, Bytes][]): Bytes => [
    ...P.call(P.global('collections', 'OrderedDict')),
    ...(items.length ? [0x28, ...items.flatMap(([k, v]) => [...P.str(k), ...v]), 0x75] : []),
  ],
  dict: (items: [string, Bytes][]): Bytes => [
    0x7d,
    0x28,
    ...items.flatMap(([k, v]) => [...P.str(k), ...v]),
    0x75,
  ],
  persid: (pid: Bytes): Bytes => [...pid, 0x51],
  pickle: (body: Bytes): Uint8Array => new Uint8Array([0x80, 2, ...body, 0x2e]),
};

export interface CraftStorage {
  key: string;
  /** torch storage class, e.g. 'FloatStorage'. */
  type: string;
  /** Elements declared in the pickle. */
  numel: number;
  /** The storage bytes written to the file. */
  data: Uint8Array;
}

export interface CraftTensor {
  storage: CraftStorage;
  offset: number;
  size: (number | bigint)[];
  stride: (number | bigint)[];
}

function tensor(t: CraftTensor, legacy: boolean): Bytes {
  const s = t.storage;
  const pid = [P.str('storage'), P.global('torch', s.type), P.str(s.key), P.str('cpu'), P.int(s.numel)];
  if (legacy) pid.push(P.none());
  return P.call(
    P.global('torch._utils', '_rebuild_tensor_v2'),
    P.persid(P.tuple(...pid)),
    P.int(t.offset),
    P.tuple(...t.size.map(P.int)),
    P.tuple(...t.stride.map(P.int)),
    P.bool(false),
    P.orderedDict([]),
  );
}

function storagesOf(tensors: Record<string, CraftTensor>): CraftStorage[] {
  const seen = new Map<string, CraftStorage>();
  for (const t of Object.values(tensors)) seen.set(t.storage.key, t.storage);
  return [...seen.values()];
}

/** A torch >= 1.6 zip checkpoint holding an OrderedDict state dict of `tensors` (stored, uncompressed entries). */
export function torchZip(tensors: Record<string, CraftTensor>, prefix = 'archive'): Uint8Array {
  const pkl = P.pickle(P.orderedDict(Object.entries(tensors).map(([k, t]) => [k, tensor(t, false)])));
  const files: Record<string, Uint8Array> = { [`${prefix}/data.pkl`]: pkl };
  for (const s of storagesOf(tensors)) files[`${prefix}/data/${s.key}`] = s.data;
  files[`${prefix}/version`] = new TextEncoder().encode('3\n');
  return zipSync(files, { level: 0 });
}

/** A legacy (pre-zip) torch.save file: magic, protocol, sys info, the state dict, storage keys, storage data. */
export function torchLegacy(tensors: Record<string, CraftTensor>): Uint8Array {
  const storages = storagesOf(tensors);
  const parts: Uint8Array[] = [
    P.pickle(P.int(0x1950a86a20f9469cfc6cn)),
    P.pickle(P.int(1001)),
    P.pickle(P.dict([['little_endian', P.bool(true)]])),
    P.pickle(P.orderedDict(Object.entries(tensors).map(([k, t]) => [k, tensor(t, true)]))),
    P.pickle(P.list(...storages.map((s) => P.str(s.key)))),
  ];
  for (const s of storages) {
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigInt64(0, BigInt(s.numel), true);
    parts.push(count, s.data);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A float32 storage with the given values. */
export function floatStorage(values: number[], key = '0'): CraftStorage {
  return {
    key,
    type: 'FloatStorage',
    numel: values.length,
    data: new Uint8Array(new Float32Array(values).buffer),
  };
}
