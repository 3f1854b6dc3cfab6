// Trains a small model on the synthetic dataset (@iqa-bench/data's generator, kadid10k layout, reference-disjoint
// random split) and reports the held-out test SRCC/PLCC and the wall time: the learning check behind the CI gate.
// Imports the built dists:
//   npx turbo run build --filter=@iqa-bench/cli... && nice -n 10 node bench/train-synthetic.mjs [options]
// Options (defaults = the gate configuration):
//   --config file.yaml|json   a full training config instead of the built-in one (its dataset.root is overridden)
//   --out DIR                 run directory (default: a fresh temporary folder)
//   --data DIR                reuse a generated dataset folder (default: generate into a temporary folder)
//   --refs N --size WxH       synthetic dataset: reference scenes and image size (default: the recipe's, 96 and 160x160)
//   --seed S                  run and dataset seed (default 1)
//   --epochs N                override training.epochs
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from '@iqa-bench/data';
import { createProgress, loadTrainConfig, parseTrainConfig, runTraining } from '@iqa-bench/train';
import {
  SYNTHETIC_EPOCHS,
  SYNTHETIC_REFS,
  SYNTHETIC_SIZE,
  syntheticRecipe,
} from '../packages/cli/dist/recipes.js';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const seed = Number(option('seed', '1'));
const refs = Number(option('refs', String(SYNTHETIC_REFS)));
const [w, h] = option('size', SYNTHETIC_SIZE.join('x')).split('x').map(Number);
const t0 = performance.now();

let root = option('data', null);
if (root === null || !existsSync(root) || readdirSync(root).length === 0) {
  root = root ?? mkdtempSync(join(tmpdir(), 'iqa-synth-'));
  await generateSynthetic({ layout: 'kadid10k', out: root, seed, refs, width: w, height: h });
}
const tData = performance.now();

// The gate configuration is the CLI's `train --recipe synthetic` (also the demo's training): one definition, in
// packages/cli/src/recipes.ts, so this bench and the CI gate's baseline cannot drift apart.
const builtIn = syntheticRecipe(root, { seed, epochs: SYNTHETIC_EPOCHS, backend: 'wasm' });
const file = option('config', null);
let cfg = file ? { ...loadTrainConfig(file) } : parseTrainConfig(builtIn, 'bench built-in');
cfg = parseTrainConfig({ ...cfg, dataset: { ...cfg.dataset, root } }, 'bench');
const epochs = option('epochs', null);
if (epochs !== null)
  cfg = parseTrainConfig({ ...cfg, training: { ...cfg.training, epochs: Number(epochs) } }, 'bench');

const out = option('out', null) ?? mkdtempSync(join(tmpdir(), 'iqa-train-'));
const summary = await runTraining(cfg, out, { progress: createProgress() });
const wall = (performance.now() - t0) / 1000;
const m = summary.metrics;
console.log(
  `test SRCC ${m.srcc.best.toFixed(4)} PLCC ${m.plcc.best.toFixed(4)} (best epoch by val ${cfg.earlyStopping.metric}; ` +
    `final-epoch SRCC ${m.srcc.final.toFixed(4)}), n = ${JSON.stringify(summary.n)}, ` +
    `data ${((tData - t0) / 1000).toFixed(1)} s, training ${summary.wallSeconds.toFixed(1)} s, total ${wall.toFixed(1)} s`,
);
console.log(
  JSON.stringify({
    srcc: m.srcc.best,
    plcc: m.plcc.best,
    srccFinal: m.srcc.final,
    n: summary.n,
    wallSeconds: wall,
    runDir: out,
  }),
);
