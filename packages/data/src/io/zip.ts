/**
 * A strict check of a ZIP container held in memory (the container of an XLSX workbook), before any streaming reader
 * sees it. Streaming unzippers read the local headers one after the other and report damage on a stream the caller
 * may not be listening to, so a damaged container can leave them waiting forever; this check reads the central
 * directory and every local header first and refuses anything inconsistent, with the entry named:
 *
 * - the end record must end the file (after its comment), the central directory must end where it starts, and the
 *   entries must tile the bytes before it exactly (no gaps, overlaps or unlisted data);
 * - each local header must agree with its central record (name, method, flags, CRC and sizes, or the data descriptor
 *   that follows the data when the header defers them);
 * - only stored and deflated entries; no encryption, multi-disk or ZIP64 containers (no workbook needs them);
 * - {@link unzipEntry} inflates to at most the declared size and checks the length and the CRC-32.
 *
 * Every step is linear in the file size; nothing here loops on a value read from the file.
 */
import { crc32, inflateRawSync } from 'node:zlib';

/** Raised for a damaged or unsupported ZIP container; `entry` names the entry concerned, when there is one. */
export class ZipFormatError extends Error {
  readonly entry: string | undefined;
  constructor(message: string, entry?: string) {
    super(entry === undefined ? message : `entry "${entry}": ${message}`);
    this.name = 'ZipFormatError';
    this.entry = entry;
  }
}

/** One entry of a checked container. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  crc32: number;
  compressedSize: number;
  /** The uncompressed size the central directory declares. */
  size: number;
  /** Offset of the entry's data in the container. */
  dataStart: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_DESCRIPTOR = 0x08074b50;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_DESCRIPTOR = 0x0008;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const FLAG_UTF8 = 0x0800;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks the structure of a ZIP container and lists its entries in file order (see the module comment for the
 * checks). Throws {@link ZipFormatError}.
 */
