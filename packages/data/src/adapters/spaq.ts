/**
 * SPAQ. `official`: `MOS and Image attribute scores.xlsx` (columns "Image name", "MOS", then the attribute scores),
 * at the root or in `Annotations/`, with the images in `TestImage/`. `test-json`: the original's `spaq_test.json`.
 */
import { exists } from '../io/paths.js';
import { readXlsx } from '../io/table.js';
import { checkRows, type AdapterContext, type Adapter, type AdapterInfo, type RawRow } from './common.js';
import { readTestJson } from './testJson.js';

export const SPAQ_XLSX = 'MOS and Image attribute scores.xlsx';

export const spaqInfo: AdapterInfo = {
  title: 'SPAQ',
  aliases: [],
  scale: { name: 'MOS', direction: 'higher-better', published: [0, 100] },
  referenceBased: false,
  layouts: [
    {
      name: 'official',
      reads: `"${SPAQ_XLSX}" (root or Annotations/) with TestImage/`,
      markers: [[SPAQ_XLSX], [`Annotations/${SPAQ_XLSX}`]],
    },
    {
      name: 'test-json',
      reads: "the original's spaq_test.json, images beside it",
      markers: [['spaq_test.json']],
    },
  ],
  pyiqa: { name: 'SPAQ', folder: 'SPAQ', images: ['TestImage'], fullReference: false },
};

export const spaq: Adapter = async (ctx: AdapterContext) => {
  const candidates = [ctx.at(SPAQ_XLSX), ctx.at('Annotations', SPAQ_XLSX)];
  let xlsx: string | null = null;
  for (const c of candidates) if (xlsx === null && (await exists(c))) xlsx = c;
  const json = await exists(ctx.at('spaq_test.json'));
  if (ctx.options.layout === 'json' || (ctx.options.layout === undefined && xlsx === null && json)) {
    return readTestJson(ctx, 'spaq_test.json', 'higher-better');
  }
  if (xlsx === null) {
    ctx.fatal({
      code: 'missing-metadata',
      file: candidates[0],
      message: `"${SPAQ_XLSX}" not found (looked in the folder and in Annotations/)`,
      expected: "the SPAQ annotation workbook (or the original project's spaq_test.json)",
    });
  }
  const file = xlsx;
  const table = await ctx.read(file, () => readXlsx(file, ctx.limits, SPAQ_XLSX));
  const nameCol = ctx.column(table, 'Image name');
  const mosCol = ctx.column(table, 'MOS');
  const dir = ctx.at('TestImage');
  const rows: RawRow[] = table.rows.map((r) => {
    const name = r.cells[nameCol] ?? '';
    return { id: name, name, dirs: [dir], scoreText: r.cells[mosCol], file, row: r.row, field: 'MOS' };
  });
  return {
    layout: 'official',
    scale: spaqInfo.scale,
    images: await checkRows(ctx, rows),
    referenceBased: false,
    splits: {},
  };
};
