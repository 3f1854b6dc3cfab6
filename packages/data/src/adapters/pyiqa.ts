/**
 * pyiqa's (IQA-PyTorch's) layout of a dataset, for every key pyiqa knows: its data root holds
 * `meta_info/meta_info_<Name>Dataset.csv` and the dataset's folder (`kadid10k/images/`, `koniq10k/512x384/`, ...);
 * the meta file may also sit in the dataset folder itself. The meta file is a CSV with a header: column 0 is the image
 * name and column 1 the score (no-reference sets), or column 0 the reference, column 1 the image and column 2 the score
 * (full-reference sets: KADID-10k, LIVE, CSIQ, TID2013). Every column whose name contains `split` (`official_split`,
 * `ratio802_seed123_split_01`) is a shipped split: each row names its part (`train`, `val`, `test`). pyiqa's older
 * split pickles (`{index: {'train': [...], 'val': [...], 'test': [...]}}`, row indices from 0, `index` from 1; an
 * empty list means the split has no such part) are read with the safe unpickler of `@iqa-bench/core/pickle`, which
 * runs nothing from the file. Scores keep the dataset's published scale, not the observed min/max.
 */
import path from 'node:path';
import { PyDict, pyTypeName, unpickle, type PyValue } from '@iqa-bench/core/pickle';
import { exists, readBounded } from '../io/paths.js';
import { readCsv } from '../io/table.js';
import {
  checkRows,
  joinInsideOrFatal,
  type AdapterContext,
  type AdapterInfo,
  type AdapterResult,
  type LayoutInfo,
  type PyiqaInfo,
  type RawRow,
} from './common.js';

/** The name of pyiqa's meta file of a dataset. */
export function pyiqaMetaFile(p: PyiqaInfo): string {
  return `meta_info_${p.name}Dataset.csv`;
}

/** The pyiqa layout as a {@link LayoutInfo}: the meta file in the folder, or in `meta_info/` beside the dataset folder. */
export function pyiqaLayout(p: PyiqaInfo): LayoutInfo {
  const meta = pyiqaMetaFile(p);
  return {
    name: 'pyiqa',
    reads: `meta_info/${meta} with ${p.folder}/${p.images[0] === '' ? '' : `${p.images[0]}/`} (or the meta file in the folder); split columns, split pickles`,
    markers: [[meta], [`meta_info/${meta}`, `${p.folder}/`]],
  };
}

/** The shipped-split name of index `index` of a split pickle: `<file name>#<index>` (e.g. `kadid10k_seed123.pkl#1`). */
export function pickleSplitName(file: string, index: number | bigint): string {
  return `${path.basename(file)}#${index}`;
}

export async function readPyiqa(ctx: AdapterContext, info: AdapterInfo): Promise<AdapterResult> {
  const p = info.pyiqa;
  if (p === undefined) {
    ctx.fatal({
      code: 'bad-option',
      file: ctx.root,
      field: 'layout',
      message: `pyiqa has no layout for ${ctx.key}`,
      expected: 'layout "pyiqa" only for koniq10k, spaq, kadid10k, livec, live, csiq or tid2013',
    });
  }
  const metaName = pyiqaMetaFile(p);
  const candidates = [ctx.at(metaName), ctx.at('meta_info', metaName)];
  let file: string | null = null;
  for (const c of candidates) if (file === null && (await exists(c))) file = c;
  if (file === null) {
    ctx.fatal({
      code: 'missing-metadata',
      file: candidates[1],
      message: `${metaName} not found (looked in the folder and in meta_info/)`,
      expected: `pyiqa's meta file of ${info.title}`,
    });
  }
  const meta = file;
  const table = await ctx.read(meta, () => readCsv(meta, ctx.limits, metaName));
  const nameCol = p.fullReference ? 1 : 0;
  const scoreCol = nameCol + 1;
  if (table.header.length <= scoreCol) {
    ctx.fatal({
      code: 'missing-column',
      file: meta,
      row: 1,
      message: `the header has ${table.header.length} column(s): ${JSON.stringify(table.header)}`,
      expected: p.fullReference
        ? "pyiqa's full-reference columns: reference name, image name, score, ..."
        : "pyiqa's no-reference columns: image name, score, ...",
    });
  }
  const scoreName = table.header[scoreCol];
  const label = ctx.options.label;
  if (label !== undefined && label !== scoreName) {
    ctx.fatal({
      code: 'bad-option',
      file: meta,
      field: 'label',
      message: `label ${JSON.stringify(label)}, but pyiqa's score is column ${scoreCol + 1} (${JSON.stringify(scoreName)})`,
      expected: `no label, or ${JSON.stringify(scoreName)}`,
    });
  }
  const dirs: string[] = [];
  if (ctx.options.imageDir !== undefined) {
    dirs.push(joinInsideOrFatal(ctx, ctx.root, ctx.options.imageDir));
  } else {
    for (const d of p.images) dirs.push(ctx.at(p.folder, d), ctx.at(d));
  }
  const unique = [...new Set(dirs)];
  const rows = table.rows.slice(p.skipRows ?? 0);
  const ids = rows.map((r) => r.cells[nameCol] ?? '');
  const raw: RawRow[] = rows.map((r, i) => ({
    id: ids[i],
    name: ids[i],
    dirs: unique,
    scoreText: r.cells[scoreCol],
    ...(p.fullReference ? { refId: path.posix.basename((r.cells[0] ?? '').replace(/\\/g, '/')) } : {}),
    file: meta,
    row: r.row,
    field: scoreName,
  }));
  const splits: Record<string, Record<string, string[]>> = {};
  table.header.forEach((h, c) => {
    if (!h.includes('split')) return;
    const parts: Record<string, string[]> = {};
    rows.forEach((r, i) => {
      const part = (r.cells[c] ?? '').trim();
      if (part !== '') (parts[part] ??= []).push(ids[i]);
    });
    splits[h] = parts;
  });
  if (ctx.options.splitFile !== undefined) {
    const pkl = joinInsideOrFatal(ctx, ctx.root, ctx.options.splitFile);
    Object.assign(splits, await readSplitPickle(ctx, pkl, ids));
  }
  return {
    layout: 'pyiqa',
    scale: { ...info.scale, name: scoreName },
    images: await checkRows(ctx, raw, { caseInsensitive: true }),
    referenceBased: info.referenceBased,
    splits,
  };
}

