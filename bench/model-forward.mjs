#!/usr/bin/env node
// Forward speed of SMART-IQA on the wasm backend against the same backend's plain-matmul rate, measured in the same
// process (so machine load affects both alike).
//   npx turbo run build --filter=@iqa-bench/model && node bench/model-forward.mjs [preset] [batches] [runs]
//   defaults: smart-iqa-tiny, batches 1,8, runs 5 (batch 1) / 3 (larger)
// GFLOP/s = 2 × MACs / time, with the MACs the measured forward executes, counted by @iqa-bench/complexity over its
// kernel trace (convs, linear layers, the attention matrix products, the TargetNet); the rate with the original's
// ptflops figure (4.47 / 8.65 / 15.28 GMAC per 224 image for tiny / small / base, from its
// `complexity/complexity_results_*.md`; ptflops misses the attention products) is printed next to it. The matmul
// reference is a 1024³ and a 2048³ plain 2-D product (weights packed once, as the model's linear layers are), median
// of several runs, before and after the model runs.
// Times are CPU time of this process (process.cpuUsage; wasm runs on one thread) and wall time: on a shared machine
// the wall clock also counts the time other processes hold the core, CPU time does not.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { countOps } from '@iqa-bench/complexity';
import { createModel } from '@iqa-bench/model';

const GMAC = { 'smart-iqa-tiny': 4.47, 'smart-iqa-small': 8.65, 'smart-iqa-base': 15.28 };
const preset = process.argv[2] ?? 'smart-iqa-tiny';
const batches = (process.argv[3] ?? '1,8').split(',').map(Number);
const runsArg = process.argv[4] ? Number(process.argv[4]) : null;
if (!(preset in GMAC)) throw new Error(`preset must be one of ${Object.keys(GMAC).join(', ')}`);

await tf.setBackend('wasm');
await tf.ready();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Runs f `runs` times; median CPU and wall milliseconds per run. */
function measure(f, runs) {
  const cpu = [];
  const wall = [];
  for (let i = 0; i < runs; i++) {
    const c0 = cpuMs();
    const w0 = performance.now();
    f();
    cpu.push(cpuMs() - c0);
    wall.push(performance.now() - w0);
  }
  return { cpu: median(cpu), wall: median(wall) };
}

function matmulRate(n, runs) {
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 2);
  tf.matMul(a, b).dispose(); // packs b once
  const t = measure(() => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }, runs);
  tf.dispose([a, b]);
  const flop = 2 * n ** 3;
  return { cpu: flop / t.cpu / 1e6, wall: flop / t.wall / 1e6 };
}

const fmt = (r) => `${r.cpu.toFixed(1)} GFLOP/s (CPU time), ${r.wall.toFixed(1)} (wall)`;
const mm1 = [matmulRate(1024, 9), matmulRate(2048, 3)];
console.log(`wasm plain matmul before: 1024³ ${fmt(mm1[0])}; 2048³ ${fmt(mm1[1])}`);

const model = createModel(preset, { seed: 1 });
const results = [];
for (const b of batches) {
  const x = tf.randomNormal([b, 224, 224, 3], 0, 1, 'float32', 7);
  model.predict(x).dispose(); // warm-up: packs weights, fills the inference cache
  const executed = countOps(() => model.predict(x), { params: model.params, inputs: [x] }).macs;
  const runs = runsArg ?? (b === 1 ? 5 : 3);
  const t = measure(() => {
    const s = model.predict(x);
    s.dataSync();
    s.dispose();
  }, runs);
  x.dispose();
  const flop = 2 * executed;
  const ptflops = 2 * GMAC[preset] * 1e9 * b;
  results.push({
    batch: b,
    t,
    gmacPerImage: executed / b / 1e9,
    gflops: { cpu: flop / t.cpu / 1e6, wall: flop / t.wall / 1e6 },
    ptflops: { cpu: ptflops / t.cpu / 1e6, wall: ptflops / t.wall / 1e6 },
  });
}
model.dispose();

const mm2 = [matmulRate(1024, 9), matmulRate(2048, 3)];
console.log(`wasm plain matmul after:  1024³ ${fmt(mm2[0])}; 2048³ ${fmt(mm2[1])}`);
const ref = (k, i) => (mm1[i][k] + mm2[i][k]) / 2;
for (const r of results) {
  for (const k of ['cpu', 'wall']) {
    console.log(
      `${preset} forward batch ${r.batch} [${k === 'cpu' ? 'CPU time' : 'wall'}]: ${r.t[k].toFixed(0)} ms ` +
        `(${(r.t[k] / r.batch).toFixed(0)} ms/img, ${((1000 * r.batch) / r.t[k]).toFixed(2)} img/s), ` +
        `${r.gflops[k].toFixed(1)} GFLOP/s (${r.gmacPerImage.toFixed(3)} GMAC/img executed) = ` +
        `${((100 * r.gflops[k]) / ref(k, 0)).toFixed(1)}% of the 1024³ rate, ` +
        `${((100 * r.gflops[k]) / ref(k, 1)).toFixed(1)}% of the 2048³ rate; ` +
        `with ptflops' ${GMAC[preset]} GMAC/img: ${((100 * r.ptflops[k]) / ref(k, 0)).toFixed(1)}% of the 1024³ rate`,
    );
  }
}
console.log(`tf.memory(): ${tf.memory().numTensors} tensors after disposal`);
