import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { element, int32s, matFile, matrix } from '../__tests__/mat.js';
import { pngWithHeader } from '../__tests__/png.js';
import { DatasetError, formatProblem } from '../errors.js';
import { loadDataset, verify } from './index.js';

const fixtures = fileURLToPath(new URL('../../fixtures/datasets/', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'iqa-data-bad-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;

/** A fresh copy of a fixture dataset to break. */
function copy(name: string): string {
  const dst = path.join(work, `${name}-${n++}`);
  cpSync(path.join(fixtures, name), dst, { recursive: true });
  return dst;
}

async function loadError(p: Promise<unknown>): Promise<DatasetError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DatasetError);
  return e as DatasetError;
}

function edit(file: string, f: (s: string) => string): void {
  writeFileSync(file, f(readFileSync(file, 'utf8')));
}

describe('bad input: each problem names the file, the row and the expectation', () => {
  it('missing metadata file', async () => {
    const root = copy('kadid10k');
    rmSync(path.join(root, 'dmos.csv'));
    const e = await loadError(loadDataset('kadid10k', root));
    expect(e.code).toBe('missing-metadata');
    expect(e.message).toContain(path.join(root, 'dmos.csv'));
    expect(e.message).toMatch(/not found; expected the file dmos\.csv/);
  });

  it('missing folder and unknown kind', async () => {
    await expect(loadDataset('kadid10k', path.join(work, 'does-not-exist'))).rejects.toThrow(
      /the dataset folder does not exist/,
    );
    await expect(loadDataset('kadid' as 'kadid10k', fixtures)).rejects.toThrow(
      /unknown dataset kind "kadid"; expected one of koniq10k, spaq/,
    );
  });

  it('misspelled column, with a suggestion', async () => {
    const root = copy('kadid10k');
    edit(path.join(root, 'dmos.csv'), (s) => s.replace('dmos,var', 'dmso,var'));
    const e = await loadError(loadDataset('kadid10k', root));
    expect(e.code).toBe('missing-column');
    expect(e.row).toBe(1);
    expect(e.message).toMatch(
      /dmos\.csv, row 1, "dmos": no column "dmos" in the header \["dist_img", "ref_img", "dmso", "var"\] \(did you mean "dmso"\?\)/,
    );
  });

  it('misspelled column in the SPAQ workbook', async () => {
    const root = copy('spaq');
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Sheet1');
    ws.addRow(['Image name', 'M0S', 'Brightness']);
    ws.addRow(['00001.jpg', 42.5, 50.1]);
    await wb.xlsx.writeFile(path.join(root, 'Annotations', 'MOS and Image attribute scores.xlsx'));
    const e = await loadError(loadDataset('spaq', root));
    expect(e.code).toBe('missing-column');
    expect(e.message).toMatch(
      /MOS and Image attribute scores\.xlsx, row 1, "MOS": no column "MOS" .*did you mean "M0S"/,
    );
  });

  it('a score that is not a number', async () => {
    const root = copy('kadid10k');
    edit(path.join(root, 'dmos.csv'), (s) =>
      s.replace('I01_01_03.png,I01.png,3.6', 'I01_01_03.png,I01.png,3.6x'),
    );
    const e = await loadError(loadDataset('kadid10k', root));
    expect(e.code).toBe('bad-score');
    expect(e.row).toBe(3);
    expect(e.message).toMatch(
      /dmos\.csv, row 3, "dmos": score "3\.6x" is not a number; expected a finite decimal number/,
    );
  });

  it('a listed image that does not exist', async () => {
    const root = copy('tid2013');
    rmSync(path.join(root, 'distorted_images', 'i01_08_3.bmp'));
    const e = await loadError(loadDataset('tid2013', root));
    expect(e.code).toBe('missing-image');
    expect(e.row).toBe(2);
    expect(e.message).toContain('mos_with_names.txt, row 2');
    expect(e.message).toMatch(
      /image "i01_08_3\.bmp" not found \(looked for distorted_images\/i01_08_3\.bmp\); expected the listed image file to exist/,
    );
  });

  it('paths that escape the root: ../, absolute, and a symlink out', async () => {
    const root = copy('csv');
    const outside = path.join(work, 'outside.png');
    cpSync(path.join(root, 'imgs', 'a.png'), outside);
    symlinkSync(outside, path.join(root, 'imgs', 'link.png'));
    writeFileSync(
      path.join(root, 'scores.csv'),
      `file,quality\n../../outside.png,1\n${outside},2\nlink.png,3\na.png,4\n`,
    );
    const r = await verify('csv', root, {
      file: 'scores.csv',
      imageColumn: 'file',
      label: 'quality',
      imageDir: 'imgs',
    });
    expect(r.problems.map((p) => [p.code, p.row])).toEqual([
      ['path-escape', 2],
      ['path-escape', 3],
      ['path-escape', 4],
    ]);
    expect(r.problems[0].message).toMatch(/"\.\.\/\.\.\/outside\.png" escapes the dataset folder/);
    expect(r.problems[1].message).toMatch(/is absolute/);
    expect(r.problems[2].message).toMatch(/imgs\/link\.png is a link that leads outside the dataset folder/);
    expect(r.images).toBe(1);
    // A symlink that stays inside the root is fine.
    symlinkSync(path.join(root, 'imgs', 'b.png'), path.join(root, 'imgs', 'inside.png'));
    writeFileSync(path.join(root, 'scores.csv'), 'file,quality\ninside.png,1\n');
    expect(
      (
        await loadDataset('csv', root, {
          file: 'scores.csv',
          imageColumn: 'file',
          label: 'quality',
          imageDir: 'imgs',
        })
      ).images,
    ).toHaveLength(1);
  });

  it('an option path that escapes the root', async () => {
    await expect(
      loadDataset('csv', path.join(fixtures, 'csv'), {
        file: '../kadid10k/dmos.csv',
        imageColumn: 'dist_img',
        label: 'dmos',
      }),
    ).rejects.toThrow(/escapes the dataset folder/);
    await expect(
      loadDataset('agiqa3k', path.join(fixtures, 'agiqa3k'), { imageDir: '../kadid10k/images' }),
    ).rejects.toThrow(/escapes the dataset folder/);
  });

  it('corrupt and truncated images, and a pixel bomb, are found by verify', async () => {
    const root = copy('kadid10k');
    const img = path.join(root, 'images', 'I01_01_01.png');
    writeFileSync(img, readFileSync(img).subarray(0, 60));
    writeFileSync(path.join(root, 'images', 'I02_01_01.png'), 'not a png');
    writeFileSync(path.join(root, 'images', 'I01_12_05.png'), pngWithHeader(40000, 40000));
    const r = await verify('kadid10k', root);
    expect(r.ok).toBe(false);
    const byId = Object.fromEntries(r.problems.map((p) => [p.imageId, p]));
    expect(byId['I01_01_01.png'].code).toBe('corrupt-image');
    expect(byId['I01_01_01.png'].row).toBe(2);
    expect(byId['I01_01_01.png'].message).toMatch(/cannot decode the image .*\(listed in dmos\.csv\)/);
    expect(byId['I02_01_01.png'].code).toBe('corrupt-image');
    expect(byId['I01_12_05.png'].code).toBe('too-many-pixels');
    expect(formatProblem(byId['I01_12_05.png'])).toMatch(
      /I01_12_05\.png, row 4: image is 40000x40000 = 1600000000 pixels .*; expected at most 100000000 pixels/,
    );
    expect(r.decoded).toBe(3);
  });

  it('verify lists every problem at once; load stops at the first and counts the rest', async () => {
    const root = copy('kadid10k');
    edit(path.join(root, 'dmos.csv'), (s) =>
      s
        .replace('I01_01_03.png,I01.png,3.6', 'I01_01_03.png,I01.png,n/a')
        .replace('I02_12_05.png', 'I02_12_09.png'),
    );
    rmSync(path.join(root, 'images', 'I02_01_01.png'));
    const r = await verify('kadid10k', root);
    expect(r.problems.map((p) => [p.code, p.row, p.imageId])).toEqual([
      ['bad-score', 3, 'I01_01_03.png'],
      ['missing-image', 5, 'I02_01_01.png'],
      ['missing-image', 7, 'I02_12_09.png'],
    ]);
    expect(r.decoded).toBe(3);
    const e = await loadError(loadDataset('kadid10k', root));
    expect(e.message).toMatch(/row 3.*\(and 2 more problem\(s\); run verify\(\) to list them all\)/);
    expect(e.problems).toHaveLength(3);
  });

  it('skipping is explicit and counted', async () => {
    const root = copy('kadid10k');
    rmSync(path.join(root, 'images', 'I02_01_01.png'));
    const d = await loadDataset('kadid10k', root, { onInvalid: 'skip' });
    expect(d.images.map((i) => i.id)).not.toContain('I02_01_01.png');
    expect(d.images).toHaveLength(5);
    expect(d.skipped).toHaveLength(1);
    expect(d.skipped[0].id).toBe('I02_01_01.png');
    expect(d.skipped[0].reason).toMatch(/dmos\.csv, row 5: image "I02_01_01\.png" not found/);
  });

  it('a missing metadata file is never skipped', async () => {
    const root = copy('livec');
    rmSync(path.join(root, 'Data', 'AllMOS_release.mat'));
    await expect(loadDataset('livec', root, { onInvalid: 'skip' })).rejects.toThrow(
      /AllMOS_release\.mat: MAT-file not found/,
    );
    const r = await verify('livec', root);
    expect(r.problems.map((p) => p.code)).toEqual(['missing-metadata']);
  });

  it('malformed JSON lists and mismatched .mat lengths', async () => {
    const root = copy('spaq-test');
    writeFileSync(path.join(root, 'spaq_test.json'), '[{"image": "00007.jpg", "score": 1}, {"img": "x"}, 5]');
    const r = await verify('spaq', root);
    expect(r.problems.map((p) => [p.code, p.row, p.field])).toEqual([
      ['missing-column', 2, 'image'],
      ['bad-metadata', 3, undefined],
    ]);
    writeFileSync(path.join(root, 'spaq_test.json'), '{"image": 1');
    await expect(loadDataset('spaq', root)).rejects.toThrow(/spaq_test\.json: invalid JSON/);
    const live = copy('live');
    rmSync(path.join(live, 'fastfading', 'img3.bmp'));
    await expect(loadDataset('live', live)).rejects.toThrow(
      /15 scores but the folders hold 14 images \(jp2k 3, jpeg 3, wn 3, gblur 3, fastfading 2\)/,
    );
  });

  it('a duplicate row and a bad KonIQ set value', async () => {
    const root = copy('koniq10k');
    edit(path.join(root, 'koniq10k_distributions_sets.csv'), (s) => s.replace(',validation', ',valid'));
    edit(path.join(root, 'koniq10k_scores_and_distributions.csv'), (s) => s + s.split('\n')[1] + '\n');
    const r = await verify('koniq10k', root, { decode: false });
    expect(r.problems.map((p) => [p.code, p.row, p.field])).toEqual([
      ['bad-metadata', 5, 'set'],
      ['duplicate-image', 8, 'MOS_zscore'],
    ]);
    expect(formatProblem(r.problems[0])).toMatch(
      /koniq10k_distributions_sets\.csv, row 5, "set": set "valid"; expected "training", "validation" or "test"/,
    );
  });

  it('a MAT-file whose char array holds int32 0x7fffffff is a DatasetError naming the file and variable', async () => {
    const root = copy('live');
    const file = path.join(root, 'refnames_all.mat');
    const name = matrix('', 4, [1, 1], element(5, int32s([0x7fffffff])));
    writeFileSync(file, matFile(matrix('refnames_all', 1, [1, 1], name)));
    const e = await loadError(loadDataset('live', root));
    expect(e.code).toBe('bad-metadata');
    expect(e.file).toBe(file);
    expect(e.field).toBe('refnames_all');
    expect(e.message).toBe(
      `${file}, "refnames_all": char array "refnames_all"{1} holds 2147483647 at position 1, which is not a character ` +
        "(expected MATLAB's UTF-16 code units, integers 0-65535); expected a MATLAB 5 (v6/v7) MAT-file",
    );
  });

  it('a workbook that is not a workbook', async () => {
    const root = copy('spaq');
    writeFileSync(path.join(root, 'Annotations', 'MOS and Image attribute scores.xlsx'), 'image,mos\n');
    await expect(loadDataset('spaq', root)).rejects.toThrow(/cannot be read as an XLSX workbook/);
  });

  it('a damaged SPAQ workbook rejects instead of leaving loadDataset pending', async () => {
    const root = copy('spaq');
    const file = path.join(root, 'Annotations', 'MOS and Image attribute scores.xlsx');
    cpSync(path.join(fixtures, '..', 'xlsx', 'spaq-cut19-at-2210.xlsx'), file);
    const e = await loadError(loadDataset('spaq', root));
    expect(e.code).toBe('bad-metadata');
    expect(e.file).toBe(file);
    expect(e.message).toMatch(
      /cannot be read as an XLSX workbook \(damaged zip container: the central directory/,
    );
  });

  it('metadata larger than the bound', async () => {
    await expect(
      loadDataset('kadid10k', path.join(fixtures, 'kadid10k'), { maxMetadataBytes: 50 }),
    ).rejects.toThrow(/dmos\.csv: dmos\.csv is \d+ bytes; expected at most 50 bytes/);
  });
});
