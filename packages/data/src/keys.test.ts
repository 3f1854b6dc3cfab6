import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from './adapters/index.js';
import { DatasetError } from './errors.js';
import { datasetKeys, detectDatasetKey, resolveDatasetKey, suggestDatasetKey } from './keys.js';
import { DATASET_KEYS, type DatasetKey } from './types.js';

const fixtures = fileURLToPath(new URL('../fixtures/datasets/', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'iqa-data-keys-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('dataset keys', () => {
  it.each([
    ['kadid10k', 'kadid10k'],
    ['KADID-10k', 'kadid10k'],
    ['kadid_10k', 'kadid10k'],
    ['KonIQ-10k', 'koniq10k'],
    ['live_challenge', 'livec'],
    ['LIVE Challenge', 'livec'],
    ['CLIVE', 'livec'],
    ['LIVE-itW', 'livec'],
    ['LIVE', 'live'],
    ['live_iqa', 'live'],
    ['AGIQA-3K', 'agiqa3k'],
    ['TID-2013', 'tid2013'],
    ['spaq', 'spaq'],
  ])('accepts the spelling %j as %s', (spelling, key) => {
    expect(resolveDatasetKey(spelling)).toBe(key);
  });

  it('refuses other spellings with the keys and the nearest one', () => {
    let err: unknown;
    try {
      resolveDatasetKey('kadid');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).message).toBe(
      '(dataset key): unknown dataset key "kadid"; expected one of koniq10k, spaq, kadid10k, agiqa3k, livec, live, ' +
        'csiq, tid2013, csv, or a common spelling of one (e.g. "KADID-10k", "live_challenge"); did you mean "kadid10k"?',
    );
    expect(() => resolveDatasetKey('imagenet')).toThrow(
      /unknown dataset key "imagenet"; expected one of .*"live_challenge"\)$/,
    );
  });

  it.each([
    ['kadid', 'kadid10k'], // a prefix of the key
    ['koniq', 'koniq10k'],
    ['Kadid10', 'kadid10k'],
    ['kadid1k', 'kadid10k'], // one deletion away
    ['tid2031', 'tid2013'], // two substitutions
    ['spqa', 'spaq'],
    ['csqi', 'csiq'],
    ['livechalenge', 'livec'],
    ['KADID-10k', 'kadid10k'], // a valid spelling suggests its own key
  ])('suggests %j → %s', (spelling, key) => {
    expect(suggestDatasetKey(spelling)).toBe(key);
  });

  it.each(['imagenet', 'xyz', '', '--'])('suggests nothing for %j', (spelling) => {
    expect(suggestDatasetKey(spelling)).toBeUndefined();
  });

  it('lists every key with its title, score scale and layouts', () => {
    const keys = datasetKeys();
    expect(keys.map((k) => k.key)).toEqual([...DATASET_KEYS]);
    const kadid = keys.find((k) => k.key === 'kadid10k');
    expect(kadid).toMatchObject({
      title: 'KADID-10k',
      referenceBased: true,
      scale: { name: 'dmos', direction: 'higher-better', range: [1, 5] },
    });
    expect(kadid?.layouts.map((l) => [l.name, l.markers])).toEqual([
      ['official', [['dmos.csv', 'images/']]],
      ['test-json', [['kadid_test.json']]],
      [
        'pyiqa',
        [['meta_info_KADID10kDataset.csv'], ['meta_info/meta_info_KADID10kDataset.csv', 'kadid10k/']],
      ],
    ]);
    expect(keys.find((k) => k.key === 'csv')?.scale.range).toBeNull();
    expect(keys.filter((k) => k.layouts.some((l) => l.name === 'pyiqa')).map((k) => k.key)).toEqual([
      'koniq10k',
      'spaq',
      'kadid10k',
      'livec',
      'live',
      'csiq',
      'tid2013',
    ]);
    // a copy: changing it changes nothing
    kadid?.scale.range?.splice(0, 2, 0, 0);
    expect(datasetKeys().find((k) => k.key === 'kadid10k')?.scale.range).toEqual([1, 5]);
  });

  it.each([
    ['kadid10k', 'kadid10k'],
    ['koniq10k', 'koniq10k'],
    ['spaq', 'spaq'],
    ['agiqa3k', 'agiqa3k'],
    ['livec', 'livec'],
    ['live', 'live'],
    ['csiq', 'csiq'],
    ['tid2013', 'tid2013'],
  ] as [string, DatasetKey][])(
    'the catalogue scale of %s is what its official fixture loads with',
    async (folder, key) => {
      const ds = await loadDataset(key, path.join(fixtures, folder));
      const info = datasetKeys().find((k) => k.key === key);
      expect(ds.layout).toBe('official');
      expect(info?.scale).toEqual({
        name: ds.scale.name,
        direction: ds.scale.direction,
        range: ds.scale.range,
      });
      expect(ds.scale.rangeSource).toBe('published');
      expect(info?.referenceBased).toBe(ds.referenceBased);
    },
  );
});

