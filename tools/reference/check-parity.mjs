#!/usr/bin/env node
// Compares @iqa-bench/model with a fixture directory written by tools/reference/make_fixtures.py (e.g. the full-size
// runs, which are not committed):
//   /usr/bin/python3 tools/reference/make_fixtures.py --size tiny --out /tmp/parity-tiny
//   npx turbo run build --filter=@iqa-bench/model && node tools/reference/check-parity.mjs /tmp/parity-tiny [wasm|cpu]
// Prints, per model, the relative error of every compared tensor (max|a-b| / max|ref|) and the score error, and
// exits 1 when a stage map is off by more than 1e-5 relative or a score by more than 1e-4.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadParityFixture, runParity } from '../../packages/model/dist/parity.js';

const [dir, backend = 'wasm'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node tools/reference/check-parity.mjs <fixture dir> [wasm|cpu]');
  process.exit(2);
}
await tf.setBackend(backend);
await tf.ready();
const fix = loadParityFixture(dir);
let bad = 0;
for (const entry of fix.index.models) {
  const t0 = performance.now();
  const r = await runParity(fix, entry);
  const ms = performance.now() - t0;
  const worstStage = Math.max(
    0,
    ...Object.entries(r.rel)
      .filter(([k]) => k.startsWith('stage'))
      .map(([, v]) => v),
  );
  const worstAny = Math.max(...Object.values(r.rel));
  const ok = worstStage <= 1e-5 && r.scoreAbs <= 1e-4;
  if (!ok) bad += 1;
  console.log(
    `${entry.name} (${backend}, torch ${fix.index.torch}, batch ${fix.index.input.batch}): ` +
      `${ok ? 'OK' : 'FAIL'}  score |Δ| ${r.scoreAbs.toExponential(2)}` +
      (r.attentionAbs === null ? '' : `  attention |Δ| ${r.attentionAbs.toExponential(2)}`) +
      `  worst stage rel ${worstStage.toExponential(2)}  worst tensor rel ${worstAny.toExponential(2)}  (${ms.toFixed(0)} ms)`,
  );
  for (const [k, v] of Object.entries(r.rel)) console.log(`  ${k.padEnd(14)} ${v.toExponential(2)}`);
}
process.exit(bad === 0 ? 0 : 1);
