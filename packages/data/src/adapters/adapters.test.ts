import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDataset } from './index.js';

const ds = (name: string): string =>
  fileURLToPath(new URL(`../../fixtures/datasets/${name}/`, import.meta.url));
const scores = (d: { images: { id: string; score: number }[] }): Record<string, number> =>
  Object.fromEntries(d.images.map((i) => [i.id, i.score]));

describe('koniq10k', () => {
  it('official layout: MOS_zscore labels, 1024x768/ images, the set column as the official split', async () => {
    const d = await loadDataset('koniq10k', ds('koniq10k'));
    expect(d.layout).toBe('official');
    expect(d.scale).toEqual({
      name: 'MOS_zscore',
      direction: 'higher-better',
      range: [1, 100],
      rangeSource: 'published',
    });
    expect(d.images.map((i) => i.id)).toEqual([
      '10004473376.jpg',
      '10007357496.jpg',
      '10008131804.jpg',
      '10028923424.jpg',
      '10031057554.jpg',
      '100483451.jpg',
    ]);
    expect(scores(d)['10004473376.jpg']).toBe(71.23);
    expect(d.images[0].normScore).toBeCloseTo((71.23 - 1) / 99, 12);
    expect(d.images[0].path).toBe(path.join(d.root, '1024x768', '10004473376.jpg'));
    expect(d.images[0].source).toEqual({
      file: path.join(d.root, 'koniq10k_scores_and_distributions.csv'),
      row: 2,
    });
    expect(d.splits.official.parts).toEqual({
      train: ['10004473376.jpg', '10007357496.jpg', '100483451.jpg'],
      val: ['10028923424.jpg'],
      test: ['10008131804.jpg', '10031057554.jpg'],
    });
    expect(d.referenceBased).toBe(false);
  });

  it('label MOS reads the 1–5 column', async () => {
    const d = await loadDataset('koniq10k', ds('koniq10k'), { label: 'MOS' });
    expect(d.scale.range).toEqual([1, 5]);
    expect(scores(d)['10031057554.jpg']).toBe(2.17);
    await expect(loadDataset('koniq10k', ds('koniq10k'), { label: 'mos' })).rejects.toThrow(
      /label "mos"; expected "MOS_zscore" or "MOS"/,
    );
  });

  it("the original's layout: JSON selection, CSV MOS_zscore labels, train/ then test/ lookup", async () => {
    const d = await loadDataset('koniq10k', ds('koniq10k-seed'));
    expect(d.layout).toBe('seed-json');
    expect(d.scale.name).toBe('MOS_zscore');
    expect(d.splits['seed-json'].parts).toEqual({
      train: ['10004473376.jpg', '10007357496.jpg', '10008131804.jpg'],
      test: ['10028923424.jpg', '10031057554.jpg'],
    });
    expect(d.images).toHaveLength(5); // the sixth CSV row is in neither JSON: unused, as in the original
    expect(scores(d)['10028923424.jpg']).toBe(80.64);
    const moved = d.images.find((i) => i.id === '10031057554.jpg');
    expect(moved?.path).toBe(path.join(d.root, 'train', '10031057554.jpg'));
  });

  it('koniq-test/: koniq_test.json with the images beside it, observed range', async () => {
    const d = await loadDataset('koniq10k', ds('koniq-test'));
    expect(d.layout).toBe('test-json');
    expect(scores(d)).toEqual({ '10028923424.jpg': 4.15, '10031057554.jpg': 2.17 });
    expect(d.scale).toMatchObject({ range: [2.17, 4.15], rangeSource: 'observed' });
    expect(d.images.map((i) => i.normScore)).toEqual([1, 0]);
  });
});

describe('spaq', () => {
  it('reads the official workbook from Annotations/ with TestImage/', async () => {
    const d = await loadDataset('spaq', ds('spaq'));
    expect(d.layout).toBe('official');
    expect(scores(d)).toEqual({ '00001.jpg': 42.5, '00002.jpg': 73.25, '00003.jpg': 18, '00004.jpg': 55.75 });
    expect(d.scale).toMatchObject({ name: 'MOS', range: [0, 100], direction: 'higher-better' });
    expect(d.images[1].source.row).toBe(3);
  });
  it("reads the original's spaq_test.json", async () => {
    const d = await loadDataset('spaq', ds('spaq-test'));
    expect(scores(d)).toEqual({ '00007.jpg': 61.4, '00009.jpg': 33.9 });
  });
});

describe('kadid10k', () => {
  it('dmos.csv with references, 1–5 higher-better', async () => {
    const d = await loadDataset('kadid10k', ds('kadid10k'));
    expect(d.images).toHaveLength(6);
    expect(d.referenceBased).toBe(true);
    expect(d.images.map((i) => i.refId)).toEqual([
      'I01.png',
      'I01.png',
      'I01.png',
      'I02.png',
      'I02.png',
      'I02.png',
    ]);
    expect(scores(d)['I01_12_05.png']).toBe(1.37);
    expect(d.images.find((i) => i.id === 'I02_12_05.png')?.normScore).toBeCloseTo(0.1 / 4, 12);
  });
  it('kadid_test.json derives references from the names', async () => {
    const d = await loadDataset('kadid10k', ds('kadid-test'));
    expect(d.images.map((i) => [i.id, i.refId, i.score])).toEqual([
      ['I05_03_02.png', 'I05.png', 3.97],
      ['I09_20_04.png', 'I09.png', 2.03],
    ]);
  });
});

