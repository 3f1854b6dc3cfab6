/**
 * AGIQA-3K. `official`: `data.csv` (name, prompt, adj1, adj2, style, mos_quality, std_quality, mos_align,
 * std_align); label `mos_quality` by default, `mos_align` with `label: 'mos_align'`. Images are looked up in
 * `imageDir` if given, else in `AGIQA-3K/`, `images/` and the root, in that order. `test-json`: `agiqa_test.json`.
 */
import { exists } from '../io/paths.js';
import { readCsv } from '../io/table.js';
import {
  checkRows,
  joinInsideOrFatal,
  type AdapterContext,
  type Adapter,
  type AdapterInfo,
  type RawRow,
} from './common.js';
import { readTestJson } from './testJson.js';

export const agiqa3kInfo: AdapterInfo = {
  title: 'AGIQA-3K',
  aliases: [],
  scale: { name: 'mos_quality', direction: 'higher-better', published: [0, 5] },
  referenceBased: false,
  layouts: [
    {
      name: 'official',
      reads:
        'data.csv (name, prompt, ..., mos_quality, std_quality, mos_align, std_align), images in AGIQA-3K/ or images/',
      markers: [
        ['data.csv', 'AGIQA-3K/'],
        ['data.csv', 'images/'],
      ],
    },
    {
      name: 'test-json',
      reads: "the original's agiqa_test.json, images beside it",
      markers: [['agiqa_test.json']],
    },
  ],
};

export const agiqa3k: Adapter = async (ctx: AdapterContext) => {
  const csv = ctx.at('data.csv');
  const json = await exists(ctx.at('agiqa_test.json'));
  if (ctx.options.layout === 'json' || (ctx.options.layout === undefined && json && !(await exists(csv)))) {
    return readTestJson(ctx, 'agiqa_test.json', 'higher-better');
  }
  const label = ctx.options.label ?? 'mos_quality';
  if (label !== 'mos_quality' && label !== 'mos_align') {
    ctx.fatal({
      code: 'bad-option',
      file: csv,
      field: 'label',
      message: `label ${JSON.stringify(label)}`,
      expected: '"mos_quality" or "mos_align"',
    });
  }
  const table = await ctx.read(csv, () => readCsv(csv, ctx.limits, 'data.csv'));
  const nameCol = ctx.column(table, 'name');
  const scoreCol = ctx.column(table, label);
  const dirs: string[] = [];
  if (ctx.options.imageDir !== undefined) dirs.push(joinInsideOrFatal(ctx, ctx.root, ctx.options.imageDir));
  else {
    for (const d of ['AGIQA-3K', 'images']) if (await exists(ctx.at(d))) dirs.push(ctx.at(d));
    dirs.push(ctx.root);
  }
  const rows: RawRow[] = table.rows.map((r) => {
    const name = r.cells[nameCol] ?? '';
    return { id: name, name, dirs, scoreText: r.cells[scoreCol], file: csv, row: r.row, field: label };
  });
  return {
    layout: 'official',
    scale: { ...agiqa3kInfo.scale, name: label },
    images: await checkRows(ctx, rows),
    referenceBased: false,
    splits: {},
  };
};