export function listZip(buf: Uint8Array, maxEntries = 65535): ZipEntry[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u16 = (p: number): number => dv.getUint16(p, true);
  const u32 = (p: number): number => dv.getUint32(p, true);

  // End of central directory: 22 bytes, then a comment of up to 65535 bytes that must reach the end of the file.
  let end = -1;
  for (let p = buf.length - 22; p >= 0 && p >= buf.length - 22 - 0xffff; p--) {
    if (u32(p) === SIG_END && p + 22 + u16(p + 20) === buf.length) {
      end = p;
      break;
    }
  }
  if (end < 0) throw new ZipFormatError('no end-of-central-directory record (not a zip file, or truncated)');
  const count = u16(end + 10);
  const cdSize = u32(end + 12);
  const cdOffset = u32(end + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    throw new ZipFormatError('ZIP64 containers are not supported');
  }
  if (u16(end + 4) !== 0 || u16(end + 6) !== 0 || u16(end + 8) !== count) {
    throw new ZipFormatError('multi-disk zip archives are not supported');
  }
  if (count === 0) throw new ZipFormatError('the archive has no entries');
  if (count > maxEntries) throw new ZipFormatError(`${count} entries (at most ${maxEntries} expected)`);
  if (cdOffset + cdSize !== end) {
    throw new ZipFormatError(
      `the central directory (bytes ${cdOffset}-${cdOffset + cdSize}) does not end where the end record starts (byte ${end})`,
    );
  }

  interface Central extends ZipEntry {
    flags: number;
    nameBytes: Uint8Array;
    localOffset: number;
  }
  const central: Central[] = [];
  const names = new Set<string>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > end || u32(p) !== SIG_CENTRAL) {
      throw new ZipFormatError(
        `central directory record ${i + 1} of ${count} is missing or damaged (byte ${p})`,
      );
    }
    const flags = u16(p + 8);
    const nameLen = u16(p + 28);
    const next = p + 46 + nameLen + u16(p + 30) + u16(p + 32);
    if (next > end) throw new ZipFormatError(`central directory record ${i + 1} runs past the directory`);
    const nameBytes = buf.subarray(p + 46, p + 46 + nameLen);
    let name: string;
    try {
      name = flags & FLAG_UTF8 ? UTF8.decode(nameBytes) : Buffer.from(nameBytes).toString('latin1');
    } catch {
      throw new ZipFormatError(`central directory record ${i + 1} has a name that is not valid UTF-8`);
    }
    if (name === '') throw new ZipFormatError(`central directory record ${i + 1} has an empty name`);
    if (names.has(name)) throw new ZipFormatError('listed twice', name);
    names.add(name);
    const method = u16(p + 10);
    const entry: Central = {
      name,
      method,
      crc32: u32(p + 16),
      compressedSize: u32(p + 20),
      size: u32(p + 24),
      dataStart: 0,
      flags,
      nameBytes,
      localOffset: u32(p + 42),
    };
    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) throw new ZipFormatError('encrypted', name);
    if (method !== 0 && method !== 8)
      throw new ZipFormatError(`compression method ${method} (expected 0 or 8)`, name);
    if (
      entry.compressedSize === 0xffffffff ||
      entry.size === 0xffffffff ||
      entry.localOffset === 0xffffffff
    ) {
      throw new ZipFormatError('ZIP64 sizes are not supported', name);
    }
    if (method === 0 && entry.compressedSize !== entry.size) {
      throw new ZipFormatError(`stored with ${entry.compressedSize} bytes but declares ${entry.size}`, name);
    }
    central.push(entry);
    p = next;
  }
  if (p !== end) throw new ZipFormatError(`${end - p} unlisted bytes at the end of the central directory`);

  // The local entries, in file order, must tile bytes 0 .. cdOffset exactly.
  central.sort((a, b) => a.localOffset - b.localOffset);
  let at = 0;
  for (const e of central) {
    const lo = e.localOffset;
    if (lo !== at) {
      throw new ZipFormatError(
        lo > at ? `${lo - at} unlisted bytes before it (byte ${at})` : `overlaps the entry before it`,
        e.name,
      );
    }
    if (lo + 30 > cdOffset || u32(lo) !== SIG_LOCAL) {
      throw new ZipFormatError(`no local header at byte ${lo}`, e.name);
    }
    const flags = u16(lo + 6);
    const nameLen = u16(lo + 26);
    const dataStart = lo + 30 + nameLen + u16(lo + 28);
    const localName = buf.subarray(lo + 30, Math.min(lo + 30 + nameLen, buf.length));
    if (Buffer.compare(localName, e.nameBytes) !== 0) {
      throw new ZipFormatError('the local header names another entry', e.name);
    }
    if (u16(lo + 8) !== e.method || (flags & FLAG_DESCRIPTOR) !== (e.flags & FLAG_DESCRIPTOR)) {
      throw new ZipFormatError(
        'the local header disagrees with the central directory (method or flags)',
        e.name,
      );
    }
    const dataEnd = dataStart + e.compressedSize;
    if (dataEnd > cdOffset) throw new ZipFormatError('its data runs into the central directory', e.name);
    const local = [u32(lo + 14), u32(lo + 18), u32(lo + 22)];
    const want = [e.crc32, e.compressedSize, e.size];
    const same = (v: number[]): boolean => v.length === 3 && v.every((x, k) => x === want[k]);
    at = dataEnd;
    if (flags & FLAG_DESCRIPTOR) {
      // CRC and sizes follow the data, with or without the descriptor signature; the header may hold zeros.
      if (!same(local) && !local.every((x) => x === 0)) {
        throw new ZipFormatError(
          'the local header disagrees with the central directory (CRC or sizes)',
          e.name,
        );
      }
      const read = (q: number): number[] => (q + 12 <= cdOffset ? [u32(q), u32(q + 4), u32(q + 8)] : []);
      if (dataEnd + 16 <= cdOffset && u32(dataEnd) === SIG_DESCRIPTOR && same(read(dataEnd + 4))) at += 16;
      else if (same(read(dataEnd))) at += 12;
      else
        throw new ZipFormatError('no data descriptor matching the central directory after its data', e.name);
    } else if (!same(local)) {
      throw new ZipFormatError(
        'the local header disagrees with the central directory (CRC or sizes)',
        e.name,
      );
    }
    e.dataStart = dataStart;
  }
  if (at !== cdOffset) {
    throw new ZipFormatError(`${cdOffset - at} unlisted bytes before the central directory (byte ${at})`);
  }
  return central.map(({ name, method, crc32: crc, compressedSize, size, dataStart }) => ({
    name,
    method,
    crc32: crc,
    compressedSize,
    size,
    dataStart,
  }));
}

/**
 * The uncompressed bytes of an entry listed by {@link listZip}: inflated to at most its declared size, then checked
 * against that size and its CRC-32. Throws {@link ZipFormatError}.
 */
export function unzipEntry(buf: Uint8Array, entry: ZipEntry): Uint8Array {
  const raw = buf.subarray(entry.dataStart, entry.dataStart + entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) {
    data = raw;
  } else {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new ZipFormatError(
        code === 'ERR_BUFFER_TOO_LARGE'
          ? `inflates to more than the ${entry.size} bytes it declares`
          : `cannot inflate (${(e as Error).message})`,
        entry.name,
      );
    }
  }
  if (data.length !== entry.size) {
    throw new ZipFormatError(`holds ${data.length} bytes but declares ${entry.size}`, entry.name);
  }
  if (crc32(data) >>> 0 !== entry.crc32)
    throw new ZipFormatError('CRC-32 mismatch (damaged data)', entry.name);
  return data;
}
