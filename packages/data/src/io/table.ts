/**
 * Tabular metadata (CSV, XLSX, whitespace-separated text) read into one shape: a header and string cells with row
 * numbers, so every adapter reports problems the same way.
 */
import { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { zipSync } from 'fflate';
import { DatasetError, fail, type Problem } from '../errors.js';
import { withDeadline } from './deadline.js';
import { readBounded } from './paths.js';
import { listZip, unzipEntry, ZipFormatError } from './zip.js';

/** One data row: its 1-based row number in the file (header = row 1) and its cells as text. */
export interface TableRow {
  row: number;
  cells: string[];
}

/** A metadata table read from a file. */
export interface Table {
  file: string;
  header: string[];
  rows: TableRow[];
}

/** Bounds applied while reading metadata. */
export interface TableLimits {
  maxBytes: number;
  maxRows: number;
}

export const DEFAULT_MAX_ROWS = 2_000_000;

/** Reads a CSV file with a header row (RFC 4180 quoting, UTF-8 BOM and CRLF accepted). */
export async function readCsv(file: string, limits: TableLimits, what = 'CSV file'): Promise<Table> {
  const buf = await readBounded(file, limits.maxBytes, what);
  let records: string[][];
  // csv-parse builds an error object (with a stack trace) for every row whose length differs from the header's, even
  // when relaxed; a file of many such rows then spends most of its time capturing stacks (1.6 s for 37,000 rows).
  // The parse is synchronous, so stack capture is off for exactly its duration (our own errors come after it).
  const stackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    records = parseCsv(buf, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: false,
    }) as string[][];
  } catch (e) {
    Error.stackTraceLimit = stackLimit;
    fail({
      code: 'bad-metadata',
      file,
      message: `cannot be parsed as CSV (${(e as Error).message})`,
      expected: 'a comma-separated file with a header row',
    });
  } finally {
    Error.stackTraceLimit = stackLimit;
  }
  if (records.length === 0) {
    fail({
      code: 'bad-metadata',
      file,
      message: 'the file is empty',
      expected: 'a header row and data rows',
    });
  }
  if (records.length - 1 > limits.maxRows) {
    fail({
      code: 'too-large',
      file,
      message: `${records.length - 1} data rows`,
      expected: `at most ${limits.maxRows} rows`,
    });
  }
  const header = records[0].map((h) => h.trim());
  return { file, header, rows: records.slice(1).map((cells, i) => ({ row: i + 2, cells })) };
}

/**
 * Reads a whitespace-separated text file without a header (e.g. TID2013's `mos_with_names.txt`, CSIQ's
 * `csiq_label.txt`). Row numbers are line numbers; blank lines are ignored.
 */
export async function readWhitespaceTable(
  file: string,
  limits: TableLimits,
  what: string,
): Promise<TableRow[]> {
  const buf = await readBounded(file, limits.maxBytes, what);
  const lines = buf
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
  const rows: TableRow[] = [];
  lines.forEach((line, i) => {
    const t = line.trim();
    if (t.length > 0) rows.push({ row: i + 1, cells: t.split(/\s+/) });
  });
  if (rows.length > limits.maxRows) {
    fail({
      code: 'too-large',
      file,
      message: `${rows.length} rows`,
      expected: `at most ${limits.maxRows} rows`,
    });
  }
  return rows;
}

/** Text of one XLSX cell value as exceljs returns it (numbers, strings, rich text, formula results, dates). */
function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.richText)) {
      return o.richText
        .map((r: unknown) =>
          typeof r === 'object' && r !== null ? String((r as { text?: unknown }).text ?? '') : '',
        )
        .join('');
    }
    if ('result' in o) return cellText(o.result);
    if ('text' in o) return cellText(o.text);
    if ('error' in o) return String(o.error);
  }
  return '';
}

