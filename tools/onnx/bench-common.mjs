// What the bench/onnx-*.mjs scripts share: the machine's fp32 ceiling measured in the same run (a 2048³ MatMul in
// onnxruntime with a constant, prepacked right operand, and numpy's sgemm where python3 has numpy), MACs per image as
// @iqa-bench/complexity counts them, and a median timer. Not a bench itself (bench/run.mjs runs bench/*.mjs only).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { countOps } from '@iqa-bench/complexity';
import onnxProto from 'onnx-proto';

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Median wall and CPU milliseconds of `runs` calls of f after one warm-up; stops early after `budgetMs`. */
export async function time(f, runs, budgetMs = 20_000) {
  await f();
  const wall = [];
  const cpu = [];
  const start = performance.now();
  for (let i = 0; i < runs && (i < 3 || performance.now() - start < budgetMs); i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    await f();
    wall.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/** A one-MatMul ONNX model: x [n, n] · W [n, n] (W an initializer). */
export function matmulModel(n) {
  const w = new Float32Array(n * n).map((_, i) => Math.sin(i) * 0.01);
  const square = { tensorType: { elemType: 1, shape: { dim: [{ dimValue: n }, { dimValue: n }] } } };
  return onnxProto.onnx.ModelProto.encode({
    irVersion: 9,
    opsetImport: [{ domain: '', version: 20 }],
    graph: {
      name: 'matmul',
      node: [{ opType: 'MatMul', input: ['x', 'w'], output: ['y'] }],
      initializer: [{ name: 'w', dims: [n, n], dataType: 1, rawData: new Uint8Array(w.buffer) }],
      input: [{ name: 'x', type: square }],
      output: [{ name: 'y', type: square }],
    },
  }).finish();
}

/**
 * GFLOP/s of x [n, n] · W [n, n] in onnxruntime: by wall time under `sessionOptions`, and (when `noSpin` is given) by
 * CPU time per thread under `noSpin`.
 */
export async function ortCeiling(ort, threads, sessionOptions, noSpin = null, n = 2048) {
  const x = new ort.Tensor(
    'float32',
    new Float32Array(n * n).map((_, i) => Math.cos(i)),
    [n, n],
  );
  const rate = {};
  const kinds = noSpin
    ? [
        ['wall', sessionOptions],
        ['cpu', noSpin],
      ]
    : [['wall', sessionOptions]];
  for (const [k, options] of kinds) {
    const s = await ort.InferenceSession.create(matmulModel(n), options);
    const t = await time(() => s.run({ x }), 7);
    await s.release();
    rate[k] = (2 * n ** 3) / (k === 'wall' ? t.wall : t.cpu / threads) / 1e6;
  }
  return rate;
}

/** numpy sgemm 2048³ GFLOP/s with OpenBLAS left to pick its own kernel (null without python3 / numpy). */
export function numpyCeiling(n = 2048) {
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

/**
 * MACs per image of `forward` (batch 1) as @iqa-bench/complexity counts them over the TF.js kernels (run once first,
 * so that the inference caches of derived weights are filled and not counted). `forward` defaults to the model's
 * predict; `params` to its parameters.
 */
export function macsPerImage(model, forward = (x) => model.predict(x)) {
  const x = tf.randomNormal([1, 224, 224, 3], 0, 1, 'float32', 7);
  tf.dispose(forward(x));
  const macs = countOps(() => forward(x), { params: model.params, inputs: [x] }).macs;
  x.dispose();
  return macs;
}

/** The 1-minute load average, for the report. */
export function loadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