describe('detectDatasetKey', () => {
  it.each([
    ['kadid10k', 'kadid10k', 'official', ['dmos.csv', 'images/']],
    ['kadid-test', 'kadid10k', 'test-json', ['kadid_test.json']],
    ['koniq10k', 'koniq10k', 'official', ['koniq10k_scores_and_distributions.csv']],
    ['koniq10k-seed', 'koniq10k', 'seed-json', ['koniq_train.json']],
    ['koniq-test', 'koniq10k', 'test-json', ['koniq_test.json']],
    ['spaq', 'spaq', 'official', ['Annotations/MOS and Image attribute scores.xlsx']],
    ['spaq-test', 'spaq', 'test-json', ['spaq_test.json']],
    ['agiqa3k', 'agiqa3k', 'official', ['data.csv', 'AGIQA-3K/']],
    ['agiqa-test', 'agiqa3k', 'test-json', ['agiqa_test.json']],
    ['livec', 'livec', 'official', ['Data/AllImages_release.mat', 'Data/AllMOS_release.mat']],
    ['live', 'live', 'official', ['dmos_realigned.mat', 'refnames_all.mat']],
    ['csiq', 'csiq', 'official', ['csiq_label.txt']],
    ['tid2013', 'tid2013', 'official', ['mos_with_names.txt']],
  ])('%s: %s (%s) from %j', async (folder, key, layout, markers) => {
    expect(await detectDatasetKey(path.join(fixtures, folder))).toEqual({ key, layout, markers });
  });

  it('finds pyiqa meta files in the folder or in meta_info/ beside the dataset folder', async () => {
    const flat = path.join(work, 'flat');
    mkdirSync(flat);
    writeFileSync(path.join(flat, 'meta_info_TID2013Dataset.csv'), 'ref_name,dist_name,mos,std\n');
    expect(await detectDatasetKey(flat)).toEqual({
      key: 'tid2013',
      layout: 'pyiqa',
      markers: ['meta_info_TID2013Dataset.csv'],
    });
    // pyiqa downloads every meta file into meta_info/; the extracted dataset folder tells which one is there
    const root = path.join(work, 'datasets');
    mkdirSync(path.join(root, 'meta_info'), { recursive: true });
    mkdirSync(path.join(root, 'CSIQ'));
    for (const name of ['CSIQ', 'KADID10k', 'KonIQ10k', 'LIVEChallenge', 'TID2013'])
      writeFileSync(path.join(root, 'meta_info', `meta_info_${name}Dataset.csv`), 'x\n');
    expect(await detectDatasetKey(root)).toEqual({
      key: 'csiq',
      layout: 'pyiqa',
      markers: ['meta_info/meta_info_CSIQDataset.csv', 'CSIQ/'],
    });
  });

  it('refuses a folder with several datasets, listing them', async () => {
    const root = path.join(fixtures, 'pyiqa');
    await expect(detectDatasetKey(root)).rejects.toThrow(
      `${root}: the folder holds the layouts of several datasets: ` +
        'koniq10k (pyiqa: meta_info/meta_info_KonIQ10kDataset.csv, koniq10k/); ' +
        'kadid10k (pyiqa: meta_info/meta_info_KADID10kDataset.csv, kadid10k/); ' +
        'livec (pyiqa: meta_info/meta_info_LIVEChallengeDataset.csv, LIVEC/); ' +
        'expected one dataset per folder, or the key named explicitly',
    );
  });

  it('refuses a folder with no known layout, saying what it looked for', async () => {
    const root = path.join(fixtures, 'csv');
    const err = await detectDatasetKey(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).code).toBe('missing-metadata');
    expect((err as DatasetError).message).toBe(
      `${root}: no published dataset layout found in the folder; expected the files of one layout (` +
        'koniq10k: koniq10k_scores_and_distributions.csv; spaq: MOS and Image attribute scores.xlsx; kadid10k: dmos.csv with images/; ' +
        'agiqa3k: data.csv with AGIQA-3K/; livec: Data/AllImages_release.mat with Data/AllMOS_release.mat; ' +
        'live: dmos_realigned.mat with refnames_all.mat; csiq: csiq_label.txt; tid2013: mos_with_names.txt; ' +
        "or pyiqa's meta_info/), or the key named explicitly",
    );
    await expect(detectDatasetKey(path.join(work, 'nope'))).rejects.toThrow(
      /the dataset folder does not exist/,
    );
  });
});
