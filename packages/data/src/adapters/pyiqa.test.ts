import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../errors.js';
import { shippedSplit } from '../splits.js';
import { loadDataset } from './index.js';

// Fixtures written by tools/fixtures/data/make_fixture_pyiqa.py in pyiqa's layout (its data root: meta_info/ and one
// folder per dataset; split pickles made by Python's pickle, protocol 4).
const datasets = fileURLToPath(new URL('../../fixtures/datasets/', import.meta.url));
const root = path.join(datasets, 'pyiqa');
const work = mkdtempSync(path.join(tmpdir(), 'iqa-data-pyiqa-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const loadError = async (p: Promise<unknown>): Promise<DatasetError> => {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DatasetError);
  return e as DatasetError;
};

describe('pyiqa layout', () => {
  it('reads a full-reference meta file (ref_name, dist_name, dmos) on the published scale', async () => {
    const ds = await loadDataset('kadid10k', root);
    expect(ds.layout).toBe('pyiqa');
    expect(ds.metadataFiles).toEqual([path.join(root, 'meta_info', 'meta_info_KADID10kDataset.csv')]);
    // the published 1–5 scale, not the observed 1.1–4.57
    expect(ds.scale).toEqual({
      name: 'dmos',
      direction: 'higher-better',
      range: [1, 5],
      rangeSource: 'published',
    });
    expect(ds.referenceBased).toBe(true);
    expect(ds.images.map((i) => [i.id, i.score, i.normScore, i.refId, i.source.row])).toEqual([
      ['I01_01_01.png', 4.57, (4.57 - 1) / 4, 'I01.png', 2],
      ['I01_01_03.png', 3.6, (3.6 - 1) / 4, 'I01.png', 3],
      ['I01_12_05.png', 1.37, (1.37 - 1) / 4, 'I01.png', 4],
      ['I02_01_01.png', 4.3, (4.3 - 1) / 4, 'I02.png', 5],
      ['I02_01_03.png', 3.1, (3.1 - 1) / 4, 'I02.png', 6],
      ['I02_12_05.png', 1.1, (1.1 - 1) / 4, 'I02.png', 7],
    ]);
    expect(ds.images[0].path).toBe(path.join(root, 'kadid10k', 'images', 'I01_01_01.png'));
    // the same ids and scores as the official layout of the same images
    const official = await loadDataset('kadid10k', path.join(datasets, 'kadid10k'));
    expect(ds.images.map((i) => [i.id, i.score, i.normScore, i.refId])).toEqual(
      official.images.map((i) => [i.id, i.score, i.normScore, i.refId]),
    );
    expect(ds.splits).toEqual({});
  });

  it('reads split pickles (rows of the meta file; an empty part is no part) with the safe unpickler', async () => {
    const ds = await loadDataset('kadid10k', root, { splitFile: 'meta_info/kadid10k_seed123.pkl' });
    expect(ds.metadataFiles).toEqual([
      path.join(root, 'meta_info', 'meta_info_KADID10kDataset.csv'),
      path.join(root, 'meta_info', 'kadid10k_seed123.pkl'),
    ]);
    expect(ds.splits).toEqual({
      'kadid10k_seed123.pkl#1': {
        name: 'kadid10k_seed123.pkl#1',
        parts: {
          train: ['I01_01_01.png', 'I01_01_03.png', 'I01_12_05.png'],
          val: ['I02_01_01.png', 'I02_01_03.png', 'I02_12_05.png'],
        },
      },
      'kadid10k_seed123.pkl#2': {
        name: 'kadid10k_seed123.pkl#2',
        parts: {
          train: ['I02_01_01.png', 'I02_01_03.png', 'I02_12_05.png'],
          val: ['I01_01_01.png', 'I01_01_03.png', 'I01_12_05.png'],
        },
      },
    });
    expect(shippedSplit(ds, 'kadid10k_seed123.pkl#2')).toMatchObject({
      dataset: 'kadid10k',
      method: 'kadid10k_seed123.pkl#2',
      parts: { val: ['I01_01_01.png', 'I01_01_03.png', 'I01_12_05.png'] },
    });
  });

  it('reads a no-reference meta file (name, mos) and its split column like the official split', async () => {
    const ds = await loadDataset('koniq10k', root);
    expect(ds.layout).toBe('pyiqa');
    expect(ds.scale).toEqual({
      name: 'mos',
      direction: 'higher-better',
      range: [1, 100],
      rangeSource: 'published',
    });
    expect(ds.images.map((i) => [i.id, i.score])).toEqual([
      ['10004473376.jpg', 71.23],
      ['10007357496.jpg', 58.02],
      ['10008131804.jpg', 39.94],
      ['10028923424.jpg', 80.64],
      ['10031057554.jpg', 21.9],
      ['100483451.jpg', 63.07],
    ]);
    expect(ds.images[0].path).toBe(path.join(root, 'koniq10k', '512x384', '10004473376.jpg'));
    const split = shippedSplit(ds, 'official_split');
    expect(split.parts).toEqual({
      train: ['10004473376.jpg', '10007357496.jpg', '100483451.jpg'],
      test: ['10008131804.jpg', '10031057554.jpg'],
      val: ['10028923424.jpg'],
    });
    const official = await loadDataset('koniq10k', path.join(datasets, 'koniq10k'), { label: 'MOS_zscore' });
    expect(split.parts).toEqual(shippedSplit(official, 'official').parts);
  });

  it("drops LIVE Challenge's 7 training rows as pyiqa does: split columns and pickle rows count after them", async () => {
    const ds = await loadDataset('livec', root, { splitFile: 'meta_info/livechallenge_seed123.pkl' });
    expect(ds.scale).toEqual({
      name: 'mos',
      direction: 'higher-better',
      range: [0, 100],
      rangeSource: 'published',
    });
    expect(ds.images.map((i) => [i.id, i.score, i.normScore, i.source.row])).toEqual([
      ['1000.JPG', 61.25, 0.6125, 9],
      ['1001.JPG', 44.5, 0.445, 10],
      ['3.bmp', 30.125, 0.30125, 11],
      ['5.bmp', 72.875, 0.72875, 12],
    ]);
    expect(Object.fromEntries(Object.entries(ds.splits).map(([k, s]) => [k, s.parts]))).toEqual({
      ratio802_seed123_split_01: { train: ['1000.JPG', '3.bmp', '5.bmp'], test: ['1001.JPG'] },
      ratio802_seed123_split_02: { train: ['1001.JPG', '3.bmp', '5.bmp'], test: ['1000.JPG'] },
      'livechallenge_seed123.pkl#1': { train: ['1000.JPG', '1001.JPG', '3.bmp'], val: ['5.bmp'] },
    });
  });

  it('is chosen only when the folder has none of the key’s own layouts, or when asked for', async () => {
    const both = path.join(work, 'both');
    cpSync(path.join(datasets, 'kadid10k'), both, { recursive: true });
    cpSync(
      path.join(root, 'meta_info', 'meta_info_KADID10kDataset.csv'),
      path.join(both, 'meta_info_KADID10kDataset.csv'),
    );
    expect((await loadDataset('kadid10k', both)).layout).toBe('official');
    const forced = await loadDataset('kadid10k', both, { layout: 'pyiqa' });
    expect(forced.layout).toBe('pyiqa');
    expect(forced.metadataFiles).toEqual([path.join(both, 'meta_info_KADID10kDataset.csv')]);
    expect(forced.images).toHaveLength(6);
  });

  it.each([
    ['bad/row-out-of-range.pkl', '"[1].train[2]": 6 is not a row of the meta file (0 to 5)'],
    ['bad/row-twice.pkl', '"[1].val[0]": row 2 is also in part "train"'],
    [
      'bad/global.pkl',
      `"(pickle)": refusing to load: the pickle refers to the Python global 'posix.system', which is not allowed`,
    ],
  ])('refuses the split pickle %s, naming the file and the entry', async (file, message) => {
    const e = await loadError(loadDataset('kadid10k', root, { splitFile: file }));
    expect(e.code).toBe('bad-metadata');
    expect(e.file).toBe(path.join(root, file));
    expect(e.message.startsWith(`${path.join(root, file)}, ${message}`)).toBe(true);
    expect(e.expected).toBe(
      "a pyiqa split file: a pickled dict {index: {'train': [row, ...], 'val': [...], 'test': [...]}} of ints, strings and lists",
    );
  });

  it('refuses a truncated or non-dict pickle, a split file outside the root or with another layout', async () => {
    const folder = path.join(work, 'trunc');
    cpSync(root, folder, { recursive: true });
    const pkl = path.join(folder, 'meta_info', 'kadid10k_seed123.pkl');
    writeFileSync(pkl, readFileSync(pkl).subarray(0, 40));
    let e = await loadError(loadDataset('kadid10k', folder, { splitFile: 'meta_info/kadid10k_seed123.pkl' }));
    // the frame header (protocol 4) promises 88 bytes
    expect(e.message).toContain(
      'kadid10k_seed123.pkl, "(pickle)": pickle at byte 2: declared length 88 exceeds the data (40 bytes); expected',
    );
    // pickle.dumps([1, 2]) with protocol 2: a list, not a dict
    writeFileSync(pkl, Buffer.from('80025d7100284b014b02652e', 'hex'));
    e = await loadError(loadDataset('kadid10k', folder, { splitFile: 'meta_info/kadid10k_seed123.pkl' }));
    expect(e.message).toContain('kadid10k_seed123.pkl, "(top level)": a list;');
    e = await loadError(loadDataset('kadid10k', root, { splitFile: '../kadid10k/dmos.csv' }));
    expect(e.code).toBe('path-escape');
    e = await loadError(loadDataset('kadid10k', path.join(datasets, 'kadid10k'), { splitFile: 'x.pkl' }));
    expect(e.code).toBe('bad-option');
    expect(e.field).toBe('splitFile');
    expect(e.message).toContain("a split pickle indexes the rows of pyiqa's meta file");
  });

  it('refuses a meta file without a score column, a label it does not have, and keys pyiqa does not know', async () => {
    const folder = path.join(work, 'narrow');
    cpSync(path.join(root, 'kadid10k'), path.join(folder, 'kadid10k'), { recursive: true });
    writeFileSync(
      path.join(folder, 'meta_info_KADID10kDataset.csv'),
      'ref_name,dist_name\nI01.png,I01_01_01.png\n',
    );
    let e = await loadError(loadDataset('kadid10k', folder));
    expect(e.code).toBe('missing-column');
    expect(e.message).toContain(
      'the header has 2 column(s): ["ref_name","dist_name"]; expected pyiqa\'s full-reference columns: reference name, image name, score, ...',
    );
    e = await loadError(loadDataset('koniq10k', root, { label: 'MOS_zscore' }));
    expect(e.message).toContain('label "MOS_zscore", but pyiqa\'s score is column 2 ("mos")');
    e = await loadError(loadDataset('agiqa3k', root, { layout: 'pyiqa' }));
    expect(e.message).toContain('pyiqa has no layout for agiqa3k');
    e = await loadError(loadDataset('csiq', root, { layout: 'pyiqa' }));
    expect(e.code).toBe('missing-metadata');
    expect(e.message).toContain(
      'meta_info_CSIQDataset.csv not found (looked in the folder and in meta_info/)',
    );
  });
});