describe('agiqa3k', () => {
  it('mos_quality by default, mos_align selectable; quoted prompts with commas', async () => {
    const q = await loadDataset('agiqa3k', ds('agiqa3k'));
    expect(q.scale).toMatchObject({ name: 'mos_quality', range: [0, 5] });
    expect(scores(q)['AttnGAN_normal_000.jpg']).toBe(0.3843);
    const a = await loadDataset('agiqa3k', ds('agiqa3k'), { label: 'mos_align' });
    expect(scores(a)['AttnGAN_normal_000.jpg']).toBe(1.2057);
    expect(a.images[0].path).toContain(`${path.sep}AGIQA-3K${path.sep}`);
  });
  it('agiqa_test.json', async () => {
    const d = await loadDataset('agiqa3k', ds('agiqa-test'));
    expect(scores(d)).toEqual({ 'sd1.5_normal_010.jpg': 3.21, 'xl2.2_normal_299.jpg': 4.02 });
  });
});

describe('livec', () => {
  it('compressed MAT-files; the first 7 entries are dropped', async () => {
    const d = await loadDataset('livec', ds('livec'));
    expect(scores(d)).toEqual({ '3.bmp': 55.4, '5.bmp': 31.3, '1000.JPG': 80.1, '1001.JPG': 12.6 });
    expect(d.images.find((i) => i.id === '1001.JPG')?.source.row).toBe(11);
    expect(d.scale).toMatchObject({ name: 'AllMOS_release', range: [0, 100] });
  });
});

describe('live', () => {
  it('uncompressed MAT-files; folder order; orgs == 1 dropped; DMOS lower-better', async () => {
    const d = await loadDataset('live', ds('live'));
    expect(d.images).toHaveLength(10);
    expect(d.referenceBased).toBe(true);
    const byId = Object.fromEntries(d.images.map((i) => [i.id, i]));
    expect(byId['jp2k/img1.bmp']).toMatchObject({ score: 30, refId: 'bikes.bmp' });
    expect(byId['gblur/img2.bmp']).toMatchObject({ score: 40.5, refId: 'womanhat.bmp' });
    expect(byId['fastfading/img1.bmp'].source.row).toBe(13);
    expect(byId['jp2k/img3.bmp']).toBeUndefined();
    expect(d.scale.direction).toBe('lower-better');
    expect(byId['jp2k/img1.bmp'].normScore).toBeCloseTo(1 - 29 / 99, 12);
  });
});

describe('csiq and tid2013', () => {
  it('csiq_label.txt with references from the names', async () => {
    const d = await loadDataset('csiq', ds('csiq'));
    expect(d.images.map((i) => [i.id, i.refId, i.score])).toEqual([
      ['1600.AWGN.1.png', '1600.png', 0.061989],
      ['1600.JPEG.3.png', '1600.png', 0.215],
      ['aerial_city.BLUR.2.png', 'aerial_city.png', 0.19],
      ['aerial_city.fnoise.5.png', 'aerial_city.png', 0.537],
    ]);
    expect(d.scale).toMatchObject({ direction: 'lower-better', range: [0, 1] });
  });
  it('mos_with_names.txt; the .BMP case mismatch resolves', async () => {
    const d = await loadDataset('tid2013', ds('tid2013'));
    expect(d.images.map((i) => [i.id, i.refId, i.score])).toEqual([
      ['i01_01_1.bmp', '01', 5.51429],
      ['i01_08_3.bmp', '01', 4.85714],
      ['i02_01_1.bmp', '02', 5.94286],
      ['i02_17_5.bmp', '02', 1.47222],
    ]);
    expect(path.basename(d.images[3].path)).toBe('i02_17_5.BMP');
  });
});

describe('csv', () => {
  it('named columns, image folder, range from the data or the caller', async () => {
    const d = await loadDataset('csv', ds('csv'), {
      file: 'scores.csv',
      imageColumn: 'file',
      label: 'quality',
      imageDir: 'imgs',
      refColumn: 'content',
    });
    expect(scores(d)).toEqual({ 'a.png': 7.5, 'b.png': 2.25, 'c.tif': 5 });
    expect(d.scale).toMatchObject({ range: [2.25, 7.5], rangeSource: 'observed' });
    expect(d.images.map((i) => i.refId)).toEqual(['x', 'y', 'x']);
    const lower = await loadDataset('csv', ds('csv'), {
      file: 'scores.csv',
      imageColumn: 'file',
      label: 'quality',
      imageDir: 'imgs',
      direction: 'lower-better',
      scoreRange: [0, 10],
    });
    expect(lower.images.map((i) => i.normScore)).toEqual([0.25, 0.775, 0.5]);
    await expect(loadDataset('csv', ds('csv'), { file: 'scores.csv', label: 'quality' })).rejects.toThrow(
      /option imageColumn is missing/,
    );
  });
});
