/**
 * ZIP archives (torch.save checkpoints, XLSX workbooks): entries read and written with fflate, and mutations of the
 * archive's own structure (local headers, central directory, end record) that entry-level edits cannot reach.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import type { Rng } from '../rng.js';
import { putInt } from './bytes.js';

/** The entries of an archive, in central-directory order. */
export function readZip(bytes: Uint8Array): [string, Uint8Array][] {
  return Object.entries(unzipSync(bytes));
}

/** Entry times are fixed so that the same entries always make the same bytes. */
const MTIME = new Date('1980-01-01T00:00:00');

/** An archive of `entries` (level 0 = stored, as torch.save writes them). */
export function writeZip(entries: readonly (readonly [string, Uint8Array])[], level: 0 | 6 = 0): Uint8Array {
  const z: Zippable = {};
  for (const [name, data] of entries) z[name] = [data, { level, mtime: MTIME }];
  return zipSync(z);
}

interface Field {
  at: number;
  width: 2 | 4;
  what: string;
}

/** Offsets of every header field of the archive's structure records (by signature scan). */
function fields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i + 4 <= b.length; i++) {
    const sig = dv.getUint32(i, true);
    if (sig === 0x04034b50 && i + 30 <= b.length) {
      for (const [o, w, what] of [
        [4, 2, 'version'],
        [6, 2, 'flags'],
        [8, 2, 'method'],
        [14, 4, 'crc'],
        [18, 4, 'compressed size'],
        [22, 4, 'size'],
        [26, 2, 'name length'],
        [28, 2, 'extra length'],
      ] as const)
        out.push({ at: i + o, width: w, what: `local header @${i} ${what}` });
    } else if (sig === 0x02014b50 && i + 46 <= b.length) {
      for (const [o, w, what] of [
        [8, 2, 'flags'],
        [10, 2, 'method'],
        [16, 4, 'crc'],
        [20, 4, 'compressed size'],
        [24, 4, 'size'],
        [28, 2, 'name length'],
        [30, 2, 'extra length'],
        [32, 2, 'comment length'],
        [34, 2, 'disk'],
        [42, 4, 'local header offset'],
      ] as const)
        out.push({ at: i + o, width: w, what: `central entry @${i} ${what}` });
    } else if (sig === 0x06054b50 && i + 22 <= b.length) {
      for (const [o, w, what] of [
        [4, 2, 'disk'],
        [8, 2, 'entries on disk'],
        [10, 2, 'entries'],
        [12, 4, 'directory size'],
        [16, 4, 'directory offset'],
        [20, 2, 'comment length'],
      ] as const)
        out.push({ at: i + o, width: w, what: `end record @${i} ${what}` });
    }
  }
  return out;
}

const ZIP_VALUES = [0, 1, 8, 12, 14, 99, 0xffff, 0xffffffff, 0x7fffffff, 0x80000000, 2 ** 20, 46, 30];

/** One mutation of a header field of the archive (sizes, offsets, counts, methods, flags). */
export function mutateZipStructure(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; note: string } {
  const fs = fields(bytes);
  if (fs.length === 0) return { bytes, note: 'no zip structure found' };
  const f = rng.pick(fs);
  const out = bytes.slice();
  const dv = new DataView(out.buffer);
  const cur = f.width === 2 ? dv.getUint16(f.at, true) : dv.getUint32(f.at, true);
  const v = rng.chance(0.5) ? rng.pick(ZIP_VALUES) : cur + rng.pick([-1, 1, -30, 30, 1000, -1000, 65536]);
  putInt(out, f.at, f.width, v, true);
  return { bytes: out, note: `${f.what} ${cur} -> ${v >>> 0}` };
}

/** Entry-level edits: remove, duplicate, rename (including names that escape the archive), reorder. */
export function mutateEntries(
  entries: [string, Uint8Array][],
  rng: Rng,
): { entries: [string, Uint8Array][]; note: string } {
  const out = entries.map(([n, d]): [string, Uint8Array] => [n, d]);
  if (out.length === 0) return { entries: out, note: 'no entries' };
  const i = rng.int(out.length);
  switch (rng.int(5)) {
    case 0:
      out.splice(i, 1);
      return { entries: out, note: `remove entry ${entries[i][0]}` };
    case 1: {
      const name = rng.pick([
        `../${out[i][0]}`,
        `/${out[i][0]}`,
        `${out[i][0]}/`,
        `a\\..\\..\\${out[i][0]}`,
        `C:${out[i][0]}`,
        out[i][0].toUpperCase(),
        `${out[(i + 1) % out.length][0]}`,
        '',
      ]);
      out[i] = [name, out[i][1]];
      return { entries: out, note: `rename entry ${entries[i][0]} to ${JSON.stringify(name)}` };
    }
    case 2:
      out.push([`${out[i][0]}.copy`, out[i][1]]);
      return { entries: out, note: `copy entry ${entries[i][0]}` };
    case 3:
      out.reverse();
      return { entries: out, note: 'reverse entry order' };
    default: {
      const big = new Uint8Array(rng.pick([0, 1, 4096, 2 ** 20]));
      out[i] = [out[i][0], big];
      return { entries: out, note: `entry ${entries[i][0]} replaced by ${big.length} zero bytes` };
    }
  }
}
