// Benchmark of @iqa-bench/metrics (imports the built dist: run `npx turbo run build --filter=@iqa-bench/metrics` first).
//   nice -n 10 node bench/metrics.mjs            # full run
//   nice -n 10 node bench/metrics.mjs --quick    # fewer repeats
// Prints one line per measurement (median of the repeats, after one warm-up run) and a JSON summary.
import {
  bootstrapCI,
  comparePredictors,
  evaluate,
  fitLogistic,
  krcc,
  plcc,
  srcc,
} from '../packages/metrics/dist/index.js';

const quick = process.argv.includes('--quick');
const repeats = quick ? 3 : 7;

/** Deterministic data: the 32-bit LCG of the golden recipes, MOS-like with ties (2 decimals) and float predictions. */
function data(n, seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const pred = new Float64Array(n);
  const mos = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const q = next();
    pred[i] = q + 0.15 * (next() - 0.5);
    mos[i] = Math.round((1 + 99 / (1 + Math.exp(-8 * (q - 0.5)))) * 100) / 100;
  }
  return { pred, mos };
}

function time(label, fn) {
  fn(); // warm-up
  const ms = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)];
  console.log(
    `${label.padEnd(52)} median ${median.toFixed(1).padStart(8)} ms   (min ${ms[0].toFixed(1)}, max ${ms[ms.length - 1].toFixed(1)})`,
  );
  return median;
}

const results = {};
const big = data(1_000_000, 1);
results.srcc_1e6 = time('srcc, 10^6 pairs', () => srcc(big.pred, big.mos));
results.plcc_1e6 = time('plcc, 10^6 pairs', () => plcc(big.pred, big.mos));
results.krcc_1e6 = time('krcc, 10^6 pairs', () => krcc(big.pred, big.mos));
results.total_1e6 = results.srcc_1e6 + results.plcc_1e6 + results.krcc_1e6;
console.log(
  `${'srcc + plcc + krcc, 10^6 pairs (sum of medians)'.padEnd(52)} ${results.total_1e6.toFixed(1).padStart(15)} ms`,
);

const arr = { pred: Array.from(big.pred), mos: Array.from(big.mos) };
results.srcc_1e6_numberArray = time('srcc, 10^6 pairs as number[]', () => srcc(arr.pred, arr.mos));

const koniq = data(2010, 2);
results.evaluate_2010 = time('evaluate (4-param logistic), 2010 pairs', () =>
  evaluate(koniq.pred, koniq.mos),
);
results.bootstrap_2010 = time('bootstrapCI srcc/plcc/krcc, 2010 pairs, 1000 resamples', () =>
  bootstrapCI(koniq.pred, koniq.mos, { seed: 1, resamples: 1000 }),
);
const other = data(2010, 3);
results.compare_2010 = time('comparePredictors, 2010 pairs, 1000 resamples', () =>
  comparePredictors(koniq.pred, other.pred, koniq.mos, { seed: 1, resamples: 1000 }),
);
const large = data(20_000, 4);
results.fit4_20000 = time('fitLogistic 4-param, 20000 pairs', () =>
  fitLogistic(large.pred, large.mos, { params: 4 }),
);
results.fit5_20000 = time('fitLogistic 5-param, 20000 pairs', () =>
  fitLogistic(large.pred, large.mos, { params: 5 }),
);

console.log(JSON.stringify({ node: process.version, repeats, ms: results }));
