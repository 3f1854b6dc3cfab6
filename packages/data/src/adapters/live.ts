/**
 * LIVE IQA release 2, read as the original does: distortion folders `jp2k`, `jpeg`, `wn`, `gblur`, `fastfading`
 * with `img1.bmp … imgN.bmp`, concatenated in that order (982 images in the release: 227, 233, 174, 174, 174);
 * `dmos_realigned.mat` (`dmos_new`, `orgs`) and `refnames_all.mat` (`refnames_all`) give each one its DMOS and
 * reference; references in `refimgs/`. Only distorted images (`orgs == 0`, 779) are kept. Ids are
 * `<folder>/img<k>.bmp`; reference ids are the reference file names. The per-folder counts are read from the folders
 * (the contiguous `img1..imgN`) and must add up to the .mat length, so a missing last image is caught.
 */
import { promises as fs } from 'node:fs';
import { checkRows, type AdapterContext, type Adapter, type AdapterInfo, type RawRow } from './common.js';
import { numbersOf, readMatFile, stringsOf } from './mat.js';

export const LIVE_FOLDERS = ['jp2k', 'jpeg', 'wn', 'gblur', 'fastfading'] as const;
export const LIVE_COUNTS = [227, 233, 174, 174, 174] as const;

export const liveInfo: AdapterInfo = {
  title: 'LIVE IQA (release 2)',
  aliases: ['LIVE IQA', 'LIVE-R2', 'LIVE release 2'],
  scale: { name: 'dmos_new', direction: 'lower-better', published: [1, 100] },
  referenceBased: true,
  layouts: [
    {
      name: 'official',
      reads: 'dmos_realigned.mat, refnames_all.mat, refimgs/, jp2k/ jpeg/ wn/ gblur/ fastfading/',
      markers: [['dmos_realigned.mat', 'refnames_all.mat']],
    },
  ],
  pyiqa: { name: 'LIVEIQA', folder: 'LIVEIQA_release2', images: [''], fullReference: true },
};

export const live: Adapter = async (ctx: AdapterContext) => {
  const dmosFile = ctx.at('dmos_realigned.mat');
  const refFile = ctx.at('refnames_all.mat');
  const dmosVars = await readMatFile(ctx, dmosFile);
  const dmos = numbersOf(ctx, dmosFile, dmosVars, 'dmos_new');
  const orgs = numbersOf(ctx, dmosFile, dmosVars, 'orgs');
  const refnames = stringsOf(ctx, refFile, await readMatFile(ctx, refFile), 'refnames_all');
  const counts: number[] = [];
  for (const folder of LIVE_FOLDERS) {
    let names: string[];
    try {
      names = await fs.readdir(ctx.at(folder));
    } catch {
      ctx.fatal({
        code: 'missing-image',
        file: ctx.at(folder),
        message: `folder ${folder}/ not found`,
        expected: `the LIVE folders ${LIVE_FOLDERS.join(', ')}`,
      });
    }
    let n = 0;
    for (const name of names) {
      const m = /^img(\d+)\.bmp$/.exec(name);
      if (m) n = Math.max(n, Number(m[1]));
    }
    counts.push(n);
  }
  const total = counts.reduce((a, b) => a + b, 0);
  for (const [v, arr] of [
    ['orgs', orgs],
    ['refnames_all', refnames],
  ] as const) {
    if (arr.length !== dmos.length) {
      ctx.fatal({
        code: 'bad-metadata',
        file: v === 'orgs' ? dmosFile : refFile,
        field: v,
        message: `${arr.length} entries but dmos_new has ${dmos.length}`,
        expected: 'one entry per image',
      });
    }
  }
  if (total !== dmos.length) {
    ctx.fatal({
      code: 'bad-metadata',
      file: dmosFile,
      field: 'dmos_new',
      message: `${dmos.length} scores but the folders hold ${total} images (${LIVE_FOLDERS.map((f, i) => `${f} ${counts[i]}`).join(', ')})`,
      expected: `one score per image, in folder order (release: ${LIVE_FOLDERS.map((f, i) => `${f} ${LIVE_COUNTS[i]}`).join(', ')})`,
    });
  }
  let refs: Set<string>;
  try {
    refs = new Set(await fs.readdir(ctx.at('refimgs')));
  } catch {
    ctx.fatal({
      code: 'missing-image',
      file: ctx.at('refimgs'),
      message: 'folder refimgs/ not found',
      expected: 'the LIVE reference images',
    });
  }
  const rows: RawRow[] = [];
  let i = 0;
  LIVE_FOLDERS.forEach((folder, f) => {
    for (let k = 1; k <= counts[f]; k++, i++) {
      if (orgs[i] !== 0) continue;
      const name = `img${k}.bmp`;
      const id = `${folder}/${name}`;
      if (!refs.has(refnames[i])) {
        ctx.report({
          code: 'bad-metadata',
          file: refFile,
          row: i + 1,
          field: 'refnames_all',
          imageId: id,
          message: `reference ${JSON.stringify(refnames[i])} is not in refimgs/`,
          expected: 'a reference image name found in refimgs/',
        });
        continue;
      }
      rows.push({
        id,
        name,
        dirs: [ctx.at(folder)],
        scoreText: dmos[i],
        refId: refnames[i],
        file: dmosFile,
        row: i + 1,
        field: 'dmos_new',
      });
    }
  });
  return {
    layout: 'official',
    scale: liveInfo.scale,
    images: await checkRows(ctx, rows),
    referenceBased: true,
    splits: {},
  };
};
