/**
 * Any CSV with a header: `file` (relative to the root), `imageColumn`, the score column as `label`, optional
 * `refColumn`, `imageDir` (default: the root), `direction` (default higher-better) and `scoreRange` (default: the
 * observed min/max).
 */
import { readCsv } from '../io/table.js';
import {
  checkRows,
  type AdapterContext,
  joinInsideOrFatal,
  type Adapter,
  type AdapterInfo,
  type RawRow,
} from './common.js';

export const csvInfo: AdapterInfo = {
  title: 'any CSV',
  aliases: [],
  scale: { name: '(the score column)', direction: 'higher-better', published: null },
  referenceBased: false,
  layouts: [
    {
      name: 'csv',
      reads: 'any CSV with a header: an image-name column, a score column, optionally a reference column',
      markers: [],
    },
  ],
};

export const csv: Adapter = async (ctx: AdapterContext) => {
  const o = ctx.options;
  for (const [k, v] of [
    ['file', o.file],
    ['imageColumn', o.imageColumn],
    ['label', o.label],
  ] as const) {
    if (v === undefined || v === '') {
      ctx.fatal({
        code: 'bad-option',
        file: ctx.root,
        field: k,
        message: `option ${k} is missing`,
        expected: `option ${k} for the csv adapter`,
      });
    }
  }
  const file = joinInsideOrFatal(ctx, ctx.root, o.file as string);
  const table = await ctx.read(file, () => readCsv(file, ctx.limits));
  const nameCol = ctx.column(table, o.imageColumn as string);
  const scoreCol = ctx.column(table, o.label as string);
  const refCol = o.refColumn !== undefined ? ctx.column(table, o.refColumn) : -1;
  const dir = o.imageDir !== undefined ? joinInsideOrFatal(ctx, ctx.root, o.imageDir) : ctx.root;
  const rows: RawRow[] = table.rows.map((r) => {
    const name = r.cells[nameCol] ?? '';
    return {
      id: name,
      name,
      dirs: [dir],
      scoreText: r.cells[scoreCol],
      ...(refCol >= 0 ? { refId: r.cells[refCol] ?? '' } : {}),
      file,
      row: r.row,
      field: o.label as string,
    };
  });
  return {
    layout: 'csv',
    scale: { name: o.label as string, direction: o.direction ?? 'higher-better', published: null },
    images: await checkRows(ctx, rows),
    referenceBased: refCol >= 0,
    splits: {},
  };
};
