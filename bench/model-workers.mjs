// Scoring a folder of images with a ScoringPool of 1 and 2 worker threads (one wasm backend each): images/s.
// Files are decoded and normalised in the main thread (@iqa-bench/data) while the workers run the model.
// Usage: npx turbo run build --filter=@iqa-bench/model --filter=@iqa-bench/data &&
//   nice -n 10 node bench/model-workers.mjs [preset=smart-iqa-tiny] [images=12] [crops=1] [folder]
// Without a folder, `images` synthetic 512x384 JPEGs are written to a temporary folder first.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage, toFloat32 } from '../packages/data/dist/index.js';
import { ScoringPool } from '@iqa-bench/model';

const preset = process.argv[2] ?? 'smart-iqa-tiny';
const count = Number(process.argv[3] ?? 12);
const crops = Number(process.argv[4] ?? 1);
let folder = process.argv[5];
let temp = null;

if (!folder) {
  temp = await mkdtemp(path.join(tmpdir(), 'iqa-bench-workers-'));
  folder = temp;
  for (let i = 0; i < count; i++) {
    const w = 512;
    const h = 384;
    const px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 3;
        px[o] = (x * 255) / w;
        px[o + 1] = (y * 255) / h;
        px[o + 2] = ((x ^ y) * (i + 1)) & 255;
      }
    await sharp(px, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(path.join(folder, `img${String(i).padStart(3, '0')}.jpg`));
  }
}
const files = (await readdir(folder))
  .filter((f) => /\.(jpe?g|png|bmp)$/i.test(f))
  .sort()
  .slice(0, count);
console.log(`${preset}: ${files.length} images from ${folder}, ${crops} center/grid crop(s) each`);

async function* decoded() {
  for (const f of files) {
    const img = await decodeImage(path.join(folder, f));
    yield { image: { width: img.width, height: img.height, data: toFloat32(img, 'imagenet') }, name: f };
  }
}

const options = { crops, mode: crops === 1 ? 'center' : 'grid' };
const scores = {};
for (const workers of [1, 2]) {
  const t0 = performance.now();
  const pool = await ScoringPool.create({ model: { config: preset, seed: 1 }, workers });
  const ready = performance.now();
  // Warm-up image per worker (first forwards pack weights, grow the heap), not counted.
  await pool.scoreImages(
    files
      .slice(0, workers)
      .map((f) => ({ image: { width: 224, height: 224, data: new Float32Array(224 * 224 * 3) } })),
  );
  const t1 = performance.now();
  const res = await pool.scoreImages(decoded(), { options, transfer: true });
  const t2 = performance.now();
  await pool.close();
  scores[workers] = res.map((r) => r.score);
  const perWorker = res.reduce((a, r) => ((a[r.worker] = (a[r.worker] ?? 0) + 1), a), []);
  console.log(
    `${workers} worker(s): startup ${((ready - t0) / 1000).toFixed(1)} s, ${res.length} images in ${((t2 - t1) / 1000).toFixed(1)} s ` +
      `= ${((res.length * 1000) / (t2 - t1)).toFixed(2)} images/s (${((t2 - t1) / res.length).toFixed(0)} ms/img; ` +
      `mean worker time ${(res.reduce((a, r) => a + r.ms, 0) / res.length).toFixed(0)} ms/img; images per worker ${perWorker.join('/')})`,
  );
}
const same = scores[1].every((s, i) => Object.is(s, scores[2][i]));
console.log(`scores identical with 1 and 2 workers: ${same}`);
if (temp) await rm(temp, { recursive: true, force: true });
