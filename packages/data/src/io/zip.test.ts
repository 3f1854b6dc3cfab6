import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { withDeadline } from './deadline.js';
import { listZip, unzipEntry, ZipFormatError, type ZipEntry } from './zip.js';

const spaq = readFileSync(
  new URL('../../fixtures/datasets/spaq/Annotations/MOS and Image attribute scores.xlsx', import.meta.url),
);

function zipError(buf: Uint8Array, f: (entries: ZipEntry[]) => void = () => undefined): ZipFormatError {
  let err: unknown = null;
  try {
    f(listZip(buf));
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ZipFormatError);
  return err as ZipFormatError;
}

/** A zip of one entry `a.xml` (fflate; deflated unless level 0 = stored). */
function oneEntry(data: Uint8Array, level: 0 | 9 = 9): Buffer {
  return Buffer.from(zipSync({ 'a.xml': data }, { level, mtime: new Date('2024-01-01T00:00:00Z') }));
}
const centralAt = (b: Buffer): number => b.readUInt32LE(b.length - 22 + 16);

describe('listZip / unzipEntry accept what workbook writers produce', () => {
  it('the openpyxl-written SPAQ fixture: every entry, in file order, inflating to its declared bytes', () => {
    const entries = listZip(spaq);
    expect(entries.map((e) => e.name)).toEqual([
      'docProps/app.xml',
      'docProps/core.xml',
      'xl/theme/theme1.xml',
      'xl/worksheets/sheet1.xml',
      'xl/styles.xml',
      '_rels/.rels',
      'xl/workbook.xml',
      'xl/_rels/workbook.xml.rels',
      '[Content_Types].xml',
    ]);
    const sheet = entries[3];
    expect([sheet.method, sheet.compressedSize, sheet.size]).toEqual([8, 593, 1894]);
    const xml = Buffer.from(unzipEntry(spaq, sheet)).toString('utf8');
    expect(xml.length).toBe(1894);
    expect(xml).toContain('<sheetData>');
  });

  it('a workbook streamed by exceljs (data descriptors after the data)', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out });
    wb.addWorksheet('S').addRow(['Image name', 'MOS']).commit();
    await wb.commit();
    const buf = Buffer.concat(chunks);
    expect(buf.readUInt16LE(6) & 8).toBe(8); // the first local header defers its CRC and sizes
    const entries = listZip(buf);
    expect(entries.map((e) => e.name)).toContain('xl/worksheets/sheet1.xml');
    for (const e of entries) expect(unzipEntry(buf, e).length).toBe(e.size);
  });
});

describe('listZip / unzipEntry refuse damaged containers with the entry named', () => {
  it('not a zip, or cut short', () => {
    expect(zipError(Buffer.from('image,mos\n')).message).toBe(
      'no end-of-central-directory record (not a zip file, or truncated)',
    );
    expect(zipError(spaq.subarray(0, spaq.length - 1)).message).toMatch(/no end-of-central-directory/);
  });

  it('19 bytes deleted inside an entry, across a local header, and inside the central directory', () => {
    const cut = (off: number): Buffer => Buffer.concat([spaq.subarray(0, off), spaq.subarray(off + 19)]);
    expect(zipError(cut(2210)).message).toBe(
      'the central directory (bytes 4504-5078) does not end where the end record starts (byte 5059)',
    );
    expect(zipError(cut(4600)).message).toMatch(/central directory/);
  });

  it('a local header that disagrees with the central directory', () => {
    const b = Buffer.from(spaq);
    b.writeUInt32LE(b.readUInt32LE(2077 + 18) + 1, 2077 + 18); // sheet1's compressed size
    expect(zipError(b).message).toBe(
      'entry "xl/worksheets/sheet1.xml": the local header disagrees with the central directory (CRC or sizes)',
    );
  });

  it('bytes no entry lists, before the first entry or between entries', () => {
    expect(zipError(Buffer.concat([Buffer.alloc(10), spaq])).message).toMatch(/central directory/);
    const one = oneEntry(Buffer.from('<x/>'));
    const cd = centralAt(one);
    const padded = Buffer.concat([one.subarray(0, cd), Buffer.alloc(4), one.subarray(cd)]);
    padded.writeUInt32LE(cd + 4, padded.length - 22 + 16);
    expect(zipError(padded).message).toBe('4 unlisted bytes before the central directory (byte ' + cd + ')');
  });

  it('a deflate bomb: the entry inflates past the size it declares', () => {
    const b = oneEntry(new Uint8Array(1 << 20));
    expect(b.length).toBeLessThan(2000);
    const cd = centralAt(b);
    b.writeUInt32LE(1000, 22); // local uncompressed size
    b.writeUInt32LE(1000, cd + 24); // central uncompressed size
    const err = zipError(b, (entries) => unzipEntry(b, entries[0]));
    expect(err.message).toBe('entry "a.xml": inflates to more than the 1000 bytes it declares');
    expect(err.entry).toBe('a.xml');
  });

  it('damaged data: a CRC-32 mismatch, and deflate data that does not inflate', () => {
    const b = oneEntry(Buffer.from('<worksheet>' + 'x'.repeat(200) + '</worksheet>'), 0);
    b[40] ^= 1; // a byte of the stored data
    expect(zipError(b, (e) => unzipEntry(b, e[0])).message).toBe(
      'entry "a.xml": CRC-32 mismatch (damaged data)',
    );
    const d = oneEntry(Buffer.from('<worksheet>' + 'abc'.repeat(100) + '</worksheet>'));
    d.fill(0xff, 37, 41);
    expect(zipError(d, (e) => unzipEntry(d, e[0])).message).toMatch(
      /^entry "a\.xml": (cannot inflate|holds|CRC)/,
    );
  });

  it('encryption, other compression methods and ZIP64 markers', () => {
    const flag = (set: (b: Buffer, cd: number) => void): Buffer => {
      const b = oneEntry(Buffer.from('<x/>'));
      set(b, centralAt(b));
      return b;
    };
    expect(zipError(flag((b, cd) => b.writeUInt16LE(1, cd + 8))).message).toBe('entry "a.xml": encrypted');
    expect(zipError(flag((b, cd) => b.writeUInt16LE(12, cd + 10))).message).toBe(
      'entry "a.xml": compression method 12 (expected 0 or 8)',
    );
    expect(zipError(flag((b) => b.writeUInt16LE(0xffff, b.length - 22 + 10))).message).toBe(
      'ZIP64 containers are not supported',
    );
  });
});

describe('withDeadline', () => {
  it('turns a promise that never settles into an error', async () => {
    const started = Date.now();
    await expect(
      withDeadline(new Promise<never>(() => undefined), 50, () => new Error('too late')),
    ).rejects.toThrow('too late');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('passes a result or an error through untouched', async () => {
    await expect(withDeadline(Promise.resolve(7), 1000, () => new Error('x'))).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('own')), 1000, () => new Error('x'))).rejects.toThrow(
      'own',
    );
  });
});
