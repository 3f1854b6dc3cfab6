#!/usr/bin/env node
// Memory of inference on the wasm backend (4 GiB heap, never shrinks):
//  1. tf.memory().numTensors over 1,000 predictions of the micro model (must stay flat);
//  2. the largest wasm heap of a smart-iqa-base forward at batch 16 (per-block tf.tidy), and its time.
//   npx turbo run build --filter=@iqa-bench/model && node bench/model-memory.mjs [preset] [batch]
//   defaults: smart-iqa-base 16
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createModel } from '@iqa-bench/model';

const preset = process.argv[2] ?? 'smart-iqa-base';
const batch = Number(process.argv[3] ?? 16);
await tf.setBackend('wasm');
await tf.ready();
const heapMiB = () => tf.backend().wasm.HEAPU8.length / 2 ** 20;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

{
  const model = createModel('smart-iqa-micro', { seed: 1 });
  const x = tf.randomNormal([1, 224, 224, 3], 0, 1, 'float32', 3);
  model.predict(x).dispose(); // fills the inference cache
  const counts = [];
  const t0 = performance.now();
  for (let i = 1; i <= 1000; i++) {
    model.predict(x).dispose();
    if (i % 250 === 0) counts.push(tf.memory().numTensors);
  }
  const ms = (performance.now() - t0) / 1000;
  console.log(
    `smart-iqa-micro: numTensors after 250/500/750/1000 predictions: ${counts.join(' / ')} ` +
      `(${ms.toFixed(1)} ms per prediction); heap ${heapMiB().toFixed(0)} MiB`,
  );
  x.dispose();
  model.dispose();
}

{
  const before = heapMiB();
  const model = createModel(preset, { seed: 1 });
  const x = tf.randomNormal([batch, 224, 224, 3], 0, 1, 'float32', 3);
  const params = heapMiB();
  const c0 = cpuMs();
  const w0 = performance.now();
  const s = model.predict(x);
  s.dataSync();
  const cpu = cpuMs() - c0;
  const wall = performance.now() - w0;
  const after = heapMiB();
  const n0 = tf.memory().numTensors;
  s.dispose();
  model.predict(x).dispose(); // second call: cache warm, heap must not grow further
  console.log(
    `${preset} batch ${batch}: heap ${before.toFixed(0)} MiB at start, ${params.toFixed(0)} MiB with weights and input, ` +
      `${after.toFixed(0)} MiB after the forward, ${heapMiB().toFixed(0)} MiB after a second one (limit 4096); ` +
      `first forward ${(cpu / 1000).toFixed(1)} s CPU / ${(wall / 1000).toFixed(1)} s wall ` +
      `(${(cpu / batch).toFixed(0)} ms CPU per image, incl. weight packing); numTensors ${n0} -> ${tf.memory().numTensors - 0}`,
  );
  x.dispose();
  model.dispose();
  console.log(`tf.memory() after disposal: ${tf.memory().numTensors} tensors`);
}
