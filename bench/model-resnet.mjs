// ResNet-50 backbone (HyperIQA) on wasm: eval forward at batch 1 and 8, and a training step (forward + backward,
// BN in training mode) at batch 2, with achieved GFLOP/s next to the same backend's rate on a large plain matmul
// measured in the same run.
// Usage: npx turbo run build --filter=@iqa-bench/model && nice -n 10 node bench/model-resnet.mjs [batches=1,8] [trainBatch=2]
import * as tf from '@tensorflow/tfjs';
import { ParamStore, selectBackend } from '@iqa-bench/model';
import { createResNetBackbone } from '@iqa-bench/model/resnet';

const batches = (process.argv[2] ?? '1,8').split(',').map(Number);
const trainBatch = Number(process.argv[3] ?? 2);
const sel = await selectBackend('wasm');
console.log(`backend ${sel.name} (${sel.threads} thread), tfjs ${sel.tfjsVersion}`);

// Multiply-accumulates of one 224x224 image through the backbone (convs only; BN/ReLU/pool/add excluded).
function resnetMacs(layers, base, size) {
  let macs = 0;
  let h = Math.floor((size + 6 - 7) / 2) + 1;
  macs += h * h * 7 * 7 * 3 * base;
  h = Math.floor((h + 2 - 3) / 2) + 1;
  let cin = base;
  layers.forEach((n, i) => {
    const w = base * 2 ** i;
    for (let k = 0; k < n; k++) {
      const s = k === 0 && i > 0 ? 2 : 1;
      const ho = Math.floor((h + 2 - 3) / s) + 1;
      macs += h * h * cin * w + ho * ho * 9 * w * w + ho * ho * w * 4 * w;
      if (s !== 1 || cin !== 4 * w) macs += ho * ho * cin * 4 * w;
      h = ho;
      cin = 4 * w;
    }
  });
  return macs;
}
const MACS = resnetMacs([3, 4, 6, 3], 64, 224);
console.log(`ResNet-50 backbone: ${(MACS / 1e9).toFixed(3)} GMAC per image`);

function matmulRate() {
  const a = tf.randomNormal([1024, 1024], 0, 1, 'float32', 1);
  const b = tf.randomNormal([1024, 1024], 0, 1, 'float32', 2);
  tf.tidy(() => {
    tf.matMul(a, b).dataSync();
  });
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    tf.tidy(() => {
      tf.matMul(a, b).dataSync();
    });
    best = Math.min(best, performance.now() - t0);
  }
  tf.dispose([a, b]);
  return { ms: best, gflops: (2 * 1024 ** 3) / best / 1e6 };
}

const store = new ParamStore('bench');
const backbone = createResNetBackbone(
  store,
  { kind: 'resnet', layers: [3, 4, 6, 3], baseWidth: 64, imgSize: 224 },
  'res',
  {
    seed: 1,
  },
);
const mm = matmulRate();
console.log(`matmul 1024^3: ${mm.ms.toFixed(1)} ms = ${mm.gflops.toFixed(1)} GFLOP/s`);

for (const b of batches) {
  const x = tf.randomNormal([b, 224, 224, 3], 0, 1, 'float32', 3);
  const run = () => {
    const feats = backbone.forward(x, { training: false, blockMemory: 'tidy' });
    feats[3].dataSync();
    tf.dispose(feats);
  };
  run();
  const times = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  const best = Math.min(...times);
  const gf = (2 * MACS * b) / best / 1e6;
  console.log(
    `eval forward B=${b}: ${best.toFixed(0)} ms (runs ${times.map((t) => t.toFixed(0)).join(', ')}), ${(best / b).toFixed(0)} ms/img, ` +
      `${gf.toFixed(1)} GFLOP/s = ${((100 * gf) / mm.gflops).toFixed(0)}% of the matmul rate; heap tensors ${tf.memory().numTensors}`,
  );
  x.dispose();
}

if (trainBatch > 0) {
  const x = tf.randomNormal([trainBatch, 224, 224, 3], 0, 1, 'float32', 4);
  const vars = store.trainableVariables();
  const step = () => {
    const { value, grads } = tf.variableGrads(() => {
      const feats = backbone.forward(x, { training: true, seeds: () => 1 });
      return tf.addN(feats.map((f) => tf.mean(f)));
    }, vars);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const t0 = performance.now();
  step();
  const ms = performance.now() - t0;
  console.log(
    `train step (fwd+bwd, BN batch stats) B=${trainBatch}: ${ms.toFixed(0)} ms, ${(ms / trainBatch).toFixed(0)} ms/img, ` +
      `${((3 * 2 * MACS * trainBatch) / ms / 1e6).toFixed(1)} GFLOP/s (at 3x forward MACs); wasm heap ${(tf.memory().numBytes / 2 ** 20).toFixed(0)} MiB live`,
  );
  x.dispose();
}
store.dispose();
