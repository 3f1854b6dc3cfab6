// Full-size parity of the ResNet backbone against the PyTorch reference (not part of the test suite: the fixtures are
// ~140 MB). Generate them, then compare:
//   /usr/bin/python3 tools/reference/resnet.py --full /tmp/resnet50-ref
//   npx turbo run build --filter=@iqa-bench/model && nice -n 10 node bench/model-resnet-parity.mjs /tmp/resnet50-ref
// Reports max|diff|/max|ref| of the eval and train-mode stage maps, the loss, the gradients and the BN running
// statistics after the train-mode forward (the micro version of the same checks is src/resnet.test.ts).
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { ParamStore, selectBackend } from '@iqa-bench/model';
import { createResNetBackbone } from '@iqa-bench/model/resnet';
import { loadStateDict, readSafetensors, readWeights } from '@iqa-bench/model/weights';

const dir = process.argv[2] ?? '/tmp/resnet50-ref';
const name = process.argv[3] ?? 'resnet50';
await selectBackend('wasm');
const gold = await readSafetensors(path.join(dir, `${name}-golden.safetensors`));
const cfg = JSON.parse(gold.metadata.config);
const g = (k) => gold.tensors.get(k);
const tensor = (k) => tf.tensor(g(k).data, g(k).shape);
function rel(a, b) {
  let md = 0;
  let mb = 0;
  for (let i = 0; i < a.length; i++) {
    md = Math.max(md, Math.abs(a[i] - b[i]));
    mb = Math.max(mb, Math.abs(b[i]));
  }
  return md / mb;
}

const store = new ParamStore('parity');
const backbone = createResNetBackbone(store, cfg, 'res', { seed: 1, randomInit: false });
const t0 = performance.now();
loadStateDict(store, (await readWeights(path.join(dir, `${name}.pth`))).stateDict, { source: `${name}.pth` });
console.log(
  `${name}: ${JSON.stringify(cfg)}, torch ${gold.metadata.torch}; loaded in ${(performance.now() - t0).toFixed(0)} ms`,
);

const x = tensor('input');
const evalFeats = tf.tidy(() => backbone.forward(x, { training: false, blockMemory: 'tidy' }));
const evalErr = evalFeats.map((f, i) => rel(f.dataSync(), g(`eval.f${i + 1}`).data));
tf.dispose(evalFeats);
console.log(`eval stage maps: max rel error ${evalErr.map((e) => e.toExponential(2)).join(' / ')}`);

const gradNames = [...gold.tensors.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5));
const vars = gradNames.map((n) => store.get(n));
const kept = [];
const { value, grads } = tf.variableGrads(() => {
  const feats = backbone.forward(x, { training: true, seeds: () => 1 });
  feats.forEach((f) => kept.push(tf.keep(f)));
  return tf.addN(feats.map((f, i) => tf.mean(tf.mul(f, tensor(`r${i + 1}`)))));
}, vars);
const f64 = gold.tensors.has('f64.train.f1');
const fmt = (e) => e.toExponential(2);
const trainErr = kept.map((f, i) => fmt(rel(f.dataSync(), g(`train.f${i + 1}`).data)));
console.log(`train stage maps: max rel error vs torch float32 ${trainErr.join(' / ')}`);
if (f64) {
  // How far each float32 implementation is from the exact (float64) values.
  const ours = kept.map((f, i) => fmt(rel(f.dataSync(), g(`f64.train.f${i + 1}`).data)));
  const torch32 = kept.map((_, i) => fmt(rel(g(`train.f${i + 1}`).data, g(`f64.train.f${i + 1}`).data)));
  console.log(`  vs torch float64: ours ${ours.join(' / ')}; torch float32 ${torch32.join(' / ')}`);
}
console.log(
  `train loss: ours ${value.dataSync()[0]}, torch float32 ${g('train.loss').data[0]}` +
    (f64 ? `, torch float64 ${g('f64.train.loss').data[0]}` : ''),
);
let worstGrad = 0;
for (const n of gradNames) {
  const v = store.get(n);
  const gr = (v.rank === 4 ? tf.transpose(grads[v.name], [3, 2, 0, 1]) : grads[v.name]).dataSync();
  const e = rel(gr, g(`grad.${n}`).data);
  worstGrad = Math.max(worstGrad, e);
  const extra = f64
    ? `; vs float64: ours ${fmt(rel(gr, g(`f64.grad.${n}`).data))}, torch float32 ${fmt(rel(g(`grad.${n}`).data, g(`f64.grad.${n}`).data))}`
    : '';
  console.log(`  grad ${n}: vs torch float32 ${fmt(e)}${extra}`);
}
let worstStat = 0;
for (const n of store.names()) {
  if (!/running_(mean|var)$|num_batches_tracked$/.test(n)) continue;
  worstStat = Math.max(worstStat, rel(Array.from(store.get(n).dataSync()), g(`after.${n}`).data));
}
console.log(
  `worst gradient error ${worstGrad.toExponential(2)}; worst running-statistic error ${worstStat.toExponential(2)}`,
);
