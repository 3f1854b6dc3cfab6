/**
 * Dataset metadata through @iqa-bench/data's loadDataset, one format per file kind: CSV and whitespace tables,
 * the SPAQ XLSX workbook, MAT-files (LIVE, LIVE Challenge) and the original project's JSON lists. Each seed is a
 * fixture dataset folder (packages/data/fixtures/datasets) whose metadata file is replaced by the mutated one.
 */
import { readFileSync } from 'node:fs';
import type * as Data from '@iqa-bench/data';
import { mutateBytes, mutateBytesN } from '../mutate/bytes.js';
import { damageJsonText, jsonText, mutateValue } from '../mutate/json.js';
import { matFile, mutateMat } from '../mutate/mat.js';
import { mutateTable } from '../mutate/table.js';
import { mutateXml } from '../mutate/xml.js';
import { mutateEntries, mutateZipStructure, readZip, writeZip } from '../mutate/zip.js';
import { repoPath } from '../paths.js';
import type { Rng } from '../rng.js';
import type { CaseCall, FormatSpec, FuzzCase, JsonValue, Seed } from '../types.js';

let data: typeof Data;
const enc = new TextEncoder();
const dec = new TextDecoder();

const FIXTURES = 'packages/data/fixtures/datasets';

interface DatasetSeed {
  key: string;
  folder: string;
  /** Metadata files to mutate (relative to the folder). */
  files: string[];
  load?: { [k: string]: JsonValue };
}

function fixtureSeeds(list: readonly DatasetSeed[]): Seed[] {
  return list.flatMap((d) =>
    d.files.map((f): Seed => ({
      name: `${d.key}:${d.folder}/${f}`,
      template: `${FIXTURES}/${d.folder}`,
      files: new Map([[f, new Uint8Array(readFileSync(repoPath(FIXTURES, d.folder, f)))]]),
      target: '.',
      options: { key: d.key, ...(d.load ? { load: d.load } : {}) },
    })),
  );
}

/** Sometimes the reader runs with `onInvalid: 'skip'`, which takes other paths. */
function withOptions(seed: Seed, rng: Rng): CaseCall['options'] {
  const o = { ...(seed.options ?? {}) };
  if (rng.chance(0.3))
    o.load = { ...((o.load as { [k: string]: JsonValue } | undefined) ?? {}), onInvalid: 'skip' };
  return o;
}

async function runLoad(caseDir: string, call: CaseCall): Promise<string> {
  const o = call.options ?? {};
  const d = await data.loadDataset(o.key as Data.DatasetKey, caseDir, (o.load ?? {}) as Data.LoadOptions);
  return `${d.key} ${d.layout}: ${d.images.length} images, ${d.skipped.length} skipped`;
}

const DATASET_ERRORS = ['DatasetError', 'FileError', 'TextFileError'];

function datasetFormat(
  name: string,
  description: string,
  seeds: () => Promise<Seed[]>,
  mutateFile: (
    bytes: Uint8Array,
    file: string,
    rng: Rng,
    corpus: readonly Seed[],
  ) => { bytes: Uint8Array; notes: string[] },
): FormatSpec {
  return {
    name,
    description,
    cleanErrors: DATASET_ERRORS,
    async prepare() {
      data = await import('@iqa-bench/data');
    },
    seeds,
    mutate(seed, rng, corpus): FuzzCase {
      const [file, bytes] = rng.pick([...seed.files]);
      const m = mutateFile(bytes, file, rng, corpus);
      const files = new Map(seed.files);
      files.set(file, m.bytes);
      return { ...seed, files, options: withOptions(seed, rng), mutations: m.notes };
    },
    run: runLoad,
  };
}

const others = (corpus: readonly Seed[]): Uint8Array[] => corpus.flatMap((s) => [...s.files.values()]);

// ---------------------------------------------------------------------------------------------------------------------
// CSV and whitespace tables

export const csvFormat = datasetFormat(
  'csv',
  'CSV / whitespace tables: loadDataset csv, koniq10k, kadid10k, agiqa3k, csiq, tid2013',
  async () =>
    fixtureSeeds([
      {
        key: 'csv',
        folder: 'csv',
        files: ['scores.csv'],
        load: {
          file: 'scores.csv',
          imageColumn: 'file',
          label: 'quality',
          imageDir: 'imgs',
          refColumn: 'content',
        },
      },
      {
        key: 'koniq10k',
        folder: 'koniq10k',
        files: ['koniq10k_scores_and_distributions.csv', 'koniq10k_distributions_sets.csv'],
      },
      { key: 'kadid10k', folder: 'kadid10k', files: ['dmos.csv'] },
      { key: 'agiqa3k', folder: 'agiqa3k', files: ['data.csv'] },
      { key: 'csiq', folder: 'csiq', files: ['csiq_label.txt'] },
      { key: 'tid2013', folder: 'tid2013', files: ['mos_with_names.txt'] },
    ]),
  (bytes, file, rng, corpus) => {
    if (rng.chance(0.25)) {
      const m = mutateBytesN(bytes, rng, rng.range(1, 3), others(corpus));
      return { bytes: m.bytes, notes: [m.note] };
    }
    const t = mutateTable(dec.decode(bytes), rng, file.endsWith('.txt'));
    return { bytes: enc.encode(t.text), notes: t.notes };
  },
);

