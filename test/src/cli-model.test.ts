import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate } from '@iqa-bench/metrics';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtures, iqa } from './cli-run.js';

// A small SMART-IQA HyperNet written by PyTorch's torch.save (the original's bare state-dict .pkl), an os.system
// pickle and a truncated zip checkpoint: copies of @iqa-bench/model's fixtures (tools/reference there writes them).
const ckpt = join(fixtures, 'checkpoints', 'hypernet-swin-attention.pkl');
const evil = join(fixtures, 'checkpoints', 'evil-global.pkl');
const truncated = join(fixtures, 'checkpoints', 'truncated.zip.pth');
const images = join(fixtures, 'datasets', 'kadid-ok', 'images');
const bad = join(fixtures, 'datasets', 'kadid-bad');
const work = mkdtempSync(join(tmpdir(), 'iqa-cli-model-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const wasm = ['--backend', 'wasm'];

interface Predictions {
  schema: string;
  settings: Record<string, unknown>;
  images: Array<{ path: string; score: number | null; patchScores: number[]; error?: string }>;
}

/** Element count of every tensor in a safetensors file, from its JSON header. */
function safetensorsElements(file: string): number {
  const bytes = readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { shape?: number[] }
  >;
  return Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .reduce((sum, [, t]) => sum + (t.shape ?? []).reduce((a, b) => a * b, 1), 0);
}

describe('iqa-bench convert', () => {
  it('converts a PyTorch .pkl to safetensors and to a TF.js model; all three score an image identically', async () => {
    const st = join(work, 'conv', 'micro.safetensors');
    const r = await iqa(['convert', ckpt, st, '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as {
      format: string;
      architectureSource: string;
      tensors: number;
      to: string;
    };
    expect(info).toMatchObject({ format: 'torch-zip', architectureSource: 'inferred', to: 'safetensors' });
    const again = join(work, 'conv', 'again.safetensors');
    expect((await iqa(['convert', ckpt, again, '-q'])).code).toBe(0);
    expect(readFileSync(again).equals(readFileSync(st))).toBe(true); // same input, same bytes
    const tfjs = join(work, 'conv', 'tfjs');
    const t = await iqa(['convert', st, tfjs, '--json']);
    expect(t.code).toBe(0);
    const conv = JSON.parse(t.stdout) as { architectureSource: string; output: string[]; to: string };
    expect(conv.architectureSource).toBe('metadata');
    // A model under 4 MiB: model.json and one shard, named as tfjs' converter names them.
    expect(conv.output).toEqual([join(tfjs, 'model.json'), join(tfjs, 'group1-shard1of1.bin')]);
    expect(t.stderr).toMatch(
      new RegExp(
        `wrote ${join(tfjs, 'model.json')} \\+ 1 weight shard\\(s\\) of at most 4 MiB \\(TF\\.js model, \\d+\\.\\d KiB\\)`,
      ),
    );

    const scores: number[] = [];
    for (const model of [ckpt, st, tfjs]) {
      const p = await iqa([
        'predict',
        '--checkpoint',
        model,
        join(images, 'I02_01_03.png'),
        ...wasm,
        '--json',
      ]);
      expect(p.code).toBe(0);
      scores.push((JSON.parse(p.stdout) as Predictions).images[0].score as number);
    }
    expect(scores[1]).toBe(scores[0]);
    expect(scores[2]).toBe(scores[0]);
  });

  it("reads the legacy (pre-zip) torch.save format of the original HyperIQA's ResNet checkpoints", async () => {
    const legacy = join(fixtures, 'checkpoints', 'hypernet-resnet.legacy.pkl');
    const r = await iqa(['convert', legacy, join(work, 'conv', 'resnet.safetensors'), '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as {
      format: string;
      architecture: { arch: string; backbone: { kind: string } };
    };
    expect(info.format).toBe('torch-legacy');
    expect([info.architecture.arch, info.architecture.backbone.kind]).toEqual(['hyperiqa', 'resnet']);
  });

  it('checks the output name: a PyTorch-looking name or a --to that disagrees is refused, nothing written', async () => {
    for (const [args, message] of [
      [
        [join(work, 'conv', 'out.pt')],
        `<out> ${join(work, 'conv', 'out.pt')}: convert writes <name>.safetensors, or a TF.js model folder (<dir>/ or <dir>/model.json); '.pt' would be mistaken for another format`,
      ],
      [
        [join(work, 'conv', 'x.safetensors'), '--to', 'tfjs'],
        `<out> ${join(work, 'conv', 'x.safetensors')}: --to tfjs writes a folder; name it without .safetensors`,
      ],
      [
        [join(work, 'conv', 'web'), '--to', 'safetensors'],
        `<out> ${join(work, 'conv', 'web')}: --to safetensors writes a .safetensors file; name it <name>.safetensors`,
      ],
    ] as const) {
      const r = await iqa(['convert', ckpt, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`iqa-bench: error: ${message}\n`);
      expect(existsSync(args[0])).toBe(false);
    }
    const st = join(work, 'conv', 'named.safetensors');
    const ok = await iqa(['convert', ckpt, st]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(
      new RegExp(`wrote ${st} \\(safetensors, \\d+\\.\\d KiB, architecture in its metadata\\)`),
    );
  });

  it('refuses a malicious pickle and a truncated checkpoint with exit 2, writing nothing', async () => {
    const out = join(work, 'evil.safetensors');
    const r = await iqa(['convert', evil, out]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `iqa-bench: error: ${evil}: refusing to load: the pickle refers to the Python global 'posix.system', which is not allowed`,
    );
    const t = await iqa(['convert', truncated, out]);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain(
      `iqa-bench: error: ${truncated}: not a readable zip archive (truncated or corrupt?)`,
    );
    const missing = await iqa(['convert', join(work, 'nope.pkl'), out]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`iqa-bench: error: ${join(work, 'nope.pkl')}: no such file\n`);
  });
});

describe('iqa-bench predict', () => {
  it('scores files and folders: the score is the mean of the patch scores; same seed, same crops, any worker count', async () => {
    const args = [
      'predict',
      '--checkpoint',
      ckpt,
      images,
      ...wasm,
      '--patches',
      '3',
      '--crop',
      'random',
      '--seed',
      '5',
      '--json',
    ];
    const a = JSON.parse((await iqa(args)).stdout) as Predictions;
    expect(a.schema).toBe('iqa-bench/predictions@1');
    expect(a.settings).toMatchObject({
      patches: 3,
      crop: 'random',
      preprocess: 'seed',
      seed: 5,
      backend: 'wasm',
    });
    expect(a.images.map((i) => i.path.slice(images.length + 1))).toEqual([
      'I01_01_01.png',
      'I01_01_03.png',
      'I01_01_05.png',
      'I02_01_01.png',
      'I02_01_03.png',
      'I02_01_05.png',
      'I03_01_01.png',
      'I03_01_03.png',
      'I03_01_05.png',
      'I04_01_01.png',
      'I04_01_03.png',
      'I04_01_05.png',
      'I05_01_01.png',
      'I05_01_03.png',
      'I05_01_05.png',
    ]);
    for (const im of a.images) {
      expect(im.patchScores).toHaveLength(3);
      expect(im.score).toBeCloseTo(im.patchScores.reduce((s, v) => s + v, 0) / 3, 6);
    }
    // Two worker threads (a ScoringPool, each with its own wasm backend) give the same bytes as one thread.
    const b = JSON.parse((await iqa([...args, '--workers', '2'])).stdout) as Predictions;
    expect(b.images).toEqual(a.images);
    const c = JSON.parse((await iqa([...args.slice(0, -2), '6', '--json'])).stdout) as Predictions;
    expect(c.images.map((i) => i.patchScores)).not.toEqual(a.images.map((i) => i.patchScores));
  });

  it('--csv prints CSV and --out file.csv writes it', async () => {
    const out = join(work, 'scores.csv');
    const r = await iqa([
      'predict',
      '--checkpoint',
      ckpt,
      join(images, 'I01_01_01.png'),
      ...wasm,
      '--csv',
      '--out',
      out,
      '-q',
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('path,score,patch_scores,error');
    expect(lines[1]).toMatch(new RegExp(`^${join(images, 'I01_01_01.png')},-?\\d+\\.\\d+,-?\\d+\\.\\d+,$`));
    expect(readFileSync(out, 'utf8')).toBe(r.stdout);
  });

  it('an unreadable image and a decompression bomb are reported by name; the rest is scored; exit 2', async () => {
    const list = ['I01_01_01.png', 'I01_01_03.png', 'I01_01_04.png'].map((n) => join(bad, 'images', n));
    const r = await iqa(['predict', '--checkpoint', ckpt, ...list, ...wasm, '--json']);
    expect(r.code).toBe(2);
    const res = JSON.parse(r.stdout) as Predictions;
    expect(res.images[0].score).not.toBeNull();
    expect(res.images[1].error).toBe(
      `${list[1]}: image is 40000x40000 = 1600000000 pixels; expected at most 100000000 pixels (raise it with --max-pixels; a decompression bomb or a wrong file?)`,
    );
    expect(res.images[2].error).toMatch(new RegExp(`^${list[2]}: cannot decode the image`));
    expect(r.stderr).toContain(`iqa-bench: error: ${list[1]}: image is 40000x40000`);
    expect(r.stderr).toContain(`iqa-bench: error: ${list[2]}: cannot decode the image`);
  });

  it('a missing file, an empty folder and a corrupt JPEG are reported one line each; the rest is scored; exit 2', async () => {
    const empty = join(work, 'empty-folder');
    mkdirSync(empty, { recursive: true });
    const missing = join(work, 'missing.jpg');
    const corrupt = join(fixtures, 'images', 'corrupt-dqt.jpg');
    const good = join(images, 'I01_01_01.png');
    const r = await iqa([
      'predict',
      '--checkpoint',
      ckpt,
      missing,
      empty,
      corrupt,
      good,
      ...wasm,
      '--json',
      '-q',
    ]);
    expect(r.code).toBe(2);
    const res = JSON.parse(r.stdout) as Predictions;
    const corruptWhy =
      'cannot decode the image (VipsJpeg: Corrupt JPEG data: 69 extraneous bytes before marker 0xdb; Quantization table 0x00 was not defined)';
    expect(res.images.map((i) => [i.path, i.error ?? null])).toEqual([
      [missing, `${missing}: no such file or directory`],
      [empty, `${empty}: no images (.jpg, .jpeg, .png, .bmp, .tif, .tiff) in this folder`],
      [corrupt, `${corrupt}: ${corruptWhy}`],
      [good, null],
    ]);
    expect(res.images[3].score).not.toBeNull();
    // One line per problem on stderr, nothing repeated.
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `iqa-bench: error: ${missing}: no such file or directory`,
      `iqa-bench: error: ${empty}: no images (.jpg, .jpeg, .png, .bmp, .tif, .tiff) in this folder`,
      `iqa-bench: error: ${corrupt}: ${corruptWhy}`,
    ]);
    // The table names the file once, in its column.
    const table = await iqa(['predict', '--checkpoint', ckpt, corrupt, ...wasm, '-q']);
    expect(table.stdout.split('\n')[2]).toBe(`${corrupt}  ERROR  ${corruptWhy}`);
  });

  it('--out must end in .json or .csv (checked before any work) and says what it wrote', async () => {
    const img = join(images, 'I01_01_01.png');
    const txt = await iqa(['predict', '--checkpoint', ckpt, img, ...wasm, '--out', join(work, 'scores.txt')]);
    expect(txt.code).toBe(2);
    expect(txt.stderr).toBe(
      `iqa-bench: error: --out ${join(work, 'scores.txt')}: expected a file name ending in .json or .csv\n`,
    );
    expect(existsSync(join(work, 'scores.txt'))).toBe(false);
    const json = join(work, 'scores.json');
    const ok = await iqa(['predict', '--checkpoint', ckpt, img, ...wasm, '--out', json]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain(`wrote ${json} (JSON, 1 image(s))\n`);
    expect((JSON.parse(readFileSync(json, 'utf8')) as Predictions).schema).toBe('iqa-bench/predictions@1');
  });

  it('--max-params and --max-tensor-bytes bound the checkpoint; the messages name the flags', async () => {
    const img = join(images, 'I01_01_01.png');
    const p = await iqa(['predict', '--checkpoint', ckpt, img, ...wasm, '--max-params', '1000', '--json']);
    expect(p.code).toBe(2);
    const err = (JSON.parse(p.stdout) as { error: { message: string; flag: string; file: string } }).error;
    expect(err.flag).toBe('--max-params');
    expect(err.file).toBe(ckpt);
    expect(err.message).toMatch(
      /over the limit --max-params = 1\.000e\+3; if the file is trusted, raise the limit \(--max-params\)$/,
    );
    const t = await iqa(['predict', '--checkpoint', ckpt, img, ...wasm, '--max-tensor-bytes', '1KiB']);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(
      /over the limit of 1024 bytes \(--max-tensor-bytes = 1024\); refusing to allocate it \(raise --max-expansion \/ --max-tensor-bytes only for a trusted file\)/,
    );
    // Raised limits let the same file through.
    const ok = await iqa([
      'predict',
      '--checkpoint',
      ckpt,
      img,
      ...wasm,
      '--max-params',
      '2e9',
      '--max-model-bytes',
      '8GiB',
      '-q',
    ]);
    expect(ok.code).toBe(0);
    const help = await iqa(['predict', '--help']);
    for (const flag of [
      '--max-model-bytes <size>',
      '--max-params <n>',
      '--max-tensor-bytes <size>',
      '--max-expansion <x>',
    ])
      expect(help.stdout).toContain(flag);
  });

  it('an image smaller than the crop (--preprocess none) names the file', async () => {
    const img = join(images, 'I01_01_01.png');
    const r = await iqa(['predict', '--checkpoint', ckpt, img, ...wasm, '--preprocess', 'none', '-q']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`iqa-bench: error: ${img}: image 32x24 is smaller than the 224x224 crop\n`);
  });

  it.each([
    [
      ['--checkpoint', evil, join(images, 'I01_01_01.png')],
      `${evil}: refusing to load: the pickle refers to the Python global 'posix.system'`,
    ],
    [['--checkpoint', truncated, join(images, 'I01_01_01.png')], `${truncated}: not a readable zip archive`],
    [
      ['--checkpoint', join(work, 'none.pkl'), join(images, 'I01_01_01.png')],
      `--checkpoint ${join(work, 'none.pkl')}: no such file`,
    ],
    [
      ['--checkpoint', ckpt, join(images, 'I01_01_01.png'), '--crop', 'diagonal'],
      "option '--crop <mode>' argument 'diagonal' is invalid",
    ],
    [
      ['--checkpoint', ckpt, join(images, 'I01_01_01.png'), '--patches', '0'],
      "option '--patches <n>' argument '0' is invalid. expected a positive integer.",
    ],
  ])('bad input exits 2 with one line: %#', async (args, message) => {
    const r = await iqa(['predict', ...args, ...wasm]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`iqa-bench: error: ${message}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('iqa-bench cross-dataset and eval', () => {
  const ok = join(fixtures, 'datasets', 'kadid-ok');

  it('reports every metric per dataset and the mean; the numbers are those of its predictions', async () => {
    const out = join(work, 'cross.json');
    const r = await iqa([
      'cross-dataset',
      '--checkpoint',
      ckpt,
      '--dataset',
      `kadid10k=${ok}`,
      '--dataset',
      `copy:kadid10k=${ok}`,
      ...wasm,
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^dataset\s+n\s+SRCC\s+PLCC\s+PLCC \(logistic\)\s+KRCC\s+RMSE\s+RMSE \(logistic\)$/,
    );
    expect(lines.slice(0, 5).map((l) => l.split(/\s+/)[0])).toEqual([
      'dataset',
      '---------',
      'kadid10k',
      'copy',
      'mean',
    ]);
    expect(lines[4]).toMatch(/^mean of 2 /);
    const result = JSON.parse(readFileSync(out, 'utf8')) as {
      schema: string;
      datasets: Array<{
        name: string;
        n: number;
        metrics: Record<string, number>;
        predictions: { score: number[]; mos: number[] };
      }>;
      mean: Record<string, number>;
    };
    expect(result.schema).toBe('iqa-bench/result@1');
    const d = result.datasets[0];
    expect(d.n).toBe(15);
    const e = evaluate(d.predictions.score, d.predictions.mos);
    expect(d.metrics.srcc).toBe(e.srcc);
    expect(d.metrics.krcc).toBe(e.krcc);
    expect(d.metrics.plccLogistic).toBe(e.mapped?.plcc);
    expect(result.mean.srcc).toBeCloseTo(d.metrics.srcc, 12);
    // How many datasets each mean covers, and the notes printed under the table.
    const extra = JSON.parse(readFileSync(out, 'utf8')) as {
      meanOver: Record<string, number>;
      notes: string[];
    };
    expect(extra.meanOver).toEqual({ srcc: 2, plcc: 2, plccLogistic: 2, krcc: 2 });
    expect(extra.notes).toContain(
      "mean RMSE, RMSE (logistic) –: errors are on each dataset's own MOS scale and are not averaged",
    );
    for (const note of extra.notes) expect(r.stdout).toContain(note);
    // This untrained model ranks the images against MOS: the sign reversal of the fitted logistic is said.
    expect(d.metrics.srcc < 0 && d.metrics.plccLogistic > 0).toBe(true);
    expect(extra.notes.filter((n) => n.includes('reverses the sign'))).toHaveLength(2);
    // The result is what check and report read.
    expect((await iqa(['check', '--result', out, '--baseline', out, '-q'])).code).toBe(0);
  });

  it('eval scores one part of a split manifest', async () => {
    const split = join(work, 'split.json');
    expect(
      (await iqa(['datasets', 'split', '--dataset', `kadid10k=${ok}`, '--seed', '3', '--out', split, '-q']))
        .code,
    ).toBe(0);
    const manifest = JSON.parse(readFileSync(split, 'utf8')) as { counts: Record<string, number> };
    const r = await iqa([
      'eval',
      '--checkpoint',
      ckpt,
      '--dataset',
      `kadid10k=${ok}`,
      '--split',
      split,
      ...wasm,
      '--json',
      '--no-predictions',
    ]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as {
      kind: string;
      datasets: Array<{ n: number; split: string; predictions?: unknown }>;
    };
    expect(result.kind).toBe('eval');
    expect(result.datasets[0].n).toBe(manifest.counts.test);
    expect(result.datasets[0].split).toMatch(/split\.json:test$/);
    expect(result.datasets[0].predictions).toBeUndefined();
  });

  it('fails before loading the model on a bad dataset or split', async () => {
    const r = await iqa(['cross-dataset', '--checkpoint', ckpt, '--dataset', `kadid10k=${bad}`, ...wasm]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`iqa-bench: error: ${bad}/dmos.csv, row 6: image "I01_01_05.png" not found`);
    expect(r.stderr).not.toContain('backend');
    const s = await iqa([
      'eval',
      '--checkpoint',
      ckpt,
      '--dataset',
      `kadid10k=${ok}`,
      '--split',
      'official',
      ...wasm,
    ]);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('ships no split named "official"');
    const two = await iqa([
      'eval',
      '--checkpoint',
      ckpt,
      '--dataset',
      `kadid10k=${ok}`,
      '--dataset',
      `b:kadid10k=${ok}`,
    ]);
    expect(two.code).toBe(2);
    expect(two.stderr).toBe('iqa-bench: error: --dataset: expected one dataset, got 2\n');
  });
});

describe('iqa-bench complexity', () => {
  it('counts the parameters of a checkpoint exactly and reports MACs, FLOPs and latency', async () => {
    const st = join(work, 'cx', 'micro.safetensors');
    mkdirSync(join(work, 'cx'), { recursive: true });
    expect((await iqa(['convert', ckpt, st, '-q'])).code).toBe(0);
    const out = join(work, 'cx', 'report.json');
    const r = await iqa([
      'complexity',
      '--model',
      st,
      ...wasm,
      '--runs',
      '2',
      '--min-time',
      '0',
      '--warmup',
      '1',
      '--batch-sizes',
      '1,2',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as {
      schemaVersion: number;
      models: Array<{
        params: { total: number };
        ops: { whole: { macs: number; flops: number } };
        latency: { stats: { runs: number } } | null;
        throughput: { entries: Array<{ batchSize: number }> } | null;
      }>;
    };
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(rep);
    expect(rep.schemaVersion).toBe(1);
    const m = rep.models[0];
    expect(m.params.total).toBe(safetensorsElements(st));
    expect(m.ops.whole.flops).toBeGreaterThan(2 * m.ops.whole.macs);
    expect(m.latency?.stats.runs).toBe(2);
    expect(m.throughput?.entries.map((e) => e.batchSize)).toEqual([1, 2]);
    // The report reads it back: a table and the bars.
    const rp = await iqa([
      'report',
      '--complexity',
      out,
      '--out',
      join(work, 'cx', 'report'),
      '--no-png',
      '--json',
    ]);
    expect(rp.code).toBe(0);
    expect((JSON.parse(rp.stdout) as { files: string[] }).files).toEqual([
      'figures/complexity.svg',
      'report.md',
      'report.html',
    ]);
  });

  it('--no-latency counts only; an unknown preset or a malformed report exits 2', async () => {
    const r = await iqa(['complexity', '--model', 'smart-iqa-micro', '--no-latency', ...wasm, '--json']);
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout) as {
      models: Array<{ name: string; latency: unknown; throughput: unknown }>;
    };
    expect(rep.models[0]).toMatchObject({ name: 'smart-iqa-micro', latency: null, throughput: null });
    const u = await iqa(['complexity', '--model', 'smart-iqa-huge', '--no-latency', ...wasm]);
    expect(u.code).toBe(2);
    expect(u.stderr).toBe(
      "iqa-bench: error: --model smart-iqa-huge: neither a preset (smart-iqa-tiny, smart-iqa-small, smart-iqa-base, hyperiqa-resnet50, smart-iqa-micro; 'iqa-bench models' lists their other names) nor a checkpoint file\n",
    );
    const junk = join(work, 'junk.json');
    writeFileSync(junk, JSON.stringify({ schemaVersion: 1, models: [] }));
    const j = await iqa(['report', '--complexity', junk, '--out', join(work, 'junk-report')]);
    expect(j.code).toBe(2);
    expect(j.stderr).toContain(`iqa-bench: error: ${junk}: not a valid complexity report`);
  });

  it('times each measurement for a minimum time and count, and prints the median with its IQR', async () => {
    const r = await iqa([
      'complexity',
      '--model',
      'micro',
      ...wasm,
      '--batch-sizes',
      '2',
      '--min-time',
      '400',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const m = (
      JSON.parse(r.stdout) as {
        models: Array<{
          name: string;
          latency: { stats: { runs: number; meanMs: number; q1Ms: number; medianMs: number; q3Ms: number } };
          throughput: {
            entries: Array<{ timedBatches: number; elapsedMs: number; rate: { median: number } }>;
          };
        }>;
      }
    ).models[0];
    expect(m.name).toBe('smart-iqa-micro'); // the alias names the preset
    const lat = m.latency.stats;
    expect(lat.runs).toBeGreaterThanOrEqual(10); // --runs 10 by default
    expect(lat.runs * lat.meanMs).toBeGreaterThanOrEqual(400);
    expect(lat.q1Ms <= lat.medianMs && lat.medianMs <= lat.q3Ms).toBe(true);
    const tp = m.throughput.entries[0];
    expect(tp.timedBatches).toBeGreaterThanOrEqual(10);
    expect(tp.elapsedMs).toBeGreaterThanOrEqual(400);
    const text = await iqa([
      'complexity',
      '--model',
      'smart-iqa-micro',
      ...wasm,
      '--batch-sizes',
      '2',
      '--runs',
      '3',
      '--min-time',
      '0',
    ]);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/latency ms, median \(IQR\)\s+runs\s+img\/s @2, median \(IQR\)/);
    expect(lines[2]).toMatch(
      /^smart-iqa-micro .* \d+\.\d \(\d+\.\d–\d+\.\d\)\s+3\s+\d+\.\d \(\d+\.\d–\d+\.\d\)\s+\d+$/,
    );
  });
});
