import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtures, iqa, repo } from './cli-run.js';

const work = mkdtempSync(join(tmpdir(), 'iqa-cli-datasets-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const bad = join(fixtures, 'datasets', 'kadid-bad');
const ok = join(fixtures, 'datasets', 'kadid-ok');
// pyiqa's data root (meta_info/ with kadid10k, koniq10k and LIVE Challenge), from the data package's fixtures
const pyiqa = join(repo, 'packages', 'data', 'fixtures', 'datasets', 'pyiqa');

describe('iqa-bench datasets', () => {
  it('verify lists every problem with file, row and expectation, and exits 2', async () => {
    const r = await iqa(['datasets', 'verify', '--dataset', `kadid10k=${bad}`]);
    expect(r.code).toBe(2);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`kadid10k (kadid10k, ${bad}): 4 image(s) listed, 1 decoded, 6 problem(s)`);
    const problems = lines.slice(3).map((l) =>
      l
        .split(/\s{2,}/)
        .slice(0, 3)
        .join(' | '),
    );
    expect(problems).toEqual([
      'missing-image | dmos.csv | 6',
      'bad-score | dmos.csv | 7',
      'path-escape | dmos.csv | 8',
      'corrupt-image | images/I01_01_02.png | 3',
      'too-many-pixels | images/I01_01_03.png | 4',
      'corrupt-image | images/I01_01_04.png | 5',
    ]);
    expect(r.stdout).toContain('image is 40000x40000 = 1600000000 pixels');
    expect(r.stdout).toContain('"dmos": score "abc" is not a number; expected a finite decimal number');
  });

  it('verify --json gives the problems as data; a clean folder exits 0', async () => {
    const r = await iqa(['datasets', 'verify', '--dataset', `kadid10k=${bad}`, '--no-decode', '--json']);
    expect(r.code).toBe(2);
    const [rep] = JSON.parse(r.stdout) as Array<{
      ok: boolean;
      decoded: number;
      problems: Array<{ code: string }>;
    }>;
    expect(rep.ok).toBe(false);
    expect(rep.decoded).toBe(0);
    expect(rep.problems.map((p) => p.code)).toEqual(['missing-image', 'bad-score', 'path-escape']);
    const clean = await iqa(['datasets', 'verify', '--dataset', `kadid10k=${ok}`]);
    expect(clean.code).toBe(0);
    expect(clean.stdout.trim()).toBe(
      `kadid10k (kadid10k, ${ok}): 15 image(s) listed, 15 decoded, no problems`,
    );
  });

  it('info and list stop at the first problem with one line naming file and row; --skip-invalid counts', async () => {
    const r = await iqa(['datasets', 'info', '--dataset', `kadid10k=${bad}`]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `iqa-bench: error: ${bad}/dmos.csv, row 6: image "I01_01_05.png" not found (looked for images/I01_01_05.png); ` +
        `expected the listed image file to exist (and 2 more problem(s): iqa-bench datasets verify --dataset kadid10k=${bad} lists them all)\n`,
    );
    const skip = await iqa(['datasets', 'info', '--dataset', `kadid10k=${bad}`, '--skip-invalid', '--json']);
    expect(skip.code).toBe(0);
    const [info] = JSON.parse(skip.stdout) as Array<{ images: number; skipped: number }>;
    expect([info.images, info.skipped]).toEqual([4, 3]);
    expect(skip.stderr).toContain('iqa-bench: warning: kadid10k: 3 image(s) skipped (--skip-invalid)');
  });

  it('info gives counts, scale and direction; list every image with its native score', async () => {
    const info = await iqa(['datasets', 'info', '--dataset', `kadid10k=${ok}`]);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain('images      15');
    expect(info.stdout).toContain('references  5');
    expect(info.stdout).toContain('score       dmos, higher-better, range [1, 5] (published)');
    const list = await iqa(['datasets', 'list', '--dataset', `kadid10k=${ok}`]);
    expect(list.code).toBe(0);
    const rows = list.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(2 + 15);
    // dmos 4.25 on [1, 5] → (4.25 − 1) / 4 = 0.8125
    expect(rows[2]).toBe('I01_01_01.png                  4.25      0.8125  I01.png');
  });

  it('split writes a reference-disjoint manifest that is identical for the same seed', async () => {
    const a = join(work, 'a.json');
    const b = join(work, 'b.json');
    for (const file of [a, b]) {
      const r = await iqa([
        'datasets',
        'split',
        '--dataset',
        `kadid10k=${ok}`,
        '--seed',
        '7',
        '--ratios',
        'train=0.6,test=0.4',
        '--out',
        file,
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /^part {3}images\n----- {2}------\ntest {8}6\ntrain {7}9\n\nrandom-by-reference split of kadid10k, seed 7, round 0; sha256:[0-9a-f]{64}\n$/,
      );
    }
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
    const m = JSON.parse(readFileSync(a, 'utf8')) as { parts: Record<string, string[]> };
    const ref = (id: string) => id.slice(0, 3);
    const trainRefs = new Set(m.parts.train.map(ref));
    expect(m.parts.test.filter((id) => trainRefs.has(ref(id)))).toEqual([]);
  });

  it.each([
    [['datasets', 'info'], 'iqa-bench: error: --dataset <key>=<path> is required'],
    [
      ['datasets', 'info', '--dataset', 'kadid=/x'],
      'iqa-bench: error: --dataset kadid=/x: unknown dataset key "kadid"; expected one of koniq10k, spaq, kadid10k',
    ],
    [
      ['datasets', 'info', '--dataset', '/data/kadid'],
      'iqa-bench: error: --dataset /data/kadid: /data/kadid: the dataset folder does not exist; expected an existing ' +
        'folder\n  name the key: --dataset <key>=/data/kadid (iqa-bench datasets keys lists them)\n',
    ],
    [
      ['datasets', 'info', '--dataset', '=/data/kadid'],
      "iqa-bench: error: option '--dataset <[name:]key=path>' argument '=/data/kadid' is invalid.",
    ],
    [
      ['datasets', 'info', '--dataset', `kadid10k=${join(fixtures, 'nope')}`],
      `iqa-bench: error: ${join(fixtures, 'nope')}`,
    ],
    [
      [
        'datasets',
        'split',
        '--dataset',
        `kadid10k=${ok}`,
        '--out',
        'x.json',
        '--ratios',
        'train=0.5,test=0.4',
      ],
      'iqa-bench: error: (split options), "ratios": ratios {"train":0.5,"test":0.4} sum to 0.9',
    ],
    [['datasets', 'frobnicate'], "iqa-bench: error: unknown command 'frobnicate'"],
    [
      ['datasets', 'info', '--dataset', 'kadid=/x'],
      'iqa-bench: error: --dataset kadid=/x: unknown dataset key "kadid"; expected one of koniq10k, spaq, kadid10k, ' +
        'agiqa3k, livec, live, csiq, tid2013, csv, or a common spelling of one (e.g. "KADID-10k", "live_challenge"); ' +
        'did you mean "kadid10k"?\n  iqa-bench datasets keys lists the keys and their layouts\n',
    ],
  ])('bad input exits 2: %j', async (args, message) => {
    const r = await iqa(args, { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(message)).toBe(true);
  });
});

describe('iqa-bench datasets: keys, spellings, detection, degenerate splits, pyiqa', () => {
  it('keys lists every key with its score and layouts (text and --json)', async () => {
    const r = await iqa(['datasets', 'keys']);
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s{2,}/));
    expect(rows[0]).toEqual(['key', 'dataset', 'score', 'layout', 'reads']);
    const kadid = rows.findIndex((c) => c[0] === 'kadid10k');
    expect(rows.slice(kadid, kadid + 3)).toEqual([
      [
        'kadid10k',
        'KADID-10k',
        'dmos [1, 5], higher-better',
        'official',
        'dmos.csv (dist_img, ref_img, dmos, var) with images/',
      ],
      ['', 'test-json', "the original's kadid_test.json, images beside it"],
      [
        '',
        'pyiqa',
        'meta_info/meta_info_KADID10kDataset.csv with kadid10k/images/ (or the meta file in the folder); split columns, split pickles',
      ],
    ]);
    const livec = rows.findIndex((c) => c[0] === 'livec');
    expect(rows[livec + 1].slice(0, 2)).toEqual(['', '(also LIVE In the Wild, LIVE-itW, CLIVE)']);
    expect(rows.find((c) => c[0] === 'live')?.slice(1, 3)).toEqual([
      'LIVE IQA (release 2)',
      'dmos_new [1, 100], lower-better',
    ]);
    const json = await iqa(['datasets', 'keys', '--json']);
    const keys = JSON.parse(json.stdout) as Array<{
      key: string;
      scale: unknown;
      layouts: Array<{ name: string }>;
    }>;
    expect(keys.map((k) => k.key)).toEqual([
      'koniq10k',
      'spaq',
      'kadid10k',
      'agiqa3k',
      'livec',
      'live',
      'csiq',
      'tid2013',
      'csv',
    ]);
    expect(keys[2].scale).toEqual({ name: 'dmos', direction: 'higher-better', range: [1, 5] });
    expect(keys[2].layouts.map((l) => l.name)).toEqual(['official', 'test-json', 'pyiqa']);
  });

  it('accepts common spellings of a key and detects the key of a folder given alone', async () => {
    const spelled = await iqa(['datasets', 'info', '--dataset', `KADID-10k=${ok}`, '--json']);
    expect(spelled.code).toBe(0);
    const [a] = JSON.parse(spelled.stdout) as Array<{ name: string; key: string; images: number }>;
    expect([a.name, a.key, a.images]).toEqual(['kadid10k', 'kadid10k', 15]);
    const alone = await iqa(['datasets', 'info', '--dataset', ok]);
    expect(alone.code).toBe(0);
    expect(alone.stderr).toBe('kadid-ok: detected kadid10k (official layout: dmos.csv, images/)\n');
    expect(alone.stdout).toContain('dataset     kadid-ok (kadid10k, official layout)');
    expect(alone.stdout).toContain('images      15');
    const verify = await iqa(['datasets', 'verify', '--dataset', ok, '--no-decode', '--quiet']);
    expect(verify.code).toBe(0);
    expect(verify.stdout.trim()).toBe(
      `kadid-ok (kadid10k, ${ok}): 15 image(s) listed, 0 decoded, no problems`,
    );
    const several = await iqa(['datasets', 'info', '--dataset', pyiqa]);
    expect(several.code).toBe(2);
    expect(several.stderr).toBe(
      `iqa-bench: error: --dataset ${pyiqa}: ${pyiqa}: the folder holds the layouts of several datasets: ` +
        'koniq10k (pyiqa: meta_info/meta_info_KonIQ10kDataset.csv, koniq10k/); ' +
        'kadid10k (pyiqa: meta_info/meta_info_KADID10kDataset.csv, kadid10k/); ' +
        'livec (pyiqa: meta_info/meta_info_LIVEChallengeDataset.csv, LIVEC/); ' +
        `expected one dataset per folder, or the key named explicitly\n  name the key: --dataset <key>=${pyiqa} ` +
        '(iqa-bench datasets keys lists them)\n',
    );
  });

  it('split refuses an empty part, naming what each part got, and writes nothing', async () => {
    const file = join(work, 'empty-test.json');
    const r = await iqa([
      'datasets',
      'split',
      '--dataset',
      `kadid10k=${ok}`,
      '--ratios',
      'train=0.9,test=0.1',
      '--out',
      file,
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `iqa-bench: error: ${ok}, "test": part "test" of the kadid10k split got 0 images in 0 reference groups, too few ` +
        'to measure (train: 15 images in 5 reference groups, test: 0 images in 0 reference groups); expected at least ' +
        '2 images in every part (a correlation needs 2); reference groups are not split, and 5 groups cannot give ' +
        'every part that at train 90 % / test 10 %: use more data or other ratios\n',
    );
    expect(existsSync(file)).toBe(false);
  });

  it('split warns on stderr when whole reference groups put val far from --val', async () => {
    const file = join(work, 'val.json');
    const r = await iqa([
      'datasets',
      'split',
      '--dataset',
      `kadid10k=${ok}`,
      '--ratios',
      'train=0.6,test=0.4',
      '--val',
      '0.1',
      '--out',
      file,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'iqa-bench: warning: the kadid10k split is train 66.7 % / val 33.3 % of the training images (6 / 3 of 9) where ' +
        'train 90 % / val 10 % of the training part was asked: reference groups are not split, and there are 3\n' +
        `wrote ${file}\n`,
    );
    const m = JSON.parse(readFileSync(file, 'utf8')) as { counts: Record<string, number> };
    expect(m.counts).toEqual({ test: 6, train: 6, val: 3 });
  });

  it("reads pyiqa's layout: published score range, split columns, and a split pickle as a shipped split", async () => {
    const info = await iqa(['datasets', 'info', '--dataset', `livec=${pyiqa}`, '--json']);
    expect(info.code).toBe(0);
    const [i] = JSON.parse(info.stdout) as Array<{
      layout: string;
      images: number;
      scale: unknown;
      splits: Record<string, Record<string, number>>;
    }>;
    expect([i.layout, i.images]).toEqual(['pyiqa', 4]);
    expect(i.scale).toEqual({
      name: 'mos',
      direction: 'higher-better',
      range: [0, 100],
      rangeSource: 'published',
    });
    expect(i.splits).toEqual({
      ratio802_seed123_split_01: { train: 3, test: 1 },
      ratio802_seed123_split_02: { train: 3, test: 1 },
    });
    const file = join(work, 'pkl.json');
    const split = await iqa([
      'datasets',
      'split',
      '--dataset',
      `kadid10k=${pyiqa}`,
      '--split-file',
      'meta_info/kadid10k_seed123.pkl',
      '--shipped',
      'kadid10k_seed123.pkl#2',
      '--out',
      file,
      '--quiet',
    ]);
    expect(split.code).toBe(0);
    const m = JSON.parse(readFileSync(file, 'utf8')) as { method: string; parts: Record<string, string[]> };
    expect(m.method).toBe('kadid10k_seed123.pkl#2');
    expect(m.parts).toEqual({
      train: ['I02_01_01.png', 'I02_01_03.png', 'I02_12_05.png'],
      val: ['I01_01_01.png', 'I01_01_03.png', 'I01_12_05.png'],
    });
  });
});

describe('iqa-bench synth', () => {
  it('writes a dataset the adapter reads back; same seed same hash, other seed other hash', async () => {
    const run = async (dir: string, seed: string) => {
      const r = await iqa([
        'synth',
        '--layout',
        'kadid10k',
        '--out',
        join(work, dir),
        '--seed',
        seed,
        '--refs',
        '2',
        '--size',
        '48x32',
        '--json',
      ]);
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as { images: number; references: number; hash: string };
    };
    const [a, b, c] = [await run('s1', '5'), await run('s2', '5'), await run('s3', '6')];
    expect([a.images, a.references]).toEqual([50, 2]);
    expect(b.hash).toBe(a.hash);
    expect(c.hash).not.toBe(a.hash);
    const verify = await iqa(['datasets', 'verify', '--dataset', `kadid10k=${join(work, 's1')}`]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('50 image(s) listed, 50 decoded, no problems');
  });

  it('refuses a non-empty folder without --force, and a bad layout', async () => {
    writeFileSync(join(work, 'keep.txt'), 'x');
    const r = await iqa(['synth', '--layout', 'koniq10k', '--out', work]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `iqa-bench: error: --out ${work}: the folder is not empty; choose an empty one or pass --force\n`,
    );
    const l = await iqa(['synth', '--layout', 'livec', '--out', join(work, 'x')]);
    expect(l.code).toBe(2);
    expect(
      l.stderr.startsWith(
        "iqa-bench: error: option '--layout <layout>' argument 'livec' is invalid. Allowed choices are kadid10k, koniq10k.",
      ),
    ).toBe(true);
  });
});
