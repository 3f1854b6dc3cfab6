#!/usr/bin/env node
// Forward speed of the exported ONNX graphs in onnxruntime-node (CPU execution provider, intra-op threads = cores)
// against the machine's fp32 ceiling measured in the same run: a 2048³ MatMul in onnxruntime (constant right operand,
// prepacked as the model's weights are), before and after the models, and numpy's sgemm where python3 has numpy.
//   npx turbo run build --filter=@iqa-bench/onnx && node bench/onnx-forward.mjs [presets] [batches] [--profile DIR]
//   defaults: smart-iqa-tiny,hyperiqa-resnet50 and batches 1,8
// GFLOP/s = 2 × MACs / wall time, with the MACs per image that @iqa-bench/complexity counts over the TF.js model's
// kernels (convs, linear layers, the attention products, the TargetNet; counted once on the wasm backend).
// --profile DIR: writes each preset's onnxruntime-optimized graph (DIR/<preset>.optimized.onnx) and an onnxruntime
// profile of batch 8 (DIR/<preset>-profile*.json), and prints the share of time per operator type.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { countOps } from '@iqa-bench/complexity';
import { createModel, PRESET_NAMES } from '@iqa-bench/model';
import { exportOnnx } from '@iqa-bench/onnx';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';

const args = process.argv.slice(2);
const profileAt = args.indexOf('--profile');
const profileDir = profileAt >= 0 ? resolve(args.splice(profileAt, 2)[1]) : null;
const presets = (args[0] ?? 'smart-iqa-tiny,hyperiqa-resnet50').split(',');
const batches = (args[1] ?? '1,8').split(',').map(Number);
for (const p of presets)
  if (!PRESET_NAMES.includes(p)) throw new Error(`unknown preset ${p}; have ${PRESET_NAMES}`);
const threads = availableParallelism();
const sessionOptions = {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

await tf.setBackend('wasm');
await tf.ready();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median wall milliseconds of `runs` calls of f after one warm-up; stops early after `budgetMs`. */
async function time(f, runs, budgetMs = 20_000) {
  await f();
  const ms = [];
  const start = performance.now();
  for (let i = 0; i < runs && (i < 3 || performance.now() - start < budgetMs); i++) {
    const t0 = performance.now();
    await f();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** A one-MatMul ONNX model: x [n, n] · W [n, n] (W an initializer). */
function matmulModel(n) {
  const w = new Float32Array(n * n).map((_, i) => Math.sin(i) * 0.01);
  return onnxProto.onnx.ModelProto.encode({
    irVersion: 9,
    opsetImport: [{ domain: '', version: 20 }],
    graph: {
      name: 'matmul',
      node: [{ opType: 'MatMul', input: ['x', 'w'], output: ['y'] }],
      initializer: [{ name: 'w', dims: [n, n], dataType: 1, rawData: new Uint8Array(w.buffer) }],
      input: [
        {
          name: 'x',
          type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: n }, { dimValue: n }] } } },
        },
      ],
      output: [
        {
          name: 'y',
          type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: n }, { dimValue: n }] } } },
        },
      ],
    },
  }).finish();
}

async function ortCeiling(n = 2048) {
  const s = await ort.InferenceSession.create(matmulModel(n), sessionOptions);
  const x = new ort.Tensor(
    'float32',
    new Float32Array(n * n).map((_, i) => Math.cos(i)),
    [n, n],
  );
  const ms = await time(() => s.run({ x }), 7);
  await s.release();
  return (2 * n ** 3) / ms / 1e6;
}

