import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from './adapters/index.js';
import { decodeImage } from './image/decode.js';
import { shippedSplit } from './splits.js';
import { DISTORTIONS, generateSynthetic } from './synthetic.js';
import { tempDir } from '../../../tools/testing/temp-dir.js';

const work = tempDir('iqa-data-synth-');
const out = (name: string): string => path.join(work, name);

function diskHash(root: string, files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) {
    const b = readFileSync(path.join(root, f));
    h.update(f).update('\0').update(String(b.length)).update('\0').update(b);
  }
  return h.digest('hex');
}

describe('generateSynthetic', () => {
  it('kadid10k layout: same seed, same bytes; another seed, other bytes; read by the kadid10k adapter', async () => {
    const opts = { layout: 'kadid10k' as const, seed: 11, refs: 2, width: 64, height: 48 };
    const a = await generateSynthetic({ ...opts, out: out('k1') });
    const b = await generateSynthetic({ ...opts, out: out('k2') });
    expect(a.files).toHaveLength(2 + 2 * 25 + 1);
    expect(b.hash).toBe(a.hash);
    expect(diskHash(a.root, a.files)).toBe(a.hash);
    expect(diskHash(b.root, b.files)).toBe(a.hash);
    const c = await generateSynthetic({ ...opts, seed: 12, out: out('k3') });
    expect(c.hash).not.toBe(a.hash);

    const d = await loadDataset('kadid10k', a.root);
    expect(d.images).toHaveLength(50);
    expect(d.images.map((i) => i.id)).toEqual(a.images.map((i) => i.id));
    expect(d.images.map((i) => i.score)).toEqual(a.images.map((i) => i.score));
    expect(new Set(d.images.map((i) => i.refId))).toEqual(new Set(['I01.png', 'I02.png']));
    expect(d.images[0].id).toBe('I01_01_01.png');
    const img = await decodeImage(d.images[0].path);
    expect([img.width, img.height]).toEqual([64, 48]);
  });

  it('true quality falls strictly with the level; the noisy MOS follows it', async () => {
    const r = await generateSynthetic({
      layout: 'kadid10k',
      seed: 5,
      refs: 3,
      width: 32,
      height: 32,
      out: out('mono'),
    });
    let pairs = 0;
    let ordered = 0;
    for (let ref = 1; ref <= 3; ref++) {
      for (const t of DISTORTIONS) {
        const seq = r.images
          .filter((i) => i.ref === ref && i.distortion === t)
          .sort((x, y) => x.level - y.level);
        expect(seq.map((i) => i.level)).toEqual([1, 2, 3, 4, 5]);
        for (let k = 1; k < 5; k++) {
          expect(seq[k].trueScore).toBeLessThan(seq[k - 1].trueScore);
          pairs++;
          if (seq[k].score < seq[k - 1].score) ordered++;
        }
        for (const i of seq) {
          expect(i.score).toBeGreaterThanOrEqual(1);
          expect(i.score).toBeLessThanOrEqual(5);
          expect(Math.abs(i.score - i.trueScore)).toBeLessThan(0.5);
        }
      }
    }
    expect(ordered / pairs).toBeGreaterThan(0.95);
    expect(r.images.some((i) => i.score !== Math.round(i.trueScore * 100) / 100)).toBe(true);
  });

  it('koniq10k layout: both CSVs, JPEGs in the size folder, a reference-disjoint official split', async () => {
    const opts = { layout: 'koniq10k' as const, seed: 'q', refs: 5, width: 48, height: 40 };
    const a = await generateSynthetic({ ...opts, out: out('q1') });
    const b = await generateSynthetic({ ...opts, out: out('q2') });
    expect(b.hash).toBe(a.hash);
    expect(a.files).toContain('48x40/101000.jpg');
    const d = await loadDataset('koniq10k', a.root);
    expect(d.images).toHaveLength(5 * 26);
    expect(d.scale.name).toBe('MOS_zscore');
    const s = shippedSplit(d);
    const refOf = new Map(a.images.map((i) => [i.id, i.ref]));
    const refs = (ids: string[]): Set<number> => new Set(ids.map((id) => refOf.get(id) as number));
    expect([refs(s.parts.train).size, refs(s.parts.val).size, refs(s.parts.test).size]).toEqual([3, 1, 1]);
    for (const r of refs(s.parts.test)) expect(refs(s.parts.train).has(r)).toBe(false);
    const pristine = a.images.filter((i) => i.distortion === null);
    const worst = a.images.filter((i) => i.level === 5);
    expect(Math.min(...pristine.map((i) => i.score))).toBeGreaterThan(Math.max(...worst.map((i) => i.score)));
    const m = await loadDataset('koniq10k', a.root, { imageDir: '48x40', label: 'MOS' });
    expect(m.images.every((i) => i.score >= 1 && i.score <= 5)).toBe(true);
  });

  it('refuses a non-empty folder and bad sizes', async () => {
    await expect(
      generateSynthetic({ layout: 'kadid10k', seed: 1, refs: 1, width: 32, height: 32, out: out('k1') }),
    ).rejects.toThrow(/is not empty/);
    await expect(generateSynthetic({ layout: 'kadid10k', seed: 1, refs: 0, out: out('z') })).rejects.toThrow(
      /refs must be a positive integer/,
    );
  });
});
