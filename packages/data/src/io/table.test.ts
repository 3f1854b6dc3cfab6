import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { DatasetError } from '../errors.js';
import { readXlsx, xlsxDeadlineMs } from './table.js';
import { tempDir } from '../../../../tools/testing/temp-dir.js';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const limits = { maxBytes: 1 << 20, maxRows: 1000 };

async function xlsxError(p: Promise<unknown>): Promise<DatasetError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DatasetError);
  return e as DatasetError;
}

describe('readXlsx settles on damaged workbooks', () => {
  // The SPAQ fixture with 19 bytes deleted: exceljs' streaming reader left each of these pending forever.
  for (const off of [2210, 3705, 3939, 4095]) {
    it(`19 bytes deleted at byte ${off}: a DatasetError naming the file`, async () => {
      const file = path.join(fixtures, 'xlsx', `spaq-cut19-at-${off}.xlsx`);
      const e = await xlsxError(readXlsx(file, limits, 'SPAQ workbook'));
      expect(e.code).toBe('bad-metadata');
      expect(e.file).toBe(file);
      expect(e.message).toBe(
        `${file}: cannot be read as an XLSX workbook (damaged zip container: the central directory (bytes 4504-5078) ` +
          'does not end where the end record starts (byte 5059)); expected an Excel .xlsx file',
      );
    });
  }

  it('the undamaged fixture still reads', async () => {
    const t = await readXlsx(
      path.join(fixtures, 'datasets/spaq/Annotations/MOS and Image attribute scores.xlsx'),
      limits,
    );
    expect(t.header.slice(0, 2)).toEqual(['Image name', 'MOS']);
    expect(t.rows.map((r) => [r.row, r.cells[0]])).toEqual([
      [2, '00001.jpg'],
      [3, '00002.jpg'],
      [4, '00003.jpg'],
      [5, '00004.jpg'],
    ]);
  });
});

describe('readXlsx bounds', () => {
  const tmp = tempDir('iqa-data-xlsx-');

  it('refuses a workbook whose XML inflates past maxBytes', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('S');
    ws.addRow(['Image name', 'MOS']);
    for (let i = 0; i < 3000; i++) ws.addRow(['same.jpg', 50]);
    const file = path.join(tmp, 'big.xlsx');
    await wb.xlsx.writeFile(file);
    const e = await xlsxError(readXlsx(file, { maxBytes: 40_000, maxRows: 10_000 }));
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(
      /big\.xlsx: XLSX workbook holds \d+ bytes of XML once inflated; expected at most 40000 bytes \(option maxMetadataBytes\)$/,
    );
    expect((await readXlsx(file, { maxBytes: 1 << 20, maxRows: 10_000 })).rows).toHaveLength(3000);
  });

  it('gives up with a DatasetError when reading outlasts its deadline', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('S');
    for (let i = 0; i < 5000; i++) ws.addRow([`img${i}.jpg`, i / 7]);
    const file = path.join(tmp, 'slow.xlsx');
    writeFileSync(file, Buffer.from(await wb.xlsx.writeBuffer()));
    const big = { maxBytes: 64 << 20, maxRows: 100_000 };
    const e = await xlsxError(readXlsx(file, big, 'SPAQ workbook', { deadlineMs: 1 }));
    expect(e.code).toBe('bad-metadata');
    expect(e.message).toBe(
      `${file}: reading the workbook did not finish within 0.001 s; expected an Excel .xlsx file that can be read (a damaged workbook?)`,
    );
  });

  it('allows 30 s plus 1 s per MiB of XML', () => {
    expect(xlsxDeadlineMs(0)).toBe(30_000);
    expect(xlsxDeadlineMs(256 * 1024 * 1024)).toBe(30_000 + 262_144);
  });
});
