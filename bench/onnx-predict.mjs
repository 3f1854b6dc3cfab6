#!/usr/bin/env node
// End to end against model only, on the onnx runtime: `iqa-bench predict --runtime onnx` on a folder of N JPEGs at
// 1024×768 (one centre crop each, the CLI's default preprocessing) against the same scorer's rate on images already
// decoded and cropped, measured in the same run. The target: end to end within 15 % of the model-only rate (decoding
// runs ahead of the model). The CLI's process start and its model load are timed apart (predict on 1 image) and
// taken out of the end-to-end rate; they are printed too.
//   npm run build && node bench/onnx-predict.mjs [n=200] [preset=smart-iqa-tiny] [rounds=5] (medians over the rounds)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createModel } from '@iqa-bench/model';
import { openOnnxScorer, writeOnnx } from '@iqa-bench/onnx';
import { loadAverage } from '../tools/onnx/bench-common.mjs';

const [nArg = '200', preset = 'smart-iqa-tiny'] = process.argv.slice(2);
const n = Number(nArg);
const bin = resolve('packages/cli/dist/bin.js');
const tmp = mkdtempSync(join(tmpdir(), 'iqa-onnx-predict-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

await tf.setBackend('wasm');
await tf.ready();
const model = createModel(preset, { seed: 1 });
const onnx = join(tmp, `${preset}.onnx`);
await writeOnnx(onnx, model, { source: preset });
model.dispose();

// N photos-like JPEGs: smooth colour fields plus seeded noise, quality 90.
const dir = join(tmp, 'images');
mkdirSync(dir);
const one = join(tmp, 'one');
mkdirSync(one);
const W = 1024;
const H = 768;
let state = 12345;
const rand = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
for (let i = 0; i < n; i++) {
  const px = Buffer.alloc(W * H * 3);
  const fx = 1 + (i % 7);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3;
      px[o] = 128 + 100 * Math.sin((x * fx) / 97);
      px[o + 1] = 128 + 100 * Math.cos((y * fx) / 83);
      px[o + 2] = Math.floor(rand() * 256);
    }
  const jpg = await sharp(px, { raw: { width: W, height: H, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
  writeFileSync(join(dir, `img-${String(i).padStart(4, '0')}.jpg`), jpg);
  if (i === 0) writeFileSync(join(one, 'img-0000.jpg'), jpg);
}

const predict = (folder) => {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      bin,
      'predict',
      folder,
      '--checkpoint',
      onnx,
      '--runtime',
      'onnx',
      '--patches',
      '1',
      '--crop',
      'center',
      '--quiet',
      '--out',
      join(tmp, 'scores.json'),
    ],
    { encoding: 'utf8', env: { ...process.env, IQA_BENCH_CACHE: join(tmp, 'cache') } },
  );
  if (r.status !== 0) throw new Error(`predict failed (${r.status}): ${r.stderr}`);
  return performance.now() - t0;
};

// Model only: the same scorer, one 224 centre crop per image from images already in memory (fresh arrays).
const scorer = await openOnnxScorer(onnx);
const base = new Float32Array(384 * 512 * 3).map((_, i) => Math.sin(i * 0.37) * 1.5);
function* items() {
  for (let i = 0; i < n; i++) {
    const data = new Float32Array(base.length);
    data.set(base);
    data[i] += 0.5;
    yield { image: { width: 512, height: 384, data }, options: { crops: 1, mode: 'center', batchSize: 8 } };
  }
}
console.log(`${preset}, ${n} JPEGs ${W}x${H}, one centre crop, onnx runtime; load average ${loadAverage()}`);
await scorer.scoreImages(items()); // warm-up
const rounds = Number(process.argv[4] ?? 5);
const modelMs = [];
const startMs = [];
const e2eMs = [];
for (let r = 0; r < rounds; r++) {
  let t0 = performance.now();
  await scorer.scoreImages(items());
  modelMs.push(performance.now() - t0);
  startMs.push(predict(one));
  e2eMs.push(predict(dir));
}
await scorer.close();
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const model_ = med(modelMs);
const start = med(startMs);
const e2e = med(e2eMs);
const perImageModel = model_ / n;
// predict on one image = start + load + one image; the rest of the folder is (n - 1) images.
const perImageE2e = (e2e - start) / (n - 1);
console.log(
  `model only:      ${(1000 / perImageModel).toFixed(1)} img/s (${perImageModel.toFixed(1)} ms/image)`,
);
console.log(`predict, 1 image (process start, model load, one image): ${(start / 1000).toFixed(2)} s`);
console.log(
  `predict, ${n} images: ${(e2e / 1000).toFixed(2)} s → ${(1000 / perImageE2e).toFixed(1)} img/s after start (${perImageE2e.toFixed(1)} ms/image)`,
);
// The machine's speed drifts between rounds; model only and end to end run back to back in each round, so the median
// of the rounds' own ratios is the fair figure.
const ratios = modelMs.map((m, r) => (100 * (m / n)) / ((e2eMs[r] - startMs[r]) / (n - 1)));
const paired = med(ratios);
console.log(`the rounds' ratios: ${ratios.map((x) => x.toFixed(1)).join(', ')} %`);
console.log(
  `end to end / model only: ${((100 * perImageModel) / perImageE2e).toFixed(1)} % of the model-only rate from the medians, ` +
    `${paired.toFixed(1)} % as the median of the ${rounds} rounds' ratios (target ≥ 85 %); load average ${loadAverage()}`,
);
