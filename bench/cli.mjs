// The iqa-bench command as a user runs it: start-up time of light commands, and images/s of `predict` on one worker
// thread and on two (ScoringPool). Uses the built dists:
//   npx turbo run build --filter=@iqa-bench/cli... && nice -n 10 node bench/cli.mjs [--model smart-iqa-tiny] [--images 24]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModel, saveSafetensors, selectBackend } from '@iqa-bench/model';

const bin = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const option = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const preset = option('model', 'smart-iqa-tiny');
const refs = Math.max(1, Math.ceil(Number(option('images', '24')) / 26));
const work = mkdtempSync(join(tmpdir(), 'iqa-bench-cli-'));

function run(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`iqa-bench ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const startup = {};
  for (const [label, args] of [
    ['--version', ['--version']],
    ['--help', ['--help']],
    ['check --help', ['check', '--help']],
  ]) {
    startup[label] = median(Array.from({ length: 5 }, () => run(args).ms));
  }
  console.log(
    'start-up, median of 5 (ms):',
    Object.entries(startup)
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', '),
  );

  // Data: KonIQ-layout synthetic JPEGs at 512x384 (the size of KonIQ's 512x384/ folder).
  run([
    'synth',
    '--layout',
    'koniq10k',
    '--out',
    join(work, 'data'),
    '--seed',
    '1',
    '--refs',
    String(refs),
    '--size',
    '512x384',
    '--quiet',
  ]);
  const images = join(work, 'data', '512x384');
  await selectBackend('wasm');
  const model = createModel(preset, { seed: 1 });
  const ckpt = join(work, 'model.safetensors');
  await saveSafetensors(ckpt, model.params, model.config);
  model.dispose();

  const results = {};
  for (const workers of [1, 2]) {
    const { ms, stdout } = run([
      'predict',
      '--checkpoint',
      ckpt,
      images,
      '--backend',
      'wasm',
      '--workers',
      String(workers),
      '--json',
      '--quiet',
    ]);
    const n = JSON.parse(stdout).images.length;
    results[workers] = { n, ms, ips: n / (ms / 1000), scores: stdout };
    console.log(
      `predict ${preset}, ${n} images 512x384 (seed preprocessing, center crop), ${workers} worker(s): ${(ms / 1000).toFixed(1)} s wall incl. start-up = ${results[workers].ips.toFixed(2)} images/s`,
    );
  }
  const same = JSON.parse(results[1].scores).images.every(
    (im, i) => im.score === JSON.parse(results[2].scores).images[i].score,
  );
  console.log(
    `speed-up with 2 workers: ${(results[2].ips / results[1].ips).toFixed(2)}x; identical scores: ${same}`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
