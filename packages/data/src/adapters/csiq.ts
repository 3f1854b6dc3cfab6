/**
 * CSIQ as the original reads it: `csiq_label.txt` lines `<name> <dmos>` (e.g. `1600.AWGN.1.png 0.061989`), images in
 * `dst_imgs_all/`, references in `src_imgs/` (reference of `1600.AWGN.1.png` is `1600.png`). DMOS in [0, 1],
 * lower is better.
 */
import { promises as fs } from 'node:fs';
import { readWhitespaceTable } from '../io/table.js';
import { checkRows, type AdapterContext, type Adapter, type AdapterInfo, type RawRow } from './common.js';

export const csiqInfo: AdapterInfo = {
  title: 'CSIQ',
  aliases: [],
  scale: { name: 'dmos', direction: 'lower-better', published: [0, 1] },
  referenceBased: true,
  layouts: [
    {
      name: 'official',
      reads: 'csiq_label.txt (<name> <dmos>) with dst_imgs_all/ and src_imgs/',
      markers: [['csiq_label.txt']],
    },
  ],
  pyiqa: { name: 'CSIQ', folder: 'CSIQ', images: ['dst_imgs', 'dst_imgs_all'], fullReference: true },
};

export const csiq: Adapter = async (ctx: AdapterContext) => {
  const file = ctx.at('csiq_label.txt');
  const lines = await ctx.read(file, () => readWhitespaceTable(file, ctx.limits, 'csiq_label.txt'));
  let refs: Set<string>;
  try {
    refs = new Set(await fs.readdir(ctx.at('src_imgs')));
  } catch {
    ctx.fatal({
      code: 'missing-image',
      file: ctx.at('src_imgs'),
      message: 'folder src_imgs/ not found',
      expected: 'the CSIQ reference images',
    });
  }
  const dir = ctx.at('dst_imgs_all');
  const rows: RawRow[] = [];
  for (const l of lines) {
    const [name, score] = l.cells;
    if (l.cells.length !== 2) {
      ctx.report({
        code: 'bad-metadata',
        file,
        row: l.row,
        imageId: name,
        message: `${l.cells.length} fields`,
        expected: 'two fields: <image name> <dmos>',
      });
      continue;
    }
    const tok = name.split('.');
    const ref = tok.length >= 2 ? `${tok[0]}.${tok[tok.length - 1]}` : '';
    if (!refs.has(ref)) {
      ctx.report({
        code: 'bad-metadata',
        file,
        row: l.row,
        imageId: name,
        message: `reference ${JSON.stringify(ref)} of ${JSON.stringify(name)} is not in src_imgs/`,
        expected: 'names <ref>.<type>.<level>.<ext> whose reference <ref>.<ext> exists',
      });
      continue;
    }
    rows.push({ id: name, name, dirs: [dir], scoreText: score, refId: ref, file, row: l.row, field: 'dmos' });
  }
  return {
    layout: 'official',
    scale: csiqInfo.scale,
    images: await checkRows(ctx, rows),
    referenceBased: true,
    splits: {},
  };
};
