/**
 * TID2013 as the original reads it: `mos_with_names.txt` lines `<MOS> <name>` (e.g. `5.51429 i01_01_1.bmp`), images
 * in `distorted_images/` (exact name first, then a unique case-insensitive match, since the release mixes `.bmp` and
 * `.BMP`), references `I01.BMP … I25.BMP` in `reference_images/`; the reference id is the two digits (`01`). MOS in
 * [0, 9], higher is better.
 */
import { promises as fs } from 'node:fs';
import { readWhitespaceTable } from '../io/table.js';
import { checkRows, type AdapterContext, type Adapter, type AdapterInfo, type RawRow } from './common.js';

export const tid2013Info: AdapterInfo = {
  title: 'TID2013',
  aliases: [],
  scale: { name: 'MOS', direction: 'higher-better', published: [0, 9] },
  referenceBased: true,
  layouts: [
    {
      name: 'official',
      reads: 'mos_with_names.txt (<MOS> <name>), distorted_images/, reference_images/',
      markers: [['mos_with_names.txt']],
    },
  ],
  pyiqa: { name: 'TID2013', folder: 'tid2013', images: ['distorted_images'], fullReference: true },
};

export const tid2013: Adapter = async (ctx: AdapterContext) => {
  const file = ctx.at('mos_with_names.txt');
  const lines = await ctx.read(file, () => readWhitespaceTable(file, ctx.limits, 'mos_with_names.txt'));
  let refIds: Set<string>;
  try {
    const names = await fs.readdir(ctx.at('reference_images'));
    refIds = new Set(names.filter((n) => /\.bmp$/i.test(n)).map((n) => n.slice(1, 3)));
  } catch {
    ctx.fatal({
      code: 'missing-image',
      file: ctx.at('reference_images'),
      message: 'folder reference_images/ not found',
      expected: 'the TID2013 reference images',
    });
  }
  const dir = ctx.at('distorted_images');
  const rows: RawRow[] = [];
  for (const l of lines) {
    const [score, name] = l.cells;
    if (l.cells.length !== 2) {
      ctx.report({
        code: 'bad-metadata',
        file,
        row: l.row,
        imageId: name,
        message: `${l.cells.length} fields`,
        expected: 'two fields: <MOS> <image name>',
      });
      continue;
    }
    const ref = name.split('_')[0].slice(1);
    if (!refIds.has(ref)) {
      ctx.report({
        code: 'bad-metadata',
        file,
        row: l.row,
        imageId: name,
        message: `reference ${JSON.stringify(ref)} of ${JSON.stringify(name)} has no image in reference_images/`,
        expected: 'names i<ref>_<type>_<level>.bmp whose reference I<ref>.BMP exists',
      });
      continue;
    }
    rows.push({ id: name, name, dirs: [dir], scoreText: score, refId: ref, file, row: l.row, field: 'MOS' });
  }
  return {
    layout: 'official',
    scale: tid2013Info.scale,
    images: await checkRows(ctx, rows, { caseInsensitive: true }),
    referenceBased: true,
    splits: {},
  };
};