const PICKLE_EXPECTED =
  "a pyiqa split file: a pickled dict {index: {'train': [row, ...], 'val': [...], 'test': [...]}} of ints, strings and lists";

/** Reads a pyiqa split pickle into shipped splits (`<file>#<index>` → part → ids); row indices map through `ids`. */
async function readSplitPickle(
  ctx: AdapterContext,
  file: string,
  ids: readonly string[],
): Promise<Record<string, Record<string, string[]>>> {
  const bytes = await ctx.read(file, () => readBounded(file, ctx.limits.maxBytes, 'split file'));
  const bad = (field: string, message: string): never =>
    ctx.fatal({ code: 'bad-metadata', file, field, message, expected: PICKLE_EXPECTED });
  let value: PyValue;
  try {
    // No globals are allowed: a split file is plain data, so any class or callable in it is refused.
    value = unpickle(bytes, { source: file, globals: new Map() }).value;
  } catch (e) {
    const text = (e as Error).message;
    return bad('(pickle)', text.startsWith(`${file}: `) ? text.slice(file.length + 2) : text);
  }
  if (!(value instanceof PyDict)) return bad('(top level)', `a ${pyTypeName(value)}`);
  const out: Record<string, Record<string, string[]>> = {};
  for (const [index, split] of value.map) {
    if (typeof index !== 'number' || !Number.isInteger(index)) {
      return bad('(top level)', `key ${JSON.stringify(String(index))} is not an integer split index`);
    }
    if (!(split instanceof PyDict)) return bad(`[${index}]`, `a ${pyTypeName(split)}`);
    const parts: Record<string, string[]> = {};
    const partOf = new Map<number, string>();
    for (const [part, list] of split.map) {
      if (typeof part !== 'string') return bad(`[${index}]`, `part name ${String(part)} is not a string`);
      const field = `[${index}].${part}`;
      if (!Array.isArray(list)) return bad(field, `a ${pyTypeName(list)}`);
      if (list.length === 0) continue; // pyiqa: an empty list means the split has no such part
      const names: string[] = [];
      for (let k = 0; k < list.length; k++) {
        const row = list[k];
        if (typeof row !== 'number' || !Number.isInteger(row) || row < 0 || row >= ids.length) {
          return bad(
            `${field}[${k}]`,
            `${typeof row === 'number' ? row : pyTypeName(row)} is not a row of the meta file (0 to ${ids.length - 1})`,
          );
        }
        const other = partOf.get(row);
        if (other !== undefined) return bad(`${field}[${k}]`, `row ${row} is also in part "${other}"`);
        partOf.set(row, part);
        names.push(ids[row]);
      }
      parts[part] = names;
    }
    out[pickleSplitName(file, index)] = parts;
  }
  return out;
}