/** numpy sgemm 2048³ GFLOP/s with OpenBLAS left to pick its own kernel (null without python3 / numpy). */
function numpyCeiling(n = 2048) {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const code =
    'import numpy as np, time\n' +
    `n=${n}\na=np.random.rand(n,n).astype(np.float32)\nb=np.random.rand(n,n).astype(np.float32)\na@b\nts=[]\n` +
    'for _ in range(7):\n t=time.perf_counter(); a@b; ts.append(time.perf_counter()-t)\n' +
    'print(2*n**3/sorted(ts)[3]/1e9)';
  const r = spawnSync('python3', ['-c', code], { env, encoding: 'utf8', timeout: 120_000 });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

/** MACs per image of the TF.js model's forward (batch 1), as @iqa-bench/complexity counts them. */
function macsPerImage(model) {
  const x = tf.randomNormal([1, 224, 224, 3], 0, 1, 'float32', 7);
  model.predict(x).dispose(); // fills the inference caches (derived weights), which the count must not include
  const macs = countOps(() => model.predict(x), { params: model.params, inputs: [x] }).macs;
  x.dispose();
  return macs;
}

function opShares(profileFile) {
  const events = JSON.parse(readFileSync(profileFile, 'utf8'));
  const byOp = new Map();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args.op_name;
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    total += e.dur;
  }
  return [...byOp.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([op, us]) => `${op} ${((100 * us) / total).toFixed(1)}%`)
    .join(', ');
}

const uptime = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`onnxruntime-node ${ort.env.versions.node}, ${threads} intra-op threads, load average ${uptime}`);
const before = await ortCeiling();
const numpy = numpyCeiling();
console.log(
  `ceiling: onnxruntime MatMul 2048³ ${before.toFixed(1)} GFLOP/s` +
    (numpy === null ? ' (numpy not available)' : `; numpy sgemm 2048³ ${numpy.toFixed(1)} GFLOP/s`),
);

const rows = [];
for (const preset of presets) {
  const model = createModel(preset, { seed: 1 });
  const macs = macsPerImage(model);
  const t0 = performance.now();
  const bytes = exportOnnx(model, { source: preset });
  const exportMs = performance.now() - t0;
  model.dispose();
  const options = { ...sessionOptions };
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    options.optimizedModelFilePath = join(profileDir, `${preset}.optimized.onnx`);
  }
  const session = await ort.InferenceSession.create(bytes, options);
  console.log(
    `${preset}: ${(macs / 1e9).toFixed(3)} GMAC/img, ONNX ${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB exported in ` +
      `${exportMs.toFixed(0)} ms`,
  );
  for (const b of batches) {
    const x = new Float32Array(b * 3 * 224 * 224).map((_, i) => Math.sin(i * 0.37) * 1.5);
    const feeds = { image: new ort.Tensor('float32', x, [b, 3, 224, 224]) };
    const ms = await time(() => session.run(feeds), b === 1 ? 15 : 5);
    rows.push({ preset, batch: b, msPerImage: ms / b, gflops: (2 * macs * b) / ms / 1e6 });
  }
  await session.release();
  if (profileDir) {
    const s = await ort.InferenceSession.create(bytes, {
      ...sessionOptions,
      enableProfiling: true,
      profileFilePrefix: preset,
    });
    const feeds = {
      image: new ort.Tensor('float32', new Float32Array(8 * 3 * 224 * 224).fill(0.5), [8, 3, 224, 224]),
    };
    for (let i = 0; i < 3; i++) await s.run(feeds);
    const file = s.endProfiling();
    await s.release();
    const dest = join(profileDir, file.split('/').pop());
    renameSync(file, dest);
    console.log(`  profile (batch 8, ${dest}): ${opShares(dest)}`);
  }
}
const after = await ortCeiling();
const ceiling = (before + after) / 2;
console.log(`ceiling after the models: ${after.toFixed(1)} GFLOP/s; mean ${ceiling.toFixed(1)} GFLOP/s`);
for (const r of rows) {
  const b8 = rows.find((x) => x.preset === r.preset && x.batch === Math.max(...batches));
  console.log(
    `${r.preset} batch ${r.batch}: ${r.msPerImage.toFixed(1)} ms/crop, ${r.gflops.toFixed(1)} GFLOP/s = ` +
      `${((100 * r.gflops) / ceiling).toFixed(1)}% of the onnxruntime ceiling` +
      (numpy === null ? '' : `, ${((100 * r.gflops) / numpy).toFixed(1)}% of numpy's`) +
      (b8 && b8 !== r
        ? `; ${((100 * r.msPerImage) / b8.msPerImage - 100).toFixed(1)}% slower per crop than batch ${b8.batch}`
        : ''),
  );
}
