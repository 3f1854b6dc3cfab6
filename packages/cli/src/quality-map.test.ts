import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { applyResize, decodeImage, RESIZE_PRESETS, toFloat32 } from '@iqa-bench/data';
import type { IqaModel } from '@iqa-bench/model';
import { createModel, cropOrigins, extractCrops, loadCheckpoint, saveSafetensors } from '@iqa-bench/model';
import * as tf from '@tensorflow/tfjs';
import { interpolateViridis } from 'd3-scale-chromatic';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliIn } from './__tests__/run-cli.js';
import type { QualityMapSidecar } from './quality-map.js';
import {
  gridShape,
  LEGEND_HEIGHT,
  LEGEND_HEIGHT_FUSION,
  LEGEND_WIDTH,
  mapCropsOption,
  mapStems,
  scoreField,
  viridis,
} from './quality-map.js';

const repo = resolve(import.meta.dirname, '..', '..', '..');
const attentionPkl = resolve(repo, 'test', 'fixtures', 'cli', 'checkpoints', 'hypernet-swin-attention.pkl');
const kadidImage = resolve(
  repo,
  'test',
  'fixtures',
  'cli',
  'datasets',
  'kadid-ok',
  'images',
  'I01_01_01.png',
);
const work = mkdtempSync(join(tmpdir(), 'iqa-qmap-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function cli(args: string[]) {
  return runCliIn(work, args, { columns: 100 });
}

/** [r, g, b] of d3's viridis at t. */
function d3Viridis(t: number): number[] {
  const hex = interpolateViridis(t);
  return [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
}

interface Predictions {
  settings: Record<string, unknown>;
  images: { path: string; score: number; map?: { png: string; json: string } }[];
}

/** Each crop's score and stage fusion weights, one forward pass per crop, straight from the model. */
function forwardCrops(
  model: IqaModel,
  image: { width: number; height: number; data: Float32Array },
  origins: [number, number][],
): { scores: number[]; fusion: number[][] } {
  const scores: number[] = [];
  const fusion: number[][] = [];
  for (const o of origins) {
    const x = tf.tensor4d(extractCrops(image, [o], 224), [1, 224, 224, 3]);
    const out = model.forward(x);
    scores.push(out.score.dataSync()[0]);
    fusion.push(Array.from(out.attention?.dataSync() ?? []));
    tf.dispose([x, out.score, out.attention as tf.Tensor]);
  }
  return { scores, fusion };
}

describe('quality map parts', () => {
  it('--map-crops takes full grids only, as cropOrigins lays them out', () => {
    for (const n of [1, 2, 4, 6, 9, 12, 16, 20, 25, 30, 400]) {
      expect(mapCropsOption(String(n))).toBe(n);
      const { rows, cols } = gridShape(n);
      const o = cropOrigins(1000, 1000, 10, n, 'grid');
      expect([new Set(o.map(([y]) => y)).size, new Set(o.map(([, x]) => x)).size]).toEqual([rows, cols]);
    }
    expect(() => mapCropsOption('5')).toThrow(
      'expected a number of crops that fills a grid of ⌈√n⌉ rows (5 leaves 1 of 3×2 empty): e.g. 4 or 6.',
    );
    expect(() => mapCropsOption('401')).toThrow('expected at most 400 crops.');
    expect(() => mapCropsOption('0')).toThrow('expected a positive integer.');
  });

  it('scores are bilinear between crop centres, exact at them, constant beyond the outer ones', () => {
    // A 2 x 2 grid of 4-px crops on a 20 x 10 image: origins (0,0) (0,16) (6,0) (6,16), centres y 2, 8 and x 2, 18.
    const origins = cropOrigins(10, 20, 4, 4, 'grid');
    expect(origins).toEqual([
      [0, 0],
      [0, 16],
      [6, 0],
      [6, 16],
    ]);
    const f = scoreField(20, 10, 4, { rows: 2, cols: 2 }, origins, [0, 1, 2, 3]);
    const at = (y: number, x: number) => f[y * 20 + x];
    expect([at(2, 2), at(2, 18), at(8, 2), at(8, 18)]).toEqual([0, 1, 2, 3]);
    expect(at(5, 10)).toBeCloseTo(1.5, 12); // the middle: the mean of the four
    expect(at(2, 10)).toBeCloseTo(0.5, 12);
    expect(at(5, 2)).toBeCloseTo(1, 12);
    expect([at(0, 0), at(9, 19), at(0, 19)]).toEqual([0, 3, 1]);
  });

  it('viridis is the matplotlib colour map: #440154 at 0, #21918c in the middle, #fde725 at 1', () => {
    expect(viridis(0)).toEqual([0x44, 0x01, 0x54]);
    expect(viridis(0.5)).toEqual([0x21, 0x91, 0x8c]);
    expect(viridis(1)).toEqual([0xfd, 0xe7, 0x25]);
  });

  it('names maps after their images without collisions, also on case-insensitive file systems', () => {
    expect(
      mapStems(['a/x.jpg', 'b/x.jpg', 'x.png', 'c/X.jpg', 'd/x.jpg', 'we?ird:name.tif', '.hidden.png']),
    ).toEqual(['x', 'x-jpg', 'x-png', 'X-jpg-2', 'x-jpg-3', 'we_ird_name', '_hidden']);
  });
});

describe('predict --map', () => {
  const micro = join(work, 'micro.safetensors');
  beforeAll(async () => {
    // An image whose left half is noise and right half flat grey.
    const w = 320;
    const h = 256;
    const px = Buffer.alloc(w * h * 3);
    let s = 7;
    for (let i = 0; i < w * h; i++) {
      const noisy = i % w < w / 2;
      for (let c = 0; c < 3; c++) {
        s = (s * 1103515245 + 12345) % 2147483648;
        px[i * 3 + c] = noisy ? s % 256 : 128;
      }
    }
    mkdirSync(join(work, 'a'));
    mkdirSync(join(work, 'b'));
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .png()
      .toFile(join(work, 'a', 'photo.png'));
    // The same name in b (but for its case), the picture flipped left to right.
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .flop()
      .png()
      .toFile(join(work, 'b', 'photo.PNG'));
    const model = createModel('smart-iqa-micro', { seed: 7 });
    await saveSafetensors(micro, model.params, model.config);
    model.dispose();
  }, 60_000);

  it("writes a PNG per image whose colour at every crop centre is the viridis colour of that crop's score", async () => {
    const r = await cli([
      'predict',
      '--checkpoint',
      'micro.safetensors',
      '--backend',
      'wasm',
      '--patches',
      '2',
      '--preprocess',
      'none',
      '--map',
      'out/maps',
      '--map-crops',
      '9',
      '--out',
      'out/p.json',
      '--json',
      'a/photo.png',
      'b',
    ]);
    expect(r.stderr).toContain('wrote 2 quality map(s) to out/maps');
    expect(r.code).toBe(0);
    const p = JSON.parse(readFileSync(join(work, 'out', 'p.json'), 'utf8')) as Predictions;
    expect(JSON.parse(r.stdout)).toEqual(p);
    expect(p.settings).toMatchObject({ map: 'out/maps', mapCrops: 9 });
    // Paths relative to the result file's folder; the second photo gets the extension in its name.
    expect(p.images.map((i) => [i.path, i.map])).toEqual([
      ['a/photo.png', { png: 'maps/photo.map.png', json: 'maps/photo.map.json' }],
      ['b/photo.PNG', { png: 'maps/photo-PNG.map.png', json: 'maps/photo-PNG.map.json' }],
    ]);

    const { model } = await loadCheckpoint(micro);
    for (const entry of p.images) {
      const side = JSON.parse(readFileSync(join(work, 'out', entry.map!.json), 'utf8')) as QualityMapSidecar;
      const rgb = await decodeImage(join(work, entry.path));
      const image = applyResize(rgb, RESIZE_PRESETS.none);
      expect([side.width, side.height, side.cropSize, side.grid]).toEqual([
        320,
        256,
        224,
        { rows: 3, cols: 3 },
      ]);
      expect(side.score).toBe(entry.score);

      // The crop scores and weights are the model's own, crop by crop.
      const origins = cropOrigins(256, 320, 224, 9, 'grid');
      const ref = forwardCrops(
        model,
        { width: 320, height: 256, data: toFloat32(image, 'imagenet') },
        origins,
      );
      expect(side.crops.map((c) => c.origin)).toEqual(origins);
      side.crops.forEach((c, k) => {
        expect(c.score).toBeCloseTo(ref.scores[k], 5);
        c.fusion!.forEach((v, j) => expect(v).toBeCloseTo(ref.fusion[k][j], 6));
      });
      const lo = Math.min(...ref.scores);
      const hi = Math.max(...ref.scores);
      expect(hi - lo).toBeGreaterThan(1e-3); // the crops do differ
      const crops = side.crops.map((c) => c.score);
      expect(side.range).toEqual({ min: Math.min(...crops), max: Math.max(...crops), flat: false });

      // The PNG: the image and the legend right of it, as tall as the legend with the fusion bars.
      const pngFile = sharp(readFileSync(join(work, 'out', entry.map!.png)));
      const meta = await pngFile.metadata();
      expect([meta.format, meta.width, meta.height, meta.channels]).toEqual([
        'png',
        320 + LEGEND_WIDTH,
        Math.max(256, LEGEND_HEIGHT_FUSION),
        3,
      ]);
      const { data } = await pngFile.raw().toBuffer({ resolveWithObject: true });
      const width = 320 + LEGEND_WIDTH;
      origins.forEach(([y0, x0], k) => {
        const [y, x] = [y0 + 112, x0 + 112];
        const colour = d3Viridis((ref.scores[k] - lo) / (hi - lo));
        const src = [...image.data.subarray((y * 320 + x) * 3, (y * 320 + x) * 3 + 3)];
        const expected = colour.map((c, j) => Math.round(0.6 * c + 0.4 * src[j]));
        const got = [...data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)];
        // The crop scores in the file are float32 round trips of the reference: one level of the map at most.
        got.forEach((v, j) => expect(Math.abs(v - expected[j])).toBeLessThanOrEqual(1));
      });
      // The lowest and highest crops are the ends of the colour map, exactly.
      for (const [k, t] of [
        [ref.scores.indexOf(lo), 0],
        [ref.scores.indexOf(hi), 1],
      ]) {
        const [y, x] = [origins[k][0] + 112, origins[k][1] + 112];
        const src = [...image.data.subarray((y * 320 + x) * 3, (y * 320 + x) * 3 + 3)];
        expect([...data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)]).toEqual(
          d3Viridis(t).map((c, j) => Math.round((3 * c + 2 * src[j]) / 5)),
        );
      }
    }
    model.dispose();
  }, 120_000);

  it('an attention-fusion checkpoint: the sidecar holds the stage weights, summing to 1, of its forward passes', async () => {
    const r = await cli([
      'predict',
      '--checkpoint',
      attentionPkl,
      '--backend',
      'wasm',
      '--patches',
      '1',
      '--map',
      'att',
      kadidImage,
    ]);
    expect(r.code).toBe(0);
    const side = JSON.parse(
      readFileSync(join(work, 'att', 'I01_01_01.map.json'), 'utf8'),
    ) as QualityMapSidecar;
    expect(side.fusion?.stages).toEqual(['stage 1', 'stage 2', 'stage 3', 'stage 4']);
    const w = side.fusion!.weights;
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);

    // The seed preset (512 x 384, H x W) and the 16 default crops; the image's weights are the mean of the crops'.
    const { model } = await loadCheckpoint(attentionPkl);
    const image = applyResize(await decodeImage(kadidImage), RESIZE_PRESETS.seed);
    const origins = cropOrigins(512, 384, 224, 16, 'grid');
    const ref = forwardCrops(model, { width: 384, height: 512, data: toFloat32(image, 'imagenet') }, origins);
    model.dispose();
    for (let j = 0; j < 4; j++) {
      expect(w[j]).toBeCloseTo(ref.fusion.reduce((s, f) => s + f[j], 0) / 16, 6);
    }
    // This checkpoint's weights are far from uniform: the bars show something.
    expect(Math.max(...w) - Math.min(...w)).toBeGreaterThan(0.05);
    // Its crops score the same to float32 rounding: one colour, not blown-up noise.
    expect(side.range.flat).toBe(true);
    const { data, info } = await sharp(join(work, 'att', 'I01_01_01.map.png'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([384 + LEGEND_WIDTH, 512]);
    const mid = viridis(0.5);
    for (const [y, x] of [
      [0, 0],
      [300, 200],
      [511, 383],
    ]) {
      const src = [...image.data.subarray((y * 384 + x) * 3, (y * 384 + x) * 3 + 3)];
      expect([...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)]).toEqual(
        mid.map((c, j) => Math.round((3 * c + 2 * src[j]) / 5)),
      );
    }
    expect(LEGEND_HEIGHT).toBeLessThan(LEGEND_HEIGHT_FUSION);
  }, 120_000);

  it('errors name the flag', async () => {
    writeFileSync(join(work, 'a-file'), 'x');
    const r = await cli(['predict', '--checkpoint', attentionPkl, '--map', 'a-file', 'a/photo.png']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'iqa-bench: error: --map a-file: not a folder (a file of that name is in the way)\n',
    );
    const c = await cli([
      'predict',
      '--checkpoint',
      attentionPkl,
      '--map',
      'm',
      '--map-crops',
      '5',
      'a/photo.png',
    ]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain("option '--map-crops <n>' argument '5' is invalid");
    // A map must not replace an image being scored: x.png's map would be x.map.png.
    for (const name of ['x.png', 'x.map.png'])
      await sharp({ create: { width: 240, height: 240, channels: 3, background: '#808080' } })
        .png()
        .toFile(join(work, name));
    const clash = await cli(['predict', '--checkpoint', attentionPkl, '--map', '.', 'x.png', 'x.map.png']);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain('--map .: its map x.map.png would replace an image being scored');
  }, 60_000);

  it('report --predictions shows the maps of the lowest- and highest-scored images', async () => {
    // The predictions and maps of the first test.
    const p = JSON.parse(readFileSync(join(work, 'out', 'p.json'), 'utf8')) as Predictions;
    const [lo, hi] = [...p.images].sort((x, y) => x.score - y.score);
    expect(lo.score).toBeLessThan(hi.score);
    const r = await cli(['report', '--predictions', 'out/p.json', '--out', 'rep']);
    expect(r.stderr).toBe('wrote 6 files to rep\n'); // svg + png of two maps, md, html
    expect(r.code).toBe(0);
    const html = readFileSync(join(work, 'rep', 'report.html'), 'utf8');
    expect(html).toContain('<h2>Quality maps: micro</h2>');
    for (const [which, e] of [
      ['lowest', lo],
      ['highest', hi],
    ] as const) {
      const png = readFileSync(join(work, 'out', e.map!.png));
      expect(html).toContain(`href="data:image/png;base64,${png.toString('base64')}"`);
      expect(readFileSync(join(work, 'rep', 'figures', `quality-map-1-${which}.png`)).equals(png)).toBe(true);
      const caption = `${which === 'lowest' ? 'Lowest' : 'Highest'} score: ${e.path} (${Number(e.score.toPrecision(4))}), ${e.map!.png}`;
      expect(html).toContain(`<figcaption>${caption}</figcaption>`);
    }
    // Self-contained: the only references are the embedded pictures.
    expect(html.match(/href="(?!data:image\/png;base64,)/g)).toBeNull();
    expect(html).not.toMatch(/<script|<link|src=/);
  }, 60_000);

  it('report --predictions: a file without maps says so; a bad map path names the file and field', async () => {
    const plain = await cli([
      'predict',
      '--checkpoint',
      attentionPkl,
      '--backend',
      'wasm',
      '--out',
      'plain.json',
      kadidImage,
    ]);
    expect(plain.code).toBe(0);
    expect((await cli(['report', '--predictions', 'plain.json', '--out', 'rep2'])).code).toBe(0);
    expect(readFileSync(join(work, 'rep2', 'report.html'), 'utf8')).toContain(
      '<p>No quality maps in this file (predict writes them with --map &lt;dir&gt;).</p>',
    );
    const p = JSON.parse(readFileSync(join(work, 'out', 'p.json'), 'utf8')) as Predictions;
    const bad = async (png: string) => {
      const q = structuredClone(p);
      q.images[1].map = { png, json: 'x.json' };
      writeFileSync(join(work, 'out', 'bad.json'), JSON.stringify(q));
      const r = await cli(['report', '--predictions', 'out/bad.json', '--out', 'rep3']);
      expect(r.code).toBe(2);
      return r.stderr;
    };
    expect(await bad('/etc/passwd')).toBe(
      'iqa-bench: error: out/bad.json: images[1].map.png "/etc/passwd": expected a path relative to the predictions file\n',
    );
    expect(await bad('maps/none.png')).toBe(
      'iqa-bench: error: out/bad.json: images[1].map.png "maps/none.png": quality map not found\n',
    );
    expect(await bad('maps/photo.map.json')).toBe(
      'iqa-bench: error: out/bad.json: images[1].map.png "maps/photo.map.json": not a PNG file\n',
    );
    writeFileSync(join(work, 'out', 'bad.json'), JSON.stringify({ ...p, schema: 'iqa-bench/result@1' }));
    expect((await cli(['report', '--predictions', 'out/bad.json', '--out', 'rep3'])).stderr).toBe(
      'iqa-bench: error: out/bad.json: schema: expected "iqa-bench/predictions@1" (a predict --out file), got "iqa-bench/result@1"\n',
    );
  }, 60_000);
});