// ---------------------------------------------------------------------------------------------------------------------
// XLSX (SPAQ)

const SPAQ_XLSX = 'Annotations/MOS and Image attribute scores.xlsx';

/** Workbooks written by exceljs: shared or inline strings, numbers as text, formulas, a leading empty row, two sheets. */
async function spaqWorkbooks(): Promise<Uint8Array[]> {
  const { default: ExcelJS } = await import('exceljs');
  const rows: [string, number][] = [
    ['00001.jpg', 42.5],
    ['00002.jpg', 61.25],
    ['00003.jpg', 77],
    ['00004.jpg', 12.75],
  ];
  const out: Uint8Array[] = [];
  for (const variant of ['plain', 'text-numbers', 'formula', 'blank-first', 'two-sheets']) {
    const wb = new ExcelJS.Workbook();
    wb.created = new Date(0);
    wb.modified = new Date(0);
    const ws = wb.addWorksheet('Sheet1');
    if (variant === 'blank-first') ws.addRow([]);
    ws.addRow(['Image name', 'MOS', 'Brightness', 'Colorfulness']);
    for (const [name, mos] of rows) {
      const value =
        variant === 'text-numbers'
          ? String(mos)
          : variant === 'formula'
            ? { formula: `${mos}*1`, result: mos }
            : mos;
      ws.addRow([name, value, 50, 60]);
    }
    if (variant === 'two-sheets') wb.addWorksheet('Other').addRow(['x', 1]);
    out.push(
      new Uint8Array(await wb.xlsx.writeBuffer({ useSharedStrings: variant !== 'text-numbers' } as never)),
    );
  }
  return out;
}

/**
 * The workbook with its relationships and shared strings moved before the worksheets. exceljs's streaming reader
 * copies a worksheet that comes before them to a temporary file (a side effect, reported as a finding: Excel,
 * openpyxl and exceljs itself all write that order); seeds in this order keep the fuzzer on the parser, and mutations
 * that drop or rename those entries still reach the temporary-file path.
 */
function relsFirst(bytes: Uint8Array): Uint8Array {
  const rank = (n: string): number =>
    /workbook\.xml\.rels$/.test(n) ? 0 : /sharedStrings/.test(n) ? 1 : /workbook\.xml$/.test(n) ? 2 : 3;
  return writeZip(
    readZip(bytes).sort((a, b) => rank(a[0]) - rank(b[0])),
    6,
  );
}

export const xlsxFormat = datasetFormat(
  'xlsx',
  "XLSX workbooks: loadDataset('spaq') (exceljs streaming reader)",
  async () => {
    const fixture = fixtureSeeds([{ key: 'spaq', folder: 'spaq', files: [SPAQ_XLSX] }]);
    const made = (await spaqWorkbooks()).map((bytes, i): Seed => ({
      ...fixture[0],
      name: `spaq:exceljs-${i}`,
      files: new Map([[SPAQ_XLSX, bytes]]),
    }));
    return [...fixture, ...made].map((s) => ({
      ...s,
      files: new Map([[SPAQ_XLSX, relsFirst(s.files.get(SPAQ_XLSX) as Uint8Array)]]),
    }));
  },
  (bytes, _file, rng, corpus) => {
    const mode = rng.weighted<string>([
      [3, 'xml'],
      [2, 'bytes'],
      [1, 'delete-run'],
      [1, 'structure'],
      [1, 'entries'],
    ]);
    if (mode === 'bytes') {
      const m = mutateBytesN(bytes, rng, rng.range(1, 2), others(corpus));
      return { bytes: m.bytes, notes: [m.note] };
    }
    if (mode === 'delete-run') {
      // Deleting a run of bytes inside the archive (a damaged download) shifts every later offset.
      const at = rng.int(bytes.length);
      const len = rng.range(1, 64);
      const out = new Uint8Array(bytes.length - Math.min(len, bytes.length - at));
      out.set(bytes.subarray(0, at));
      out.set(bytes.subarray(at + len), at);
      return { bytes: out, notes: [`delete ${len} bytes at ${at}`] };
    }
    if (mode === 'structure') {
      const m = mutateZipStructure(bytes, rng);
      return { bytes: m.bytes, notes: [m.note] };
    }
    let entries: [string, Uint8Array][];
    try {
      entries = readZip(bytes);
    } catch {
      const m = mutateBytes(bytes, rng);
      return { bytes: m.bytes, notes: [m.note] };
    }
    if (mode === 'entries') {
      const m = mutateEntries(entries, rng);
      return { bytes: writeZip(m.entries, 6), notes: [m.note] };
    }
    const xmlNames = entries.map(([n]) => n).filter((n) => /\.(xml|rels)$/.test(n));
    const preferred = xmlNames.filter((n) => /sheet1\.xml|sharedStrings|workbook\.xml/.test(n));
    const target = rng.pick(preferred.length > 0 && rng.chance(0.8) ? preferred : xmlNames);
    const i = entries.findIndex(([n]) => n === target);
    const x = mutateXml(dec.decode(entries[i][1]), rng);
    entries[i] = [target, enc.encode(x.text)];
    return { bytes: writeZip(entries, 6), notes: [`${target}: ${x.note}`] };
  },
);

