#!/usr/bin/env node
// The ONNX scorer's speed as a user sees it, against yardsticks measured in the same run:
// - the machine's fp32 ceiling: a 2048³ MatMul in onnxruntime (timed in every round, between the models) and numpy's
//   sgemm 2048³ where python3 has numpy (before the rounds);
// - each preset through openOnnxScorer (CPU provider, intra-op threads = cores, spinning threads as by default):
//   wall-clock ms per crop at batch 1 and 8 (scoreImages of 224×224 images, one crop each, so the crop copy counts),
//   and GFLOP/s = 2 × MACs / time (the MACs @iqa-bench/complexity counts over the TF.js model) as a share of the
//   ceilings;
// - torch.onnx's export of a bare Swin-T backbone (tools/onnx/export_swin_backbone.py: the project's PyTorch reference
//   Swin, as timm is not installable here), run by the same onnxruntime session options under the same timer, with
//   its GFLOP/s from the MACs of @iqa-bench/model's Swin-T backbone (the same arithmetic).
// All of them are timed in interleaved rounds (each model once, then the MatMul, `--rounds` times per batch size;
// medians), so that other load on a shared machine falls on them alike.
//   npx turbo run build --filter=@iqa-bench/onnx && node bench/onnx-speed.mjs [--all] [--presets a,b] [--torch F]
//   [--rounds 7]
//   --all: also smart-iqa-small and smart-iqa-base; --torch FILE: a ready export (default: made with
//   /usr/bin/python3 tools/onnx/export_swin_backbone.py into a temporary folder; skipped without PyTorch; `none`:
//   skipped).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createModel, PRESET_NAMES } from '@iqa-bench/model';
import { openOnnxScorer, writeOnnx } from '@iqa-bench/onnx';
import * as ort from 'onnxruntime-node';
import { loadAverage, macsPerImage, matmulModel, median, numpyCeiling } from '../tools/onnx/bench-common.mjs';

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const presets = (flag('--presets') ?? 'smart-iqa-tiny,hyperiqa-resnet50').split(',');
if (args.includes('--all')) presets.push('smart-iqa-small', 'smart-iqa-base');
for (const p of presets)
  if (!PRESET_NAMES.includes(p)) throw new Error(`unknown preset ${p}; have ${PRESET_NAMES}`);
