#!/usr/bin/env node
// Forward speed of the exported ONNX graphs in onnxruntime-node (CPU execution provider, intra-op threads = cores)
// against the machine's fp32 ceiling measured in the same run: a 2048³ MatMul in onnxruntime (constant right operand,
// prepacked as the model's weights are), before and after the models, and numpy's sgemm where python3 has numpy.
//   npx turbo run build --filter=@iqa-bench/onnx && node bench/onnx-forward.mjs [presets] [batches] [--profile DIR]
//   defaults: smart-iqa-tiny,hyperiqa-resnet50 and batches 1,8
// GFLOP/s = 2 × MACs / time, with the MACs per image that @iqa-bench/complexity counts over the TF.js model's
// kernels (convs, linear layers, the attention products, the TargetNet; counted once on the wasm backend). Two times:
// wall (onnxruntime's default spinning threads; what a user sees on an idle machine) and CPU time per thread with
// spinning off (the work itself; other processes on a shared machine do not inflate it), each against the ceiling
// measured the same way.
// --profile DIR: writes each preset's onnxruntime-optimized graph (DIR/<preset>.optimized.onnx) and an onnxruntime
// profile of batch 8 (DIR/<preset>-profile_<time>.json), and prints the share of time per operator type.
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createModel, PRESET_NAMES } from '@iqa-bench/model';
import { exportOnnx } from '@iqa-bench/onnx';
import * as ort from 'onnxruntime-node';
import {
  loadAverage,
  macsPerImage,
  numpyCeiling,
  ortCeiling as ortCeilingOf,
  time,
} from '../tools/onnx/bench-common.mjs';

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
// The same without spinning threads: its CPU time is the work done, whatever else runs on the machine.
const noSpin = { ...sessionOptions, extra: { session: { intra_op: { allow_spinning: '0' } } } };

await tf.setBackend('wasm');
await tf.ready();

const ortCeiling = () => ortCeilingOf(ort, threads, sessionOptions, noSpin);

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

const uptime = loadAverage();
console.log(`onnxruntime-node ${ort.env.versions.node}, ${threads} intra-op threads, load average ${uptime}`);
console.log(
  'wall: spinning threads (the default), ms by the clock; CPU: no spinning, GFLOP/s per CPU-second × threads ' +
    '(the work done, not counting time other processes hold the cores)',
);
const before = await ortCeiling();
const numpy = numpyCeiling();
console.log(
  `ceiling: onnxruntime MatMul 2048³ ${before.wall.toFixed(1)} GFLOP/s (wall), ${before.cpu.toFixed(1)} (CPU)` +
    (numpy === null ? ' (numpy not available)' : `; numpy sgemm 2048³ ${numpy.toFixed(1)} GFLOP/s (wall)`),
);

const rows = [];
for (const preset of presets) {
  const model = createModel(preset, { seed: 1 });
  const macs = macsPerImage(model);
  const t0 = performance.now();
  const bytes = exportOnnx(model, { source: preset });
  const exportMs = performance.now() - t0;
  model.dispose();
  console.log(
    `${preset}: ${(macs / 1e9).toFixed(3)} GMAC/img, ONNX ${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB exported in ` +
      `${exportMs.toFixed(0)} ms`,
  );
  const spin = { ...sessionOptions };
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    spin.optimizedModelFilePath = join(profileDir, `${preset}.optimized.onnx`);
  }
  const sessions = {
    wall: await ort.InferenceSession.create(bytes, spin),
    cpu: await ort.InferenceSession.create(bytes, noSpin),
  };
  for (const b of batches) {
    const x = new Float32Array(b * 3 * 224 * 224).map((_, i) => Math.sin(i * 0.37) * 1.5);
    const feeds = { image: new ort.Tensor('float32', x, [b, 3, 224, 224]) };
    const row = { preset, batch: b };
    for (const k of ['wall', 'cpu']) {
      const t = await time(() => sessions[k].run(feeds), b === 1 ? 15 : 5);
      const ms = k === 'wall' ? t.wall : t.cpu / threads;
      row[k] = { msPerImage: ms / b, gflops: (2 * macs * b) / ms / 1e6 };
    }
    rows.push(row);
  }
  await sessions.wall.release();
  await sessions.cpu.release();
  if (profileDir) {
    const prefix = join(profileDir, `${preset}-profile`);
    const s = await ort.InferenceSession.create(bytes, {
      ...noSpin,
      enableProfiling: true,
      profileFilePrefix: prefix,
    });
    const feeds = {
      image: new ort.Tensor('float32', new Float32Array(8 * 3 * 224 * 224).fill(0.5), [8, 3, 224, 224]),
    };
    for (let i = 0; i < 3; i++) await s.run(feeds);
    s.endProfiling();
    await s.release();
    const dest = readdirSync(profileDir)
      .filter((f) => f.startsWith(`${preset}-profile`) && f.endsWith('.json'))
      .map((f) => join(profileDir, f))
      .sort((x, y) => statSync(y).mtimeMs - statSync(x).mtimeMs)[0];
    console.log(`  profile (batch 8, ${dest}): ${opShares(dest)}`);
  }
}
const after = await ortCeiling();
const ceiling = { wall: (before.wall + after.wall) / 2, cpu: (before.cpu + after.cpu) / 2 };
console.log(
  `ceiling after the models: ${after.wall.toFixed(1)} GFLOP/s (wall), ${after.cpu.toFixed(1)} (CPU); ` +
    `mean ${ceiling.wall.toFixed(1)} (wall), ${ceiling.cpu.toFixed(1)} (CPU)`,
);
const last = Math.max(...batches);
for (const r of rows) {
  const big = rows.find((x) => x.preset === r.preset && x.batch === last);
  for (const k of ['wall', 'cpu']) {
    const m = r[k];
    console.log(
      `${r.preset} batch ${r.batch} [${k}]: ${m.msPerImage.toFixed(1)} ms/crop, ${m.gflops.toFixed(1)} GFLOP/s = ` +
        `${((100 * m.gflops) / ceiling[k]).toFixed(1)}% of the onnxruntime ceiling` +
        (numpy === null || k === 'cpu' ? '' : `, ${((100 * m.gflops) / numpy).toFixed(1)}% of numpy's`) +
        (big !== r
          ? `; per crop ${((100 * m.msPerImage) / big[k].msPerImage - 100).toFixed(1)}% vs batch ${last}`
          : ''),
    );
  }
}
