// Weights I/O at full size: reading the original's checkpoints (torch.save zip of a SMART-IQA HyperNet, legacy
// torch.save of a ResNet-50 HyperNet), inferring the architecture, building and loading, and writing / reading
// safetensors and the TensorFlow.js format. Imports the built dist:
//   /usr/bin/python3 tools/checkpoints/make_fixtures.py --full /tmp/iqa-weights-full
//   npx turbo run build --filter=@iqa-bench/model && nice -n 10 node bench/model-weights.mjs [--dir /tmp/iqa-weights-full] [--backend wasm]
// Each step runs --runs times (default 3) and reports the best wall time; RSS is sampled after each step.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../packages/model/dist/backend.js';
import {
  loadCheckpoint,
  loadTfjsModel,
  saveSafetensors,
  saveTfjsModel,
} from '../packages/model/dist/checkpoint.js';
import { inferConfig } from '../packages/model/dist/weights/infer.js';
import { exportStateDict } from '../packages/model/dist/weights/load.js';
import { readWeights } from '../packages/model/dist/weights/read.js';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const dir = option('dir', '/tmp/iqa-weights-full');
const runs = Number(option('runs', '3'));
const backend = await selectBackend(option('backend', 'wasm'));
console.log(`backend: ${backend.name} (${backend.reason}); node ${process.version}; runs ${runs} (best)`);
const out = mkdtempSync(join(tmpdir(), 'iqa-weights-bench-'));
const rows = [];
const mb = (n) => n / 2 ** 20;

async function time(label, bytes, fn, after) {
  let best = Infinity;
  let result;
  for (let i = 0; i < runs; i++) {
    if (result !== undefined && after) after(result);
    const t0 = performance.now();
    result = await fn();
    best = Math.min(best, performance.now() - t0);
  }
  const rss = mb(process.memoryUsage().rss);
  rows.push({
    step: label,
    ms: best.toFixed(0),
    'MB/s': bytes ? (mb(bytes) / (best / 1000)).toFixed(0) : '',
    'RSS MB': rss.toFixed(0),
  });
  return result;
}

const disposeModel = (r) => r.model.dispose();

for (const name of ['smart-iqa-tiny.pkl', 'smart-iqa-base.pkl', 'hyperiqa-resnet50.legacy.pkl']) {
  const path = join(dir, name);
  const size = statSync(path).size;
  const file = await time(`${name}: read + unpickle + copy tensors (${mb(size).toFixed(0)} MB)`, size, () =>
    readWeights(path),
  );
  await time(`${name}: inferConfig`, 0, () => inferConfig(file.stateDict));
  let loaded;
  try {
    loaded = await time(
      `${name}: loadCheckpoint (read, infer, build, load)`,
      size,
      () => loadCheckpoint(path),
      disposeModel,
    );
  } catch (err) {
    rows.push({
      step: `${name}: loadCheckpoint`,
      ms: `skipped: ${err.message.split('\n')[0].slice(0, 80)}`,
      'MB/s': '',
      'RSS MB': '',
    });
    continue;
  }
  const st = join(out, name.replace(/\..*$/, '.safetensors'));
  await time(`${name}: exportStateDict`, size, () => exportStateDict(loaded.model.params));
  await time(`${name}: saveSafetensors`, size, () => saveSafetensors(st, loaded.model.params, loaded.config));
  await time(`${name}: read .safetensors`, size, () => readWeights(st));
  await time(`${name}: loadCheckpoint(.safetensors)`, size, () => loadCheckpoint(st), disposeModel);
  const tfjsDir = join(out, name.replace(/\..*$/, '-tfjs'));
  await time(`${name}: saveTfjsModel`, size, () =>
    saveTfjsModel(tfjsDir, loaded.model.params, loaded.config),
  );
  await time(`${name}: loadTfjsModel`, size, () => loadTfjsModel(tfjsDir), disposeModel);
  loaded.model.dispose();
  rmSync(st, { force: true });
  rmSync(tfjsDir, { recursive: true, force: true });
}
rmSync(out, { recursive: true, force: true });
console.table(rows);
// Everything created above was disposed: no tensor may be left.
console.log(`tensors alive at the end: ${tf.memory().numTensors}`);
