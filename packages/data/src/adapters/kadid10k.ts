/**
 * KADID-10k. `official`: `dmos.csv` (dist_img, ref_img, dmos, var; the "dmos" is a 1–5 higher-is-better rating)
 * with every image in `images/`. `test-json`: the original's `kadid_test.json` (reference from the name, `I01_...`
 * → `I01.png`).
 */
import { exists } from '../io/paths.js';
import { readCsv } from '../io/table.js';
import { checkRows, type AdapterContext, type Adapter, type AdapterInfo, type RawRow } from './common.js';
import { readTestJson } from './testJson.js';

export const kadid10kInfo: AdapterInfo = {
  title: 'KADID-10k',
  aliases: [],
  scale: { name: 'dmos', direction: 'higher-better', published: [1, 5] },
  referenceBased: true,
  layouts: [
    {
      name: 'official',
      reads: 'dmos.csv (dist_img, ref_img, dmos, var) with images/',
      markers: [['dmos.csv', 'images/']],
    },
    {
      name: 'test-json',
      reads: "the original's kadid_test.json, images beside it",
      markers: [['kadid_test.json']],
    },
  ],
  pyiqa: { name: 'KADID10k', folder: 'kadid10k', images: ['images'], fullReference: true },
};

export const kadid10k: Adapter = async (ctx: AdapterContext) => {
  const csv = ctx.at('dmos.csv');
  const json = await exists(ctx.at('kadid_test.json'));
  if (ctx.options.layout === 'json' || (ctx.options.layout === undefined && json && !(await exists(csv)))) {
    return readTestJson(ctx, 'kadid_test.json', 'higher-better', (name) => {
      const m = /^(I\d+)_/i.exec(name);
      return m ? `${m[1]}.png` : undefined;
    });
  }
  const table = await ctx.read(csv, () => readCsv(csv, ctx.limits, 'dmos.csv'));
  const distCol = ctx.column(table, 'dist_img');
  const refCol = ctx.column(table, 'ref_img');
  const scoreCol = ctx.column(table, 'dmos');
  const dir = ctx.at('images');
  const rows: RawRow[] = table.rows.map((r) => {
    const name = r.cells[distCol] ?? '';
    return {
      id: name,
      name,
      dirs: [dir],
      scoreText: r.cells[scoreCol],
      refId: r.cells[refCol] ?? '',
      file: csv,
      row: r.row,
      field: 'dmos',
    };
  });
  return {
    layout: 'official',
    scale: kadid10kInfo.scale,
    images: await checkRows(ctx, rows),
    referenceBased: true,
    splits: {},
  };
};
