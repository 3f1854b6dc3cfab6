import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtures, iqa } from './cli-run.js';

const work = mkdtempSync(join(tmpdir(), 'iqa-cli-datasets-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const bad = join(fixtures, 'datasets', 'kadid-bad');
const ok = join(fixtures, 'datasets', 'kadid-ok');

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
      "iqa-bench: error: option '--dataset <[name:]key=path>' argument '/data/kadid' is invalid.",
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
  ])('bad input exits 2: %j', async (args, message) => {
    const r = await iqa(args, { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(message)).toBe(true);
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
