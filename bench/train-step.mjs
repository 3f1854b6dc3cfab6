// Time per training step (forward + backward over micro-batches with gradient accumulation, clip_grad_norm, AdamW)
// of a preset at an effective batch, on one backend. Imports the built dists:
//   npx turbo run build --filter=@iqa-bench/train... && nice -n 10 node bench/train-step.mjs [options]
// Options:
//   --preset smart-iqa-tiny       model preset
//   --batch 8                     effective batch (one optimizer step)
//   --micro 2                     images per forward/backward pass
//   --checkpointing on|off        per-block activation checkpointing (default on)
//   --loss l1|plcc|...            l1 is one pass per micro-batch; batch-level losses take a second forward
//   --steps 3                     timed steps (after one warm-up step)
//   --backend wasm|cpu|tensorflow|auto (default wasm)
//   --workers 1                   worker threads sharing the micro-batches (2 = both cores; same numbers)
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@iqa-bench/model';
import { buildModel, parseTrainConfig } from '@iqa-bench/train';
import { Adam, clipGradNorm, originalParamGroups } from '@iqa-bench/train/optim';
import { localRunner, stepGradients, workerRunner } from '@iqa-bench/train/steps';
import { RngStream } from '@iqa-bench/core/seed';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const preset = option('preset', 'smart-iqa-tiny');
const batch = Number(option('batch', '8'));
const micro = Number(option('micro', '2'));
const checkpointing = option('checkpointing', 'on') === 'on';
const steps = Number(option('steps', '3'));
const backendPref = option('backend', 'wasm');
const nWorkers = Number(option('workers', '1'));

const backend = await selectBackend(backendPref);
const cfg = parseTrainConfig({
  backend: backendPref,
  dataset: { kind: 'csv', root: '-' },
  model: { preset },
  loss: { kind: option('loss', 'l1') },
  training: { batchSize: batch },
  memory: { microBatchSize: micro, activationCheckpointing: checkpointing, workers: nWorkers },
});
const model = await buildModel(cfg, 1);
const trainable = model.params.filter((p) => p.trainable);
const groups = originalParamGroups(
  trainable.map((p) => p.name),
  cfg.optimizer,
);
const opt = new Adam(
  trainable.map((p) => ({ name: p.name, variable: p.variable })),
  groups,
  { kind: 'adamw' },
);
const S = 224;
const rng = RngStream.fromPath('iqa-bench-stream', 1, 'bench');
const x = Float32Array.from({ length: batch * S * S * 3 }, () => (rng.next() - 0.5) * 4);
const labels = Float32Array.from({ length: batch }, () => rng.next());

const runner = nWorkers > 1 ? await workerRunner(cfg, model, nWorkers, 1) : localRunner(model);

async function step(k) {
  const r = await stepGradients(runner, {
    x,
    labels,
    size: S,
    microBatchSize: micro,
    loss: cfg.loss,
    seed: 1,
    seedPath: ['step', k],
    checkpointing,
  });
  const c = clipGradNorm(r.grads, 1);
  tf.dispose([...r.grads.values()]);
  opt.applyGradients(c.grads);
  runner.paramsChanged?.();
  tf.dispose([...c.grads.values()]);
  return r.loss;
}

const heap = () => (backend.name === 'wasm' ? tf.backend().wasm.HEAP8.length / 2 ** 20 : NaN);
let t = performance.now();
await step(0);
const warm = performance.now() - t;
const times = [];
for (let k = 1; k <= steps; k++) {
  t = performance.now();
  await step(k);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const med = times[Math.floor(times.length / 2)];
const result = {
  preset,
  backend: backend.name,
  batch,
  micro,
  checkpointing,
  workers: nWorkers,
  loss: cfg.loss.kind,
  warmupMs: Math.round(warm),
  stepMs: times.map((v) => Math.round(v)),
  medianStepMs: Math.round(med),
  msPerImage: Math.round(med / batch),
  wasmHeapMiB: Math.round(heap()),
  numTensors: tf.memory().numTensors,
};
console.log(
  `${preset} ${backend.name} batch ${batch} (micro ${micro}${checkpointing ? ', checkpointing' : ''}, ${nWorkers} worker${nWorkers > 1 ? 's' : ''}): ` +
    `${(med / 1000).toFixed(2)} s/step median of ${steps}, ${(med / batch / 1000).toFixed(2)} s/image, heap ${result.wasmHeapMiB} MiB`,
);
console.log(JSON.stringify(result));
opt.dispose();
await runner.close?.();
model.dispose();
