import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ModelConfig, SwinBackboneConfig } from '@iqa-bench/model';
import { createModel, saveSafetensors } from '@iqa-bench/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../tools/testing/temp-dir.js';
import { runCliIn } from './__tests__/run-cli.js';
import { shortName } from './scoring.js';

const repo = resolve(import.meta.dirname, '..', '..', '..');
const fixtures = resolve(repo, 'test', 'fixtures', 'cli');
const ckpt = join(fixtures, 'checkpoints', 'hypernet-swin-attention.pkl');
const kadidOk = join(fixtures, 'datasets', 'kadid-ok');
const images = join(kadidOk, 'images');
const wasm = ['--backend', 'wasm'];

function iqa(args: string[]) {
  return runCliIn(repo, args, { columns: 100 });
}

interface Predictions {
  settings: Record<string, unknown>;
  images: Array<{ path: string; score: number | null; patchScores: number[]; error?: string }>;
}

describe('iqa-bench convert <checkpoint> model.onnx', { timeout: 60_000 }, () => {
  it('writes an ONNX model with the checkpoint sha256 in its metadata and says what it wrote', async () => {
    const dir = tempDir('iqa-cli-onnx-');
    const out = join(dir, 'micro.onnx');
    const r = await iqa(['convert', ckpt, out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ to: 'onnx', output: [out], format: 'torch-zip' });
    expect(r.stderr).toMatch(
      new RegExp(
        `wrote ${out} \\(ONNX, \\d+\\.\\d (KiB|MiB), opset 20; the checkpoint's sha256 in its metadata\\)`,
      ),
    );
    const bytes = readFileSync(out);
    const sha = createHash('sha256').update(readFileSync(ckpt)).digest('hex');
    // The metadata_props value is stored verbatim in the protobuf.
    expect(bytes.includes(Buffer.from(sha))).toBe(true);
    expect(bytes.includes(Buffer.from('iqa-bench.checkpoint_sha256'))).toBe(true);
    // onnxruntime opens it: the documented input and outputs.
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(out);
    expect([session.inputNames, session.outputNames]).toEqual([['image'], ['score', 'fusion_weights']]);
    await session.release();
    // --to must agree with the name; nothing is written.
    for (const [args, message] of [
      [
        [join(dir, 'x.onnx'), '--to', 'safetensors'],
        `<out> ${join(dir, 'x.onnx')}: --to safetensors does not write .onnx; name it for what --to writes`,
      ],
      [
        [join(dir, 'x.safetensors'), '--to', 'onnx'],
        `<out> ${join(dir, 'x.safetensors')}: --to onnx writes a .onnx file; name it <name>.onnx`,
      ],
    ] as const) {
      const bad = await iqa(['convert', ckpt, ...args]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toBe(`iqa-bench: error: ${message}\n`);
      expect(existsSync(args[0])).toBe(false);
    }
  });

  it('a checkpoint the exporter cannot write exits 2 naming it and why; nothing is written', async () => {
    const dir = tempDir('iqa-cli-onnx-unsupported-');
    // A Swin whose MLP width (embed 2 x mlpRatio 2.25) is fractional: TF.js builds it, ONNX export refuses it.
    const config = JSON.parse(
      readFileSync(
        join(repo, 'packages', 'model', 'fixtures', 'checkpoints', 'hypernet-swin-attention.pkl.config.json'),
        'utf8',
      ),
    ) as ModelConfig & { backbone: SwinBackboneConfig };
    const model = createModel({ ...config, backbone: { ...config.backbone, mlpRatio: 2.25 } }, { seed: 1 });
    const file = join(dir, 'odd.safetensors');
    await saveSafetensors(file, model.params, model.config);
    model.dispose();
    const out = join(dir, 'odd.onnx');
    const r = await iqa(['convert', file, out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `iqa-bench: error: ${file}: exportOnnx: backbone.mlpRatio 2.25 gives a fractional MLP width\n`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('a .onnx checkpoint on --runtime tfjs, and --timing hypernet on onnx, are refused naming the flag', async () => {
    const dir = tempDir('iqa-cli-onnx-tfjs-');
    const out = join(dir, 'm.onnx');
    expect((await iqa(['convert', ckpt, out, '-q'])).code).toBe(0);
    const r = await iqa([
      'predict',
      '--checkpoint',
      out,
      '--runtime',
      'tfjs',
      join(images, 'I01_01_01.png'),
      ...wasm,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`iqa-bench: error: ${out}: an ONNX model runs on the onnx runtime, not tfjs`);
    const c = await iqa([
      'complexity',
      '--model',
      'smart-iqa-micro',
      '--runtime',
      'onnx',
      '--timing',
      'hypernet',
    ]);
    expect(c.code).toBe(2);
    expect(c.stderr).toBe(
      'iqa-bench: error: --timing hypernet: the onnx runtime runs the whole model; time the HyperNet alone with --runtime tfjs\n',
    );
  });

  it('an ONNX model is labelled by its short name, as other checkpoints', () => {
    expect(shortName('exports/koniq-tiny.onnx')).toBe('koniq-tiny');
    expect(shortName('runs/koniq/round-0/best.onnx')).toBe('koniq/round-0/best');
  });

  it('predict states the runtime in its settings (tfjs unless asked, the reference numbers)', async () => {
    const r = await iqa([
      'predict',
      '--checkpoint',
      ckpt,
      join(images, 'I01_01_01.png'),
      ...wasm,
      '--json',
      '-q',
    ]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Predictions).settings).toMatchObject({
      runtime: 'tfjs',
      backend: 'wasm',
    });
  });
});

describe('--runtime onnx', { timeout: 120_000 }, () => {
  // Exported models go to a cache of this test's own (IQA_BENCH_CACHE), not the user's.
  const saved = process.env.IQA_BENCH_CACHE;
  beforeAll(() => {
    process.env.IQA_BENCH_CACHE = tempDir('iqa-cli-onnx-cache-');
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.IQA_BENCH_CACHE;
    else process.env.IQA_BENCH_CACHE = saved;
  });

  it('predict: scores within 1e-4 of tfjs, from the checkpoint (exported and cached) or its .onnx', async () => {
    const dir = tempDir('iqa-cli-onnx-predict-');
    const onnxFile = join(dir, 'm.onnx');
    expect((await iqa(['convert', ckpt, onnxFile, '-q'])).code).toBe(0);
    const common = [images, '--patches', '3', '--crop', 'random', '--seed', '2', '--json', '-q'];
    const t = JSON.parse(
      (await iqa(['predict', '--checkpoint', ckpt, ...common, ...wasm])).stdout,
    ) as Predictions;
    for (const args of [
      ['--checkpoint', ckpt, '--runtime', 'onnx'],
      ['--checkpoint', onnxFile],
    ]) {
      const r = await iqa(['predict', ...args, ...common]);
      expect(r.code).toBe(0);
      const o = JSON.parse(r.stdout) as Predictions;
      expect(o.settings).toMatchObject({ runtime: 'onnx', backend: 'cpu' });
      expect(o.images.map((i) => i.path)).toEqual(t.images.map((i) => i.path));
      o.images.forEach((im, i) => {
        expect(Math.abs((im.score as number) - (t.images[i].score as number))).toBeLessThan(1e-4);
        im.patchScores.forEach((p, k) => expect(Math.abs(p - t.images[i].patchScores[k])).toBeLessThan(1e-4));
      });
    }
  });

  it('cross-dataset --patches 25 batches crops across images: the metrics match tfjs', async () => {
    const args = [
      'cross-dataset',
      '--checkpoint',
      ckpt,
      '--dataset',
      `kadid10k=${kadidOk}`,
      '--patches',
      '25',
      '--crop',
      'random',
      '--json',
      '-q',
    ];
    const t = JSON.parse((await iqa([...args, ...wasm])).stdout) as {
      datasets: Array<{ predictions: { score: number[] } }>;
    };
    const r = await iqa([...args, '--runtime', 'onnx']);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout) as {
      settings: Record<string, unknown>;
      datasets: Array<{ predictions: { score: number[] } }>;
    };
    expect(o.settings).toMatchObject({ runtime: 'onnx' });
    o.datasets[0].predictions.score.forEach((s, i) =>
      expect(Math.abs(s - t.datasets[0].predictions.score[i])).toBeLessThan(1e-4),
    );
  });

  it('complexity --runtime onnx times on onnxruntime and counts as tfjs does', async () => {
    const base = [
      'complexity',
      '--model',
      'smart-iqa-micro',
      '--batch-sizes',
      '1,2',
      '--runs',
      '2',
      '--min-time',
      '0',
      '--warmup',
      '1',
      '--json',
      '-q',
    ];
    const t = JSON.parse((await iqa([...base, '--no-latency'])).stdout) as {
      models: Array<{ params: unknown; ops: unknown }>;
    };
    const r = await iqa([...base, '--runtime', 'onnx']);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout) as {
      environment: { backend: string };
      models: Array<{
        params: unknown;
        ops: unknown;
        latency: { stats: { runs: number } };
        throughput: { entries: Array<{ batchSize: number; status: string }> };
      }>;
    };
    expect(o.environment.backend).toBe('onnxruntime (cpu)');
    expect(o.models[0].params).toEqual(t.models[0].params);
    expect(o.models[0].ops).toEqual(t.models[0].ops);
    expect(o.models[0].latency.stats.runs).toBe(2);
    expect(o.models[0].throughput.entries.map((e) => [e.batchSize, e.status])).toEqual([
      [1, 'ok'],
      [2, 'ok'],
    ]);
  });

  it('a truncated .onnx, another file named .onnx and a missing execution provider exit 2 naming them', async () => {
    const dir = tempDir('iqa-cli-onnx-bad-');
    const good = join(dir, 'good.onnx');
    expect((await iqa(['convert', ckpt, good, '-q'])).code).toBe(0);
    const cut = join(dir, 'cut.onnx');
    writeFileSync(cut, readFileSync(good).subarray(0, 5000));
    const other = join(dir, 'other.onnx');
    copyFileSync(join(images, 'I01_01_01.png'), other);
    const img = join(images, 'I01_01_01.png');
    for (const [args, named] of [
      [['--checkpoint', cut], cut],
      [['--checkpoint', other], other],
      [['--checkpoint', good, '--execution-provider', 'no-such-provider'], 'no-such-provider'],
    ] as const) {
      const r = await iqa(['predict', ...args, img, '--out', join(dir, 'p.json')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('iqa-bench: error: ');
      expect(r.stderr).toContain(named);
      expect(existsSync(join(dir, 'p.json'))).toBe(false);
    }
  });
});
