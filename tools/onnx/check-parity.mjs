#!/usr/bin/env node
// Full-size parity of the ONNX export (onnxruntime-node, CPU) with the TF.js model and, where given, the PyTorch
// reference. The committed tests cover the micro configs; this covers the full-size presets.
//   npx turbo run build --filter=@iqa-bench/onnx
//   node tools/onnx/check-parity.mjs [presets] [batches]          # ONNX vs TF.js (wasm), spread random weights
//   node tools/onnx/check-parity.mjs --reference DIR [batches]    # also vs a fixture directory of
//        tools/reference/make_fixtures.py (e.g. --size tiny / resnet50 --out DIR; needs Debian's python3-torch)
// Defaults: smart-iqa-tiny,hyperiqa-resnet50 and batches 1,8. Weights are redrawn with the spreads the reference's
// fixtures use (LayerNorm / BN scales 1 ± 0.3, biases ± 0.2, bias tables ± 1, matrices N(0, 1/fan_in)), so that a wrong
// layout anywhere moves the scores. Exits 1 when a score differs by more than 1e-4 or an attention weight by more than
// 1e-5.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createModel, loadCheckpoint } from '@iqa-bench/model';
import { exportStateDict, loadStateDict } from '@iqa-bench/model/weights';
import { exportOnnx } from '@iqa-bench/onnx';
import * as ort from 'onnxruntime-node';

const args = process.argv.slice(2);
const refAt = args.indexOf('--reference');
const refDir = refAt >= 0 ? resolve(args.splice(refAt, 2)[1]) : null;
const presets = refDir ? [] : (args[0] ?? 'smart-iqa-tiny,hyperiqa-resnet50').split(',');
const batches = (args[refDir ? 0 : 1] ?? '1,8').split(',').map(Number);

await tf.setBackend('wasm');
await tf.ready();

/** Deterministic normal draws (LCG + Box-Muller). */
function normals(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

function spreadWeights(model) {
  const sd = exportStateDict(model.params);
  let seed = 1;
  for (const [name, t] of sd) {
    if (t.dtype !== 'float32') continue;
    const z = normals(t.data.length, seed++);
    const fanIn = t.shape.slice(1).reduce((a, b) => a * b, 1);
    for (let i = 0; i < z.length; i++) {
      if (name.endsWith('relative_position_bias_table')) t.data[i] = z[i];
      else if (name.endsWith('running_mean')) t.data[i] = 0.3 * z[i];
      else if (name.endsWith('running_var')) t.data[i] = 0.5 + Math.abs(z[i]) * 0.5;
      else if (t.shape.length === 1 && name.endsWith('.weight')) t.data[i] = 1 + 0.3 * z[i];
      else if (name.endsWith('.bias')) t.data[i] = 0.2 * z[i];
      else if (t.shape.length >= 2) t.data[i] = z[i] / Math.sqrt(fanIn);
    }
  }
  loadStateDict(model.params, sd, { strict: true, source: 'spread weights' });
}

/** The reference's test image, NCHW and NHWC (tools/reference/smart_iqa.py `test_image`). */
function testImage(batch, size = 224) {
  const nchw = new Float32Array(batch * 3 * size * size);
  const nhwc = new Float32Array(nchw.length);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const v =
            Math.sin(0.37 * y + 0.11 * x * (c + 1) + 1.3 * b) +
            0.5 * Math.cos(0.013 * x * y + 0.7 * c + 0.2 * b);
          nchw[((b * 3 + c) * size + y) * size + x] = v;
          nhwc[((b * size + y) * size + x) * 3 + c] = v;
        }
  return { nchw, nhwc };
}

const maxAbs = (a, b) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
let bad = 0;

async function check(name, model, reference) {
  const t0 = performance.now();
  const bytes = exportOnnx(model, { source: name });
  const exportMs = performance.now() - t0;
  const session = await ort.InferenceSession.create(bytes);
  for (const b of batches) {
    const img = testImage(b);
    const out = await session.run({ image: new ort.Tensor('float32', img.nchw, [b, 3, 224, 224]) });
    const x = tf.tensor4d(img.nhwc, [b, 224, 224, 3]);
    const ref = model.forward(x);
    x.dispose();
    const score = maxAbs(out.score.data, ref.score.dataSync());
    const att = ref.attention ? maxAbs(out.fusion_weights.data, ref.attention.dataSync()) : null;
    tf.dispose([ref.score, ref.attention ?? []]);
    const spread = Math.max(...out.score.data) - Math.min(...out.score.data);
    const ok = score <= 1e-4 && (att === null || att <= 1e-5);
    if (!ok) bad += 1;
    console.log(
      `${name} batch ${b} vs TF.js: ${ok ? 'OK' : 'FAIL'} score |Δ| ${score.toExponential(2)}` +
        (att === null ? '' : `, fusion weights |Δ| ${att.toExponential(2)}`) +
        ` (scores spread ${spread.toFixed(3)}; export ${exportMs.toFixed(0)} ms, ${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB)`,
    );
    // The reference's image b is the same at every batch size: compare the first b images.
    if (reference && b <= reference.scores.length) {
      const rs = maxAbs(out.score.data, reference.scores.slice(0, b));
      const ra = reference.attention
        ? maxAbs(out.fusion_weights.data, reference.attention.slice(0, b).flat())
        : null;
      const rok = rs <= 1e-4 && (ra === null || ra <= 1e-5);
      if (!rok) bad += 1;
      console.log(
        `${name} batch ${b} vs PyTorch: ${rok ? 'OK' : 'FAIL'} score |Δ| ${rs.toExponential(2)}` +
          (ra === null ? '' : `, fusion weights |Δ| ${ra.toExponential(2)}`),
      );
    }
  }
  await session.release();
}

if (refDir) {
  const index = JSON.parse(readFileSync(join(refDir, 'fixture.json'), 'utf8'));
  if (!batches.includes(index.input.batch)) batches.push(index.input.batch);
  for (const entry of index.models) {
    const { model } = await loadCheckpoint(join(refDir, entry.checkpoint), { config: entry.config });
    await check(entry.name, model, entry);
    model.dispose();
  }
} else {
  for (const preset of presets) {
    const model = createModel(preset, { seed: 1, randomInit: false });
    spreadWeights(model);
    await check(preset, model, null);
    model.dispose();
  }
}
process.exit(bad === 0 ? 0 : 1);
