// Complexity table of the four presets (SMART-IQA Tiny / Small / Base, HyperIQA-ResNet50) at 224x224: parameters,
// MACs and FLOPs counted from the executed kernels, batch-1 latency, throughput, peak memory, and the checks against
// the published figures. Imports the built dists:
//   npx turbo run build --filter=@iqa-bench/complexity... && nice -n 10 node bench/complexity.mjs [options]
// Options:
//   --backend wasm|cpu|tensorflow|auto   (default wasm)
//   --models a,b,...                     presets (default smart-iqa-tiny,smart-iqa-small,smart-iqa-base,hyperiqa-resnet50)
//   --timing whole|hypernet              what latency/throughput time (default whole; the original timed the HyperNet)
//   --warmup N --runs N                  batch-1 latency (default 2 / 5)
//   --throughput 1,4,8,16,32 | none      throughput batch sizes (default none)
//   --min-time MS                        per throughput batch size (default 0: one timed batch)
//   --counts-only                        parameters and op counts only
//   --out report.json                    write the JSON report (atomically)
//   --latex                              also print the LaTeX table
// Models are built with random weights (seed 1): complexity does not depend on the weights.
import { renameSync, writeFileSync } from 'node:fs';
import {
  analyzeModel,
  detectGpuName,
  mergeReports,
  toLatex,
  toMarkdown,
} from '../packages/complexity/dist/index.js';
import { createModel, selectBackend } from '../packages/model/dist/index.js';

const ALL = ['smart-iqa-tiny', 'smart-iqa-small', 'smart-iqa-base', 'hyperiqa-resnet50'];
const LABELS = {
  'smart-iqa-tiny': 'SMART-IQA Tiny (Swin-T)',
  'smart-iqa-small': 'SMART-IQA Small (Swin-S)',
  'smart-iqa-base': 'SMART-IQA Base (Swin-B)',
  'hyperiqa-resnet50': 'HyperIQA (ResNet-50)',
};

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name}: expected a value`);
  return v;
}
const flag = (name) => process.argv.includes(`--${name}`);
const int = (name, fallback) => {
  const v = Number(option(name, String(fallback)));
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name}: expected a non-negative integer`);
  return v;
};

const models = option('models', ALL.join(',')).split(',');
for (const m of models)
  if (!ALL.includes(m)) throw new Error(`--models: unknown preset '${m}'; expected ${ALL.join(', ')}`);
const timing = option('timing', 'whole');
if (!['whole', 'hypernet'].includes(timing))
  throw new Error(`--timing: expected whole or hypernet, got '${timing}'`);
const countsOnly = flag('counts-only');
const tp = option('throughput', 'none');
const throughputSizes = tp === 'none' ? null : tp.split(',').map(Number);
const out = option('out', null);

const selection = await selectBackend(option('backend', 'wasm'));
console.error(
  `backend ${selection.name} (${selection.package}, ${selection.threads} thread(s)): ${selection.reason}`,
);

const gpu = selection.package === '@tensorflow/tfjs-node-gpu' ? detectGpuName() : null;
const reports = [];
for (const preset of models) {
  const t0 = performance.now();
  let model;
  try {
    model = createModel(preset, { seed: 1 });
  } catch (e) {
    console.error(`${preset}: not measured: ${e instanceof Error ? e.message : String(e)}`);
    continue;
  }
  const built = performance.now();
  try {
    const report = await analyzeModel(model, {
      name: LABELS[preset],
      description: preset,
      timing,
      latency: countsOnly ? false : { warmup: int('warmup', 2), runs: int('runs', 5) },
      throughput:
        countsOnly || throughputSizes === null
          ? false
          : { batchSizes: throughputSizes, minTimeMs: int('min-time', 0), warmup: 1 },
      environment: { threads: selection.threads, gpu },
    });
    reports.push(report);
    console.error(
      `${preset}: built in ${((built - t0) / 1000).toFixed(1)} s, analysed in ${((performance.now() - built) / 1000).toFixed(1)} s`,
    );
  } finally {
    model.dispose();
  }
}
if (reports.length === 0) throw new Error('no model could be measured');
const merged = mergeReports(reports);

console.log(toMarkdown(merged));
const pct = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;
const num = (x) => (x >= 1e8 ? `${(x / 1e9).toFixed(4)} G` : x.toLocaleString('en-US'));
console.log('| model | quantity | reference | measured | difference | source |');
console.log('|---|---|---:|---:|---:|---|');
for (const m of merged.models) {
  for (const c of m.references) {
    console.log(
      `| ${m.name} | ${c.quantity} | ${num(c.reference)} | ${num(c.measured)} | ${pct(c.relativeDifference)} | ${c.source} |`,
    );
  }
}
console.log('');
for (const m of merged.models) {
  const w = m.ops.whole;
  console.log(
    `${m.name}: ${w.kernelCalls} kernels; MACs ${num(w.macs)} = layers ${num(w.weightMacs)} + attention/TargetNet ` +
      `${num(w.activationMacs)} + input-independent ${num(w.inputIndependent?.macs ?? 0)}; FLOPs ${num(w.flops)}; ` +
      `peak tensor memory ${(w.memory.peakBytes / 2 ** 20).toFixed(0)} MiB`,
  );
  for (const n of m.notes) console.log(`  - ${n}`);
  for (const c of m.references) if (c.note) console.log(`  - ${c.quantity} (${c.source}): ${c.note}`);
}
if (flag('latex')) console.log(`\n${toLatex(merged)}`);
if (out) {
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(merged, null, 2)}\n`);
  renameSync(tmp, out);
  console.error(`report written to ${out}`);
}
