import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iqa } from './cli-run.js';

const work = mkdtempSync(join(tmpdir(), 'iqa-cli-train-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const data = join(work, 'synth');

// A small synthetic dataset (3 scenes x 25 distortions, 224 x 224) and a one-epoch smart-iqa-micro run on wasm.
const trainArgs = [
  'train',
  '--dataset',
  `kadid10k=${data}`,
  '--model',
  'smart-iqa-micro',
  '--epochs',
  '1',
  '--batch-size',
  '8',
  '--train-patches',
  '1',
  '--test-patches',
  '1',
  '--preprocess',
  'none',
  '--seed',
  '3',
  '--backend',
  'wasm',
];

interface Summary {
  schema: string;
  seed: number;
  datasets: Array<{ name: string; split: string; n: number; metrics: Record<string, number> }>;
  n: { train: number; select: number; test: number };
}

beforeAll(async () => {
  const r = await iqa([
    'synth',
    '--layout',
    'kadid10k',
    '--out',
    data,
    '--seed',
    '3',
    '--refs',
    '3',
    '--size',
    '224x224',
    '-q',
  ]);
  expect(r.code).toBe(0);
}, 120_000);

describe('iqa-bench train', () => {
  it('trains into a run folder whose summary.json check reads; rerunning the finished run gives the same summary', async () => {
    const run = join(work, 'run');
    const r = await iqa([...trainArgs, '--out', run, '--json']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary.schema).toBe('iqa-bench/train-summary@1');
    expect(summary.seed).toBe(3);
    expect(summary.n.train + summary.n.select + summary.n.test).toBe(75);
    expect(summary.datasets[0]).toMatchObject({ name: 'kadid10k', split: 'test', n: summary.n.test });
    for (const f of [
      'config.json',
      'metrics.jsonl',
      'summary.json',
      'round-0/best.safetensors',
      'round-0/split.json',
    ]) {
      expect(existsSync(join(run, f))).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'))).toEqual(summary);
    // Plain progress lines on stderr (no TTY): the epoch summary.
    expect(r.stderr).toMatch(/round 0 epoch 1: loss \d/);

    const again = await iqa([...trainArgs, '--out', run, '--json', '-q']);
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout) as Summary).datasets).toEqual(summary.datasets);
    expect(again.stderr).toBe('');

    const check = await iqa([
      'check',
      '--result',
      join(run, 'summary.json'),
      '--baseline',
      join(run, 'summary.json'),
      '--metric',
      'srcc,krcc',
    ]);
    expect(check.code).toBe(0);
    // The trained weights load as a checkpoint.
    const p = await iqa([
      'predict',
      '--checkpoint',
      join(run, 'round-0', 'best.safetensors'),
      join(data, 'images', 'I01_01_01.png'),
      '--backend',
      'wasm',
      '--preprocess',
      'none',
      '--json',
    ]);
    expect(p.code).toBe(0);
    // A different config in the same folder is refused (the run would not be reproducible), naming what differs,
    // by a dry run too; the folder stays as it was.
    const summaryBytes = readFileSync(join(run, 'summary.json'));
    const otherArgs = [...trainArgs, '--seed', '4', '--lr', '0.001', '--out', run];
    for (const args of [otherArgs, [...otherArgs, '--dry-run']]) {
      const other = await iqa(args);
      expect(other.code).toBe(2);
      expect(other.stderr.split('\n').at(-2)).toBe(
        `iqa-bench: error: --out ${run}: the run folder holds a run of a different config (seed: 3 → 4, optimizer.lr: 0.0001 → 0.001); use another --out, or --force to start over (discarding that run)`,
      );
    }
    expect(readFileSync(join(run, 'summary.json')).equals(summaryBytes)).toBe(true);
    // --force starts over: the dry run says so, the run replaces the old one (files train does not own stay)
    const dry = await iqa([...otherArgs, '--dry-run', '--force']);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain(`would discard the run in ${run} and start over (--force)`);
    writeFileSync(join(run, 'notes.txt'), 'mine');
    const forced = await iqa([...otherArgs, '--force', '--json', '-q']);
    expect(forced.code).toBe(0);
    expect((JSON.parse(forced.stdout) as Summary).seed).toBe(4);
    expect(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).config.seed).toBe(4);
    expect(readFileSync(join(run, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(run, 'round-0', 'split.json'))).toBe(true);
  });

  it('--dry-run checks what the run would check before its first step: the model preset, the run folder', async () => {
    const dry = await iqa([...trainArgs.slice(0, 3), '--model', 'smart-iqa-tin', '--dry-run'], { cwd: work });
    expect(dry.code).toBe(2);
    expect(dry.stderr).toBe(
      'iqa-bench: error: --model smart-iqa-tin: no such model preset; expected one of smart-iqa-tiny, smart-iqa-small, smart-iqa-base, hyperiqa-resnet50, smart-iqa-micro (or an alias: iqa-bench models lists them); did you mean "smart-iqa-tiny"?\n',
    );
    writeFileSync(join(work, 'a-file'), '');
    const notDir = await iqa([...trainArgs, '--out', join(work, 'a-file', 'run'), '--dry-run']);
    expect(notDir.code).toBe(2);
    expect(notDir.stderr).toBe(
      `iqa-bench: error: ${join(work, 'a-file', 'run')}: cannot be made in ${join(work, 'a-file')}: not a folder\n`,
    );
    // an alias of the preset is the preset; the dry run says what the run would do, and writes nothing
    const ok = await iqa(
      [...trainArgs.slice(0, 3), '--model', 'micro', ...trainArgs.slice(5), '--out', 'fresh', '--dry-run'],
      {
        cwd: work,
      },
    );
    expect(ok.code).toBe(0);
    expect((JSON.parse(ok.stdout) as { model: { preset: string } }).model.preset).toBe('smart-iqa-micro');
    expect(ok.stderr).toMatch(
      /^dry run: everything checked; would create fresh; backend wasm; smart-iqa-micro \(0\.60 M parameters\)\nround 0: \d+ train \/ \d+ select \/ \d+ test images, \d+ steps per epoch\n$/,
    );
    expect(existsSync(join(work, 'fresh'))).toBe(false);
  });

  it('a run that fails before its first step leaves no run folder behind', async () => {
    const run = join(work, 'failed');
    const r = await iqa([
      ...trainArgs,
      '--model',
      'hyperiqa',
      '--init-weights',
      join(work, 'none.pth'),
      '--out',
      run,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `iqa-bench: error: invalid training config: model.initWeights: ${join(work, 'none.pth')}: file not found`,
    );
    expect(existsSync(run)).toBe(false);
  });

  it('a YAML config with flags on top; --dry-run prints the resolved config', async () => {
    const cfg = join(work, 'cfg.yaml');
    writeFileSync(
      cfg,
      [
        'seed: 9',
        'dataset:',
        '  kind: kadid10k',
        `  root: ${data}`,
        'model:',
        '  preset: smart-iqa-micro',
        'training:',
        '  epochs: 4',
        '',
      ].join('\n'),
    );
    const r = await iqa(['train', '--config', cfg, '--epochs', '2', '--lr', '0.0005', '--dry-run']);
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout) as {
      seed: number;
      training: { epochs: number; batchSize: number };
      optimizer: { lr: number };
      dataset: { root: string };
    };
    expect(c.seed).toBe(9);
    expect(c.training.epochs).toBe(2); // the flag wins over the file
    expect(c.training.batchSize).toBe(32); // the schema's default
    expect(c.optimizer.lr).toBe(0.0005);
    expect(c.dataset.root).toBe(data);
  });

  it.each([
    [
      ['train', '--model', 'smart-iqa-micro', '--dry-run'],
      'iqa-bench: error: invalid training config (flags):\n  dataset: ',
    ],
    [
      ['train', '--dataset', 'kadid10k=/x', '--model', 'smart-iqa-micro', '--epochs', '0'],
      "iqa-bench: error: option '--epochs <n>' argument '0' is invalid. expected a positive integer.",
    ],
    [
      ['train', '--dataset', 'kadid10k=/x', '--model', 'smart-iqa-micro', '--loss', 'hinge'],
      "iqa-bench: error: option '--loss <kind>' argument 'hinge' is invalid. Allowed choices are l1, l2, plcc, srcc, rank, fidelity, spearman.",
    ],
    [
      ['train', '--dataset', 'kadid10k=/x', '--model', 'smart-iqa-micro', '--workers', '17'],
      "iqa-bench: error: option '--workers <n>' argument '17' is invalid. expected an integer from 1 to 16.",
    ],
    [['train', '--config', 'nope.yaml'], 'iqa-bench: error: --config nope.yaml: config file not found'],
    [
      ['train', '--config', 'cfg.txt'],
      'iqa-bench: error: --config cfg.txt: expected a .json, .yaml or .yml file',
    ],
  ])('bad config or flags exit 2: %j', async (args, message) => {
    const r = await iqa(args, { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(message)).toBe(true);
  });

  it('refuses a config nested 1,000 levels deep by line and column (no stack overflow)', async () => {
    writeFileSync(join(work, 'deep.yaml'), `seed: ${'['.repeat(1000)}\n`);
    const r = await iqa(['train', '--config', 'deep.yaml', '--dry-run'], { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^iqa-bench: error: --config deep\.yaml:1:\d+: not valid YAML: nested more than 64 levels deep\n$/,
    );
  });

  it('names every invalid field of a config file', async () => {
    const cfg = join(work, 'bad.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        dataset: { kind: 'kadid10k', root: data },
        model: { preset: 'smart-iqa-micro' },
        optimizer: { lr: 'fast' },
        extra: 1,
      }),
    );
    const r = await iqa(['train', '--config', cfg, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`iqa-bench: error: invalid training config (${cfg} + flags):`);
    expect(r.stderr).toContain('optimizer.lr: ');
    expect(r.stderr).toContain("(root): unknown field(s) 'extra'");
  });
});
