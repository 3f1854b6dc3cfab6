/**
 * End to end on the real parts: @iqa-bench/data's synthetic dataset (kadid10k layout) read through its adapter and a
 * split manifest, @iqa-bench/model's smart-iqa-micro preset (dropout, drop path and attention dropout all active),
 * trained on wasm. Kept tiny so the whole file runs in well under a minute.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSynthetic, writeSplitManifest } from '@iqa-bench/data';
import { readSafetensors } from '@iqa-bench/model/weights';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTrainConfig, type TrainConfig } from './config.js';
import { createProgress } from './run/progress.js';
import { readMetricsLogSync } from './run-folder/metrics-log.js';
import { runTraining } from './run-training.js';
import { tempDir } from '../../../tools/testing/temp-dir.js';

const tmp = () => tempDir('train-e2e-');
let cfg: TrainConfig;
/** The run directory of the first uninterrupted single-thread run (the reference of the other tests). */
let reference = '';

beforeAll(async () => {
  const root = tmp();
  const syn = await generateSynthetic({
    layout: 'kadid10k',
    out: root,
    seed: 3,
    refs: 3,
    width: 232,
    height: 232,
  });
  const ids = syn.images.map((i) => i.id).sort();
  // a few images of each reference: train on refs 1-2, select on ref 3's first half, test on its second half
  const pick = (ref: number, n: number, skip = 0) =>
    syn.images
      .filter((i) => i.ref === ref)
      .map((i) => i.id)
      .sort()
      .filter((_, k) => k % 4 === 0)
      .slice(skip, skip + n);
  const manifest = join(root, 'split.json');
  await writeSplitManifest(manifest, {
    dataset: 'kadid10k',
    method: 'custom',
    seed: null,
    round: null,
    ratios: null,
    selection: 'validation',
    parts: {
      train: [...pick(1, 3), ...pick(2, 3)].sort(),
      val: pick(3, 3).sort(),
      test: pick(3, 3, 3).sort(),
    },
  });
  expect(ids.length).toBe(75);
  cfg = parseTrainConfig({
    seed: 5,
    backend: 'wasm',
    dataset: { kind: 'kadid10k', root, splitManifest: manifest, preprocess: 'none' },
    model: { preset: 'smart-iqa-micro' },
    optimizer: { lr: 1e-3, lrRatio: 10 },
    loss: { kind: 'l1' },
    patches: { train: 1, test: 2, size: 224 },
    memory: { microBatchSize: 2, evalBatchSize: 4, activationCheckpointing: true },
    training: { epochs: 2, batchSize: 3, checkpointEverySteps: 1 },
  });
}, 60_000);

function metricsOf(dir: string): unknown[] {
  return readMetricsLogSync(join(dir, 'metrics.jsonl')).records.map((r) =>
    r.kind === 'epoch' ? { ...r, seconds: 0 } : r,
  );
}
const bytes = (dir: string, f: string) => readFileSync(join(dir, f));
const WEIGHTS = ['round-0/best.safetensors', 'round-0/final.safetensors', 'round-0/final.params.ckpt'];

describe('smart-iqa-micro on synthetic kadid10k (wasm)', () => {
  it('two runs give identical metrics and byte-identical weight files', async () => {
    const a = tmp();
    const b = tmp();
    const quiet = { progress: createProgress({ mode: 'quiet' }) };
    const s = await runTraining(cfg, a, quiet);
    reference = a;
    await runTraining(cfg, b, quiet);
    expect(metricsOf(b)).toEqual(metricsOf(a));
    for (const f of WEIGHTS) expect(bytes(b, f).equals(bytes(a, f))).toBe(true);
    expect(bytes(b, 'round-0/split.json').equals(bytes(a, 'round-0/split.json'))).toBe(true);
    expect(s.n).toEqual({ train: 6, select: 3, test: 3 });
    const conf = JSON.parse(readFileSync(join(a, 'config.json'), 'utf8'));
    expect(conf.backend).toBe('wasm');
    expect(conf.packages['@iqa-bench/model']).toMatch(/^\d+\.\d+\.\d+/);
    expect(Number.isFinite(s.metrics.srcc.best)).toBe(true);
  }, 120_000);

  it('two worker threads give byte-identical results (gradients summed in micro-batch order)', async () => {
    const dir = tmp();
    const cfg2 = parseTrainConfig({ ...cfg, memory: { ...cfg.memory, workers: 2 } });
    await runTraining(cfg2, dir, { progress: createProgress({ mode: 'quiet' }) });
    expect(metricsOf(dir)).toEqual(metricsOf(reference));
    for (const f of WEIGHTS) expect(bytes(dir, f).equals(bytes(reference, f))).toBe(true);
  }, 120_000);

  it('a BatchNorm model (HyperIQA, ResNet) on two workers: byte-identical to one, running statistics included', async () => {
    const bn = parseTrainConfig({
      ...cfg,
      model: {
        preset: 'hyperiqa-resnet50',
        backbone: { layers: [1, 1, 1, 1], baseWidth: 4 },
        head: {
          ldaOut: 4,
          hyperInChannels: 8,
          targetInSize: 16,
          targetFc: [8, 8, 4, 4],
          conv1Hidden: [16, 8],
        },
      },
      loss: { kind: 'plcc' },
      patches: { train: 2, test: 2, size: 64 },
      memory: { ...cfg.memory, microBatchSize: 2, activationCheckpointing: false },
      training: { ...cfg.training, batchSize: 4 },
    });
    const one = tmp();
    const two = tmp();
    const quiet = { progress: createProgress({ mode: 'quiet' }) };
    await runTraining(bn, one, quiet);
    await runTraining(parseTrainConfig({ ...bn, memory: { ...bn.memory, workers: 2 } }), two, quiet);
    expect(metricsOf(two)).toEqual(metricsOf(one));
    for (const f of WEIGHTS) expect(bytes(two, f).equals(bytes(one, f))).toBe(true);
    const final = await readSafetensors(join(one, 'round-0/final.safetensors'));
    // 2 epochs x 3 steps of 4 patches (6 images x 2 crops): one running-statistics update per step
    const tracked = final.tensors.get('res.bn1.num_batches_tracked')?.data as ArrayLike<number | bigint>;
    expect(Array.from(tracked, Number)).toEqual([6]);
  }, 120_000);

  it('a child killed by SIGKILL mid-run resumes and ends byte-identical', async () => {
    const ref = reference;
    const dir = tmp();
    const script = fileURLToPath(new URL('./__tests__/run-child.ts', import.meta.url));
    const run = (killAt: string | null) =>
      new Promise<{ killed: boolean; out: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, dir, JSON.stringify(cfg)], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (killAt !== null && out.includes(killAt)) child.kill('SIGKILL');
        });
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('error', reject);
        child.on('close', (code, signal) => {
          if (signal === 'SIGKILL' || code === 0) resolve({ killed: signal === 'SIGKILL', out });
          else reject(new Error(`child exited ${code}: ${err}`));
        });
      });
    const first = await run('step 0 1 0\n');
    expect(first.killed).toBe(true);
    const second = await run(null);
    expect(second.out).toContain('done');
    expect(second.out).not.toContain('step 0 0 ');
    expect(metricsOf(dir)).toEqual(metricsOf(ref));
    for (const f of WEIGHTS) expect(bytes(dir, f).equals(bytes(ref, f))).toBe(true);
  }, 120_000);
});