const batches = [1, 8];
const threads = availableParallelism();
// What openOnnxScorer creates its sessions with.
const sessionOptions = {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};
const tmp = mkdtempSync(join(tmpdir(), 'iqa-onnx-speed-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

await tf.setBackend('wasm');
await tf.ready();

const image = (seed) => {
  const data = new Float32Array(224 * 224 * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37 + seed) * 1.5;
  return { width: 224, height: 224, data };
};
const images = Array.from({ length: 16 }, (_, i) => ({ image: image(i) }));
const rounds = Number(flag('--rounds') ?? 7);

console.log(
  `onnxruntime-node ${ort.env.versions.node}, ${threads} intra-op threads, load average ${loadAverage()}`,
);
const numpy = numpyCeiling();
console.log(numpy === null ? 'numpy not available' : `numpy sgemm 2048³ ${numpy.toFixed(1)} GFLOP/s`);

// Every contender runs `images.length` crops per call: the scorer on each preset, torch.onnx's backbone in raw
// session runs. They are timed in interleaved rounds, together with the MatMul ceiling, so that a shared machine's
// load falls on all of them alike.
const contenders = [];
const closers = [];
let swinBackboneMacs = null;
for (const preset of presets) {
  const model = createModel(preset, { seed: 1 });
  const macs = macsPerImage(model);
  if (preset === 'smart-iqa-tiny')
    swinBackboneMacs = macsPerImage(model, (x) => model.backbone.forward(x, { training: false }));
  const file = join(tmp, `${preset}.onnx`);
  await writeOnnx(file, model, { source: preset });
  model.dispose();
  const scorer = await openOnnxScorer(file);
  closers.push(() => scorer.close());
  contenders.push({ what: preset, macs, run: (b) => scorer.scoreImages(images, { batchSize: b }) });
}

let torchFile = flag('--torch');
if (torchFile === 'none') torchFile = undefined;
else if (!torchFile) {
  const script = fileURLToPath(new URL('../tools/onnx/export_swin_backbone.py', import.meta.url));
  const out = join(tmp, 'swin-t-backbone.torch.onnx');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const r = spawnSync(python, [script, out], { encoding: 'utf8', timeout: 600_000 });
  if (r.status === 0) {
    torchFile = out;
    console.log(r.stdout.trim());
  } else
    console.log(`torch.onnx export skipped (${python}: ${(r.stderr || r.stdout).trim().split('\n').pop()})`);
}
if (torchFile) {
  if (swinBackboneMacs === null) {
    const m = createModel('smart-iqa-tiny', { seed: 1 });
    swinBackboneMacs = macsPerImage(m, (x) => m.backbone.forward(x, { training: false }));
    m.dispose();
  }
  const session = await ort.InferenceSession.create(torchFile, sessionOptions);
  closers.push(() => session.release());
  const feeds = new Map(
    batches.map((b) => {
      const x = new Float32Array(b * 3 * 224 * 224);
      for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * 1.5;
      return [b, { [session.inputNames[0]]: new ort.Tensor('float32', x, [b, 3, 224, 224]) }];
    }),
  );
  contenders.push({
    what: 'torch.onnx Swin-T backbone',
    macs: swinBackboneMacs,
    run: async (b) => {
      for (let i = 0; i < images.length / b; i++) await session.run(feeds.get(b));
    },
  });
}

// The ceiling in the same rounds: x [2048, 2048] · W (a constant, prepacked like model weights).
const n = 2048;
const matmul = await ort.InferenceSession.create(matmulModel(n), sessionOptions);
closers.push(() => matmul.release());
const mx = {
  x: new ort.Tensor(
    'float32',
    new Float32Array(n * n).map((_, i) => Math.cos(i)),
    [n, n],
  ),
};
const ceilings = new Map(); // batch size -> GFLOP/s of the MatMul in that batch size's rounds

// Each session has its own intra-op thread pool, whose threads spin for a while after a run before they sleep. A
// contender timed right after another would share the cores with the other's spinning threads (in one test, the Swin
// models ran 25 % slower after the ResNet than alone), which no user sees: let them go to sleep first.
const settle = () => new Promise((r) => setTimeout(r, 100));
const rows = [];
for (const b of batches) {
  for (const c of contenders) await c.run(b); // warm-up
  await matmul.run(mx);
  const ms = contenders.map(() => []);
  const ceilingMs = [];
  for (let r = 0; r < rounds; r++) {
    for (const [i, c] of contenders.entries()) {
      await settle();
      const t0 = performance.now();
      await c.run(b);
      ms[i].push((performance.now() - t0) / images.length);
    }
    await settle();
    const t0 = performance.now();
    await matmul.run(mx);
    ceilingMs.push(performance.now() - t0);
  }
  ceilings.set(b, (2 * n ** 3) / median(ceilingMs) / 1e6);
  for (const [i, c] of contenders.entries()) {
    const m = median(ms[i]);
    rows.push({
      what: c.what,
      batch: b,
      ms: m,
      min: Math.min(...ms[i]),
      rounds: ms[i],
      gflops: (2 * c.macs) / m / 1e6,
      gmac: c.macs / 1e9,
    });
  }
}
for (const close of closers) await close();

for (const [b, c] of ceilings)
  console.log(
    `ceiling in the batch-${b} rounds: onnxruntime MatMul 2048³ ${c.toFixed(1)} GFLOP/s (median of ${rounds})` +
      (numpy === null ? '' : `; numpy sgemm 2048³ ${numpy.toFixed(1)} GFLOP/s (before the rounds)`),
  );
console.log(`load average at the end ${loadAverage()}`);
console.log(
  '\n| model | GMAC/crop | batch | ms/crop (median) | fastest round | GFLOP/s | % of onnxruntime MatMul (same rounds) | % of numpy sgemm |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.what} | ${r.gmac.toFixed(3)} | ${r.batch} | ${r.ms.toFixed(1)} | ${r.min.toFixed(1)} | ${r.gflops.toFixed(1)} | ` +
      `${((100 * r.gflops) / ceilings.get(r.batch)).toFixed(1)} | ${numpy === null ? '–' : ((100 * r.gflops) / numpy).toFixed(1)} |`,
  );
const tiny = rows.filter((r) => r.what === 'smart-iqa-tiny');
const torch = rows.filter((r) => r.what.startsWith('torch.onnx'));
if (tiny.length === 2 && torch.length === 2)
  for (const b of batches) {
    const t = tiny.find((r) => r.batch === b);
    const s = torch.find((r) => r.batch === b);
    // The machine's speed drifts from round to round (a shared VM: ±30 % seen); the two run back to back in every
    // round, so the ratio within a round is the fair comparison.
    const paired = median(t.rounds.map((x, i) => x / s.rounds[i]));
    console.log(
      `batch ${b}: SMART-IQA-tiny (whole model, scorer) ${t.ms.toFixed(1)} ms/crop vs torch.onnx bare Swin-T backbone ` +
        `${s.ms.toFixed(1)} ms/crop: ${(100 * paired).toFixed(1)} % (median of the ${t.rounds.length} rounds' ratios; ` +
        `fastest rounds ${t.min.toFixed(1)} vs ${s.min.toFixed(1)})`,
    );
  }
