// Times conv2d (src/ops/conv.ts) on the ResNet-50 conv shapes on wasm: forward vs tf.conv2d and vs an
// im2col + 2-D matmul formulation, and forward+backward (tf.conv2d's own gradient cannot run on wasm:
// Conv2DBackpropFilter is missing). Usage: npx turbo run build --filter=@iqa-bench/model &&
//   nice -n 10 node bench/model-resnet-conv.mjs [batch=8]
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../packages/model/dist/backend.js';
import { conv2d, convOutSize } from '../packages/model/dist/ops/conv.js';

const B = Number(process.argv[2] ?? 8);
const sel = await selectBackend('wasm');
console.log(`backend ${sel.name}; batch ${B}`);

function im2colConv(x, w, s, p) {
  const [kh, kw, cin, cout] = w.shape;
  const [b, h, wd] = x.shape;
  const ho = convOutSize(h, kh, s, p);
  const wo = convOutSize(wd, kw, s, p);
  const hq = Math.ceil(Math.max(h + 2 * p, kh - 1 + s * ho) / s);
  const wq = Math.ceil(Math.max(wd + 2 * p, kw - 1 + s * wo) / s);
  const xp = tf.pad(x, [
    [0, 0],
    [p, hq * s - h - p],
    [p, wq * s - wd - p],
    [0, 0],
  ]);
  const ph =
    s === 1
      ? xp
      : tf.reshape(tf.transpose(tf.reshape(xp, [b, hq, s, wq, s, cin]), [2, 4, 0, 1, 3, 5]), [
          s * s * b,
          hq,
          wq,
          cin,
        ]);
  const taps = [];
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      taps.push(
        tf.slice(
          ph,
          [((i % s) * s + (j % s)) * b, Math.floor(i / s), Math.floor(j / s), 0],
          [b, ho, wo, cin],
        ),
      );
  const cols = taps.length === 1 ? taps[0] : tf.concat(taps, 3);
  return tf.reshape(
    tf.matMul(tf.reshape(cols, [b * ho * wo, kh * kw * cin]), tf.reshape(w, [kh * kw * cin, cout])),
    [b, ho, wo, cout],
  );
}

// (Never return the typed array from tf.tidy: it walks it element by element.)
function time(f, n = 3) {
  tf.tidy(() => {
    f().dataSync();
  });
  let best = Infinity;
  for (let k = 0; k < n; k++) {
    const t0 = performance.now();
    tf.tidy(() => {
      f().dataSync();
    });
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

// name, H, cin, cout, k, stride, pad, count in ResNet-50
const cases = [
  ['stem 7x7/2', 224, 3, 64, 7, 2, 3, 1],
  ['l1 3x3', 56, 64, 64, 3, 1, 1, 3],
  ['l1 1x1 64->256', 56, 64, 256, 1, 1, 0, 4],
  ['l2 3x3/2', 56, 128, 128, 3, 2, 1, 1],
  ['l2 3x3', 28, 128, 128, 3, 1, 1, 3],
  ['l3 3x3', 14, 256, 256, 3, 1, 1, 5],
  ['l4 3x3', 7, 512, 512, 3, 1, 1, 2],
  ['ds 1x1/2 256->512', 56, 256, 512, 1, 2, 0, 1],
  ['HyperNet fc1w 3x3', 7, 112, 512, 3, 1, 1, 1],
  ['HyperNet conv1.0 1x1', 7, 2048, 1024, 1, 1, 0, 1],
];
console.log(
  'case                 | tf.conv2d fwd | conv2d fwd | im2col fwd | conv2d fwd+bwd | GFLOP/s fwd (conv2d) / fwd+bwd',
);
for (const [name, h, cin, cout, k, s, p] of cases) {
  const ho = convOutSize(h, k, s, p);
  const x = tf.randomNormal([B, h, h, cin], 0, 1, 'float32', 1);
  const w = tf.randomNormal([k, k, cin, cout], 0, 0.1, 'float32', 2);
  const pads = [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ];
  const tTf = time(() => tf.conv2d(x, w, s, pads));
  const tOurs = time(() => conv2d(x, w, null, s, p));
  const tIm = time(() => im2colConv(x, w, s, p));
  // The stem needs no input gradient (its input is the image).
  const inputGrad = name !== 'stem 7x7/2';
  const tFb = time(() => {
    const g = tf.grads((a, b) => tf.sum(conv2d(a, b, null, s, p, { inputGrad })))([x, w]);
    return tf.add(tf.sum(g[0]), tf.sum(g[1]));
  }, 2);
  const gf = (2 * B * ho * ho * k * k * cin * cout) / 1e9;
  console.log(
    `${name.padEnd(20)} | ${tTf.toFixed(1).padStart(10)} ms | ${tOurs.toFixed(1).padStart(7)} ms | ${tIm.toFixed(1).padStart(7)} ms | ${tFb.toFixed(1).padStart(11)} ms | ${((gf / tOurs) * 1e3).toFixed(1)} / ${(((3 * gf) / tFb) * 1e3).toFixed(1)}`,
  );
  tf.dispose([x, w]);
}