// ---------------------------------------------------------------------------------------------------------------------
// MAT-files (LIVE, LIVE Challenge)

/** LIVE Challenge metadata written by the fuzzer's MAT writer: plain and compressed, UTF-8 and UTF-16 names. */
function livecMats(): Seed[] {
  const names = [
    't1.bmp',
    't2.bmp',
    't3.bmp',
    't4.bmp',
    't5.bmp',
    't6.bmp',
    't7.bmp',
    '1000.JPG',
    '1001.JPG',
    '3.bmp',
    '5.bmp',
  ];
  const mos = names.map((_, i) => 20 + i * 5.5);
  const out: Seed[] = [];
  for (const compress of [false, true]) {
    for (const utf8 of [false, true]) {
      const images = matFile(
        [
          [
            'AllImages_release',
            {
              cell: names.map((n) =>
                utf8 ? { char: n, dataType: 16, codes: [...enc.encode(n)] } : { char: n },
              ),
              dims: [names.length, 1],
            },
          ],
        ],
        compress,
      );
      const scores = matFile([['AllMOS_release', { numeric: mos }]], compress);
      out.push({
        name: `livec:written-${compress ? 'z' : 'plain'}-${utf8 ? 'utf8' : 'utf16'}`,
        template: `${FIXTURES}/livec`,
        files: new Map([
          ['Data/AllImages_release.mat', images],
          ['Data/AllMOS_release.mat', scores],
        ]),
        target: '.',
        options: { key: 'livec' },
      });
    }
  }
  return out;
}

export const matFormat = datasetFormat(
  'mat',
  "MAT-files: loadDataset('live'), loadDataset('livec')",
  async () => [
    ...fixtureSeeds([
      { key: 'livec', folder: 'livec', files: ['Data/AllImages_release.mat', 'Data/AllMOS_release.mat'] },
      { key: 'live', folder: 'live', files: ['dmos_realigned.mat', 'refnames_all.mat'] },
    ]),
    ...livecMats(),
  ],
  (bytes, _file, rng, corpus) => {
    if (rng.chance(0.3)) {
      const m = mutateBytesN(bytes, rng, rng.range(1, 2), others(corpus));
      return { bytes: m.bytes, notes: [m.note] };
    }
    const notes: string[] = [];
    let b = bytes;
    for (let i = rng.range(1, 2); i > 0; i--) {
      const m = mutateMat(b, rng);
      b = m.bytes;
      notes.push(m.note);
    }
    return { bytes: b, notes };
  },
);

// ---------------------------------------------------------------------------------------------------------------------
// The original project's JSON lists

export const datasetJsonFormat = datasetFormat(
  'dataset-json',
  "the original's JSON lists: loadDataset koniq10k / spaq / kadid10k / agiqa3k (json layouts)",
  async () =>
    fixtureSeeds([
      { key: 'koniq10k', folder: 'koniq-test', files: ['koniq_test.json'] },
      { key: 'koniq10k', folder: 'koniq10k-seed', files: ['koniq_train.json', 'koniq_test.json'] },
      { key: 'spaq', folder: 'spaq-test', files: ['spaq_test.json'] },
      { key: 'kadid10k', folder: 'kadid-test', files: ['kadid_test.json'] },
      { key: 'agiqa3k', folder: 'agiqa-test', files: ['agiqa_test.json'] },
    ]),
  (bytes, _file, rng, corpus) => {
    if (rng.chance(0.15)) {
      const m = mutateBytes(bytes, rng, others(corpus));
      return { bytes: m.bytes, notes: [m.note] };
    }
    const m = mutateValue(JSON.parse(dec.decode(bytes)) as JsonValue, rng);
    let text = jsonText(m.value, rng);
    if (rng.chance(0.15)) {
      const d = damageJsonText(text, rng);
      text = d.text;
      m.notes.push(d.note);
    }
    return { bytes: enc.encode(text), notes: m.notes };
  },
);
