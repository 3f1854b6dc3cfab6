#!/usr/bin/env node
// Patch-sampler throughput of @iqa-bench/data: patches per second from 1024x768 JPEGs, single process.
//
//   npx turbo run build --filter=@iqa-bench/data && node bench/data-patches.mjs [--images 48] [--patches 25] [--batch 32]
//
// Measures, with the original's `seed` preset (Pillow-exact resize to 384x512, then 224 random crops + flips):
//   cold  = first epoch: every image decoded (sharp) and resized (JS) once, then cropped and normalised;
//   warm  = second epoch: images come from the LRU cache, only crop + normalise + batch assembly;
// and the `none` preset (crops straight from the 1024x768 decode) for comparison. Prints a table and a JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { PatchSampler } from '../packages/data/dist/index.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('images', 48);
const P = arg('patches', 25);
const B = arg('batch', 32);

const dir = mkdtempSync(path.join(tmpdir(), 'iqa-bench-data-'));
const W = 1024;
const H = 768;
const images = [];
for (let i = 0; i < N; i++) {
  // A photo-like test card: smooth gradients, edges and fine texture (compresses like a photograph, not like noise).
  const raw = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3;
      const tex = ((x * 7 + y * 13 + i * 31) ^ (x * y)) & 31;
      raw[o] = (x / 4 + i * 9 + tex) & 255;
      raw[o + 1] = (y / 3 + ((x >> 5) & 1) * 60 + tex) & 255;
      raw[o + 2] = (((x + y) >> 2) + i * 17 - tex) & 255;
    }
  }
  const file = path.join(dir, `${String(i).padStart(5, '0')}.jpg`);
  await sharp(raw, { raw: { width: W, height: H, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(file);
  images.push({ id: path.basename(file), path: file, score: i, normScore: i / N });
}

async function epoch(sampler, e) {
  const t = process.hrtime.bigint();
  let n = 0;
  for await (const b of sampler.batches(B, { epoch: e })) n += b.shape[0];
  return { patches: n, seconds: Number(process.hrtime.bigint() - t) / 1e9 };
}

const rows = [];
for (const preset of ['seed', 'none']) {
  const sampler = new PatchSampler({ images, mode: 'train', patchesPerImage: P, seed: 1, preset });
  const cold = await epoch(sampler, 0);
  const warm = await epoch(sampler, 1);
  rows.push({
    preset,
    images: N,
    patchesPerImage: P,
    batch: B,
    cold: cold.patches / cold.seconds,
    warm: warm.patches / warm.seconds,
    coldSeconds: cold.seconds,
    warmSeconds: warm.seconds,
    cache: sampler.cacheStats(),
  });
}
rmSync(dir, { recursive: true, force: true });

console.log(
  `@iqa-bench/data patch sampler, ${N} JPEGs ${W}x${H}, ${P} patches/image, batch ${B}, node ${process.version}`,
);
for (const r of rows) {
  console.log(
    `  preset ${r.preset.padEnd(5)} cold (decode+resize+crop) ${r.cold.toFixed(0).padStart(6)} patches/s (${r.coldSeconds.toFixed(2)} s)` +
      `   warm (cached) ${r.warm.toFixed(0).padStart(6)} patches/s (${r.warmSeconds.toFixed(2)} s)   cache ${(r.cache.bytes / 2 ** 20).toFixed(0)} MiB`,
  );
}
console.log(
  JSON.stringify({
    bench: 'data-patches',
    results: rows.map(({ cache, ...r }) => ({ ...r, cacheBytes: cache.bytes })),
  }),
);