const WORKSHEET = /^xl\/worksheets\/sheet\d+\.xml$/;
const WORKBOOK_RELS = 'xl/_rels/workbook.xml.rels';
const WORKBOOK = 'xl/workbook.xml';
const SHARED_STRINGS = 'xl/sharedStrings.xml';
const MAIN_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const WORKBOOK_XML = new TextEncoder().encode(
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="${MAIN_NS}" xmlns:r="${REL_NS}">` +
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
);

/** Relationships of a one-sheet workbook whose sheet is `target` (relative to xl/). */
function workbookRelsXml(target: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
    `<Relationship Id="rId1" Type="${REL_NS}/worksheet" Target="${target}"/></Relationships>`
  );
}
const EMPTY_SHARED_STRINGS = new TextEncoder().encode(
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>',
);

function* chunks(data: Uint8Array, size: number): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size)
    yield Buffer.from(data.buffer, data.byteOffset + i, Math.min(size, data.length - i));
}

/** Time allowed for streaming a checked workbook: 30 s plus 1 s per MiB of its XML (a last guard only). */
export function xlsxDeadlineMs(xmlBytes: number): number {
  return 30_000 + Math.ceil(xmlBytes / 1024);
}

/**
 * Reads the first worksheet of an XLSX workbook (its first `xl/worksheets/sheetN.xml` entry). The first non-empty
 * row is the header.
 *
 * The file is read whole (at most `maxBytes`) and its zip container is checked first ({@link listZip}: central
 * directory, local headers, sizes, CRC-32), because exceljs' streaming reader waits forever on some damaged
 * containers instead of failing. Only the parts the reader needs are inflated (together at most `maxBytes`), and it
 * is handed a fresh stored container of exactly those checked bytes, so it never sees what the check did not. It
 * streams the sheet and stops after `maxRows` rows; a deadline ({@link xlsxDeadlineMs}, or `options.deadlineMs`)
 * turns anything that still does not finish into an error.
 */
export async function readXlsx(
  file: string,
  limits: TableLimits,
  what = 'XLSX workbook',
  options: { deadlineMs?: number } = {},
): Promise<Table> {
  const buf = await readBounded(file, limits.maxBytes, what);
  const unreadable = (why: string): never =>
    fail({
      code: 'bad-metadata',
      file,
      message: `cannot be read as an XLSX workbook (${why})`,
      expected: 'an Excel .xlsx file',
    });
  const parts: Record<string, Uint8Array> = {};
  let xmlBytes = 0;
  try {
    const entries = listZip(buf);
    const sheet =
      entries.find((e) => WORKSHEET.test(e.name)) ?? unreadable('no worksheet (xl/worksheets/sheetN.xml)');
    const strings = entries.find((e) => e.name === SHARED_STRINGS);
    const chosen = [strings, sheet].filter((e) => e !== undefined);
    xmlBytes = chosen.reduce((a, e) => a + e.size, 0);
    if (xmlBytes > limits.maxBytes) {
      fail({
        code: 'too-large',
        file,
        message: `${what} holds ${xmlBytes} bytes of XML once inflated`,
        expected: `at most ${limits.maxBytes} bytes (option maxMetadataBytes)`,
      });
    }
    // exceljs' reader copies a worksheet to a temporary file unless it has already read the workbook's relationships
    // and shared strings (and a damaged relationships part leaves them unread). Only the first sheet's cells are read
    // here, so the reader gets a workbook and relationships of our own that name that sheet, then the file's shared
    // strings (an empty table for a workbook with inline strings only), then the sheet.
    const sheetFile = sheet.name.slice('xl/'.length);
    parts[WORKBOOK_RELS] = new TextEncoder().encode(workbookRelsXml(sheetFile));
    parts[WORKBOOK] = WORKBOOK_XML;
    parts[SHARED_STRINGS] = strings === undefined ? EMPTY_SHARED_STRINGS : unzipEntry(buf, strings);
    parts[sheet.name] = unzipEntry(buf, sheet);
  } catch (e) {
    if (e instanceof ZipFormatError) unreadable(`damaged zip container: ${e.message}`);
    throw e;
  }
  // Fed in 64 KiB chunks as a file stream would be: one multi-megabyte chunk makes exceljs' parser several times slower.
  const stream = Readable.from(chunks(zipSync(parts, { level: 0 }), 64 * 1024));
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(stream, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'ignore',
    entries: 'ignore',
  });
  const rows: TableRow[] = [];
  const readRows = async (): Promise<string[] | null> => {
    let header: string[] | null = null;
    for await (const sheet of reader) {
      for await (const row of sheet) {
        const values = row.values as unknown[];
        // exceljs row.values is 1-based (index 0 unused).
        const cells = Array.from({ length: Math.max(0, values.length - 1) }, (_, i) =>
          cellText(values[i + 1]).trim(),
        );
        if (header === null) {
          if (cells.every((c) => c === '')) continue;
          header = cells;
          continue;
        }
        if (cells.every((c) => c === '')) continue;
        rows.push({ row: row.number, cells });
        if (rows.length > limits.maxRows) {
          fail({
            code: 'too-large',
            file,
            message: `more than ${limits.maxRows} rows`,
            expected: `at most ${limits.maxRows} rows`,
          });
        }
      }
      break; // first worksheet only
    }
    return header;
  };
  const deadlineMs = options.deadlineMs ?? xlsxDeadlineMs(xmlBytes);
  let header: string[] | null = null;
  try {
    header = await withDeadline(
      readRows(),
      deadlineMs,
      () =>
        new DatasetError({
          code: 'bad-metadata',
          file,
          message: `reading the workbook did not finish within ${deadlineMs / 1000} s`,
          expected: 'an Excel .xlsx file that can be read (a damaged workbook?)',
        }),
    );
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    unreadable((e as Error).message);
  } finally {
    stream.destroy();
  }
  if (header === null) {
    fail({
      code: 'bad-metadata',
      file,
      message: 'the first worksheet is empty',
      expected: 'a header row and data rows',
    });
  }
  return { file, header, rows };
}

/**
 * Finds the index of a column by its header name. Matching is exact first, then case- and space-insensitive; a
 * missing column yields a problem that lists the header found and the closest name.
 */
export function findColumn(table: Table, name: string): number | Problem {
  const exact = table.header.indexOf(name);
  if (exact >= 0) return exact;
  const norm = (s: string): string => s.toLowerCase().replace(/[\s_]+/g, '');
  const loose = table.header.findIndex((h) => norm(h) === norm(name));
  if (loose >= 0) return loose;
  const close = table.header.find((h) => editDistance(norm(h), norm(name)) <= 2);
  return {
    code: 'missing-column',
    file: table.file,
    row: 1,
    field: name,
    message: `no column "${name}" in the header [${table.header.map((h) => JSON.stringify(h)).join(', ')}]${close ? ` (did you mean "${close}"?)` : ''}`,
    expected: `a column named "${name}"`,
  };
}

/** Levenshtein distance (insertions, deletions and substitutions cost 1 each). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/** Parses a score cell: a finite decimal number, else undefined. */
export function parseScore(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}
