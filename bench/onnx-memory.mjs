#!/usr/bin/env node
// Memory of one ONNX scorer over many predictions: RSS (and the V8 heap) every 500 predictions of one center crop per
// image through one openOnnxScorer session (scoreImages, crops batched across images), and the growth over the second
// half as a least-squares slope in MiB per 1,000 predictions.
//   npx turbo run build --filter=@iqa-bench/onnx && node bench/onnx-memory.mjs [preset=smart-iqa-tiny] [n=10000] [batch=8]
// Each image is a fresh Float32Array (as decoding gives them), so the garbage collector works as in real use.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createModel } from '@iqa-bench/model';
import { openOnnxScorer, writeOnnx } from '@iqa-bench/onnx';
import { loadAverage } from '../tools/onnx/bench-common.mjs';

const [preset = 'smart-iqa-tiny', nArg = '10000', batchArg = '8'] = process.argv.slice(2);
const n = Number(nArg);
const batchSize = Number(batchArg);
const every = 500;
const tmp = mkdtempSync(join(tmpdir(), 'iqa-onnx-memory-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

await tf.setBackend('wasm');
await tf.ready();
const model = createModel(preset, { seed: 1 });
const file = join(tmp, `${preset}.onnx`);
await writeOnnx(file, model, { source: preset });
model.dispose();

const mib = (b) => b / 2 ** 20;
console.log(`${preset}, ${n} predictions, batch ${batchSize}, load average ${loadAverage()}`);
const scorer = await openOnnxScorer(file);
const base = new Float32Array(256 * 256 * 3).map((_, i) => Math.sin(i * 0.37) * 1.5);

function* items(count) {
  for (let i = 0; i < count; i++) {
    const data = new Float32Array(base.length);
    data.set(base);
    data[i % data.length] += 0.5; // a different image each time
    yield { image: { width: 256, height: 256, data } };
  }
}

const samples = [];
const t0 = performance.now();
let done = 0;
while (done < n) {
  const count = Math.min(every, n - done);
  const rs = await scorer.scoreImages(items(count), { batchSize });
  if (rs.length !== count || !rs.every((r) => Number.isFinite(r.score))) throw new Error('bad results');
  done += count;
  const m = process.memoryUsage();
  samples.push({ done, rss: mib(m.rss), heap: mib(m.heapUsed), external: mib(m.external + m.arrayBuffers) });
  const s = samples.at(-1);
  console.log(
    `${String(done).padStart(6)} predictions: RSS ${s.rss.toFixed(0)} MiB, V8 heap ${s.heap.toFixed(0)} MiB, ` +
      `external + array buffers ${s.external.toFixed(0)} MiB, ${((performance.now() - t0) / done).toFixed(1)} ms/prediction`,
  );
}
await scorer.close();

const half = samples.slice(Math.floor(samples.length / 2));
const mx = half.reduce((a, s) => a + s.done, 0) / half.length;
const my = half.reduce((a, s) => a + s.rss, 0) / half.length;
const slope =
  half.reduce((a, s) => a + (s.done - mx) * (s.rss - my), 0) /
  half.reduce((a, s) => a + (s.done - mx) ** 2, 0);
const rss = samples.map((s) => s.rss);
console.log(
  `RSS: ${rss[0].toFixed(0)} MiB after ${samples[0].done}, max ${Math.max(...rss).toFixed(0)}, ` +
    `${rss.at(-1).toFixed(0)} at the end; second half slope ${(slope * 1000).toFixed(2)} MiB per 1,000 predictions; ` +
    `load average ${loadAverage()}`,
);
