/**
 * LIVE In the Wild Image Quality Challenge. `Data/AllImages_release.mat` (cell `AllImages_release`) and
 * `Data/AllMOS_release.mat` (`AllMOS_release`), MATLAB v5 (compressed or not), images in `Images/`. The first 7
 * entries (the training images) are dropped as the field does, leaving 1,162 of 1,169.
 */
import { checkRows, type AdapterContext, type Adapter, type AdapterInfo, type RawRow } from './common.js';
import { numbersOf, readMatFile, stringsOf } from './mat.js';

export const LIVEC_TRAINING_IMAGES = 7;

export const livecInfo: AdapterInfo = {
  title: 'LIVE Challenge',
  aliases: ['LIVE In the Wild', 'LIVE-itW', 'CLIVE'],
  scale: { name: 'AllMOS_release', direction: 'higher-better', published: [0, 100] },
  referenceBased: false,
  layouts: [
    {
      name: 'official',
      reads: 'Data/AllImages_release.mat, Data/AllMOS_release.mat, Images/ (the 7 training images dropped)',
      markers: [['Data/AllImages_release.mat', 'Data/AllMOS_release.mat']],
    },
  ],
  pyiqa: {
    name: 'LIVEChallenge',
    folder: 'LIVEC',
    images: ['', 'Images'],
    fullReference: false,
    skipRows: LIVEC_TRAINING_IMAGES,
  },
};

export const livec: Adapter = async (ctx: AdapterContext) => {
  const imagesFile = ctx.at('Data', 'AllImages_release.mat');
  const mosFile = ctx.at('Data', 'AllMOS_release.mat');
  const names = stringsOf(ctx, imagesFile, await readMatFile(ctx, imagesFile), 'AllImages_release');
  const mos = numbersOf(ctx, mosFile, await readMatFile(ctx, mosFile), 'AllMOS_release');
  if (names.length !== mos.length) {
    ctx.fatal({
      code: 'bad-metadata',
      file: mosFile,
      field: 'AllMOS_release',
      message: `${mos.length} scores for ${names.length} images in AllImages_release`,
      expected: 'one score per image (1,169 in the release)',
    });
  }
  if (names.length <= LIVEC_TRAINING_IMAGES) {
    ctx.fatal({
      code: 'bad-metadata',
      file: imagesFile,
      field: 'AllImages_release',
      message: `only ${names.length} entries`,
      expected: `more than the ${LIVEC_TRAINING_IMAGES} training images that are dropped`,
    });
  }
  const dir = ctx.at('Images');
  const rows: RawRow[] = [];
  for (let i = LIVEC_TRAINING_IMAGES; i < names.length; i++) {
    rows.push({
      id: names[i],
      name: names[i],
      dirs: [dir],
      scoreText: mos[i],
      file: mosFile,
      row: i + 1,
      field: 'AllMOS_release',
    });
  }
  return {
    layout: 'official',
    scale: livecInfo.scale,
    images: await checkRows(ctx, rows),
    referenceBased: false,
    splits: {},
  };
};
