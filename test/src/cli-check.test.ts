import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtures, iqa } from './cli-run.js';

const dir = join(fixtures, 'check');
const f = (name: string) => join(dir, name);
const work = mkdtempSync(join(tmpdir(), 'iqa-cli-check-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('iqa-bench check', () => {
  it('passes (exit 0) within tolerance and prints the diff table', async () => {
    const r = await iqa(['check', '--result', f('result-ok.json'), '--baseline', f('baseline.json')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('dataset      metric  baseline  result    delta  status');
    // srcc of synth-kadid is 0.0022 lower: within the default tolerance 0.005.
    expect(lines).toContain('synth-kadid  srcc ↑    0.9312  0.9290  -0.0022  ok');
    expect(lines).toContain('synth-kadid  plcc ↑    0.9401  0.9455  +0.0054  improved');
    expect(lines).toContain('mean         srcc ↑    0.9208  0.9197  -0.0011  ok');
    expect(lines.at(-1)).toBe('PASS: 6 value(s) within tolerance 0.005 of the baseline or better');
  });

  it('fails (exit 1) on a regression, naming it', async () => {
    const r = await iqa(['check', '--result', f('result-regressed.json'), '--baseline', f('baseline.json')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('synth-kadid  srcc ↑    0.9312  0.9012  -0.0300  REGRESSION');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
      'FAIL: 2 of 6 value(s) worse than the baseline by more than 0.005, or missing: synth-kadid srcc -0.0300, mean srcc -0.0150',
    );
  });

  it('treats RMSE as lower-is-better and honours --tolerance and repeated --metric', async () => {
    const args = ['check', '--result', f('result-regressed.json'), '--baseline', f('baseline.json')];
    const rmse = await iqa([...args, '--metric', 'rmse']);
    expect(rmse.code).toBe(1);
    expect(rmse.stdout).toContain('synth-kadid  rmse ↓    0.3114  0.3500  +0.0386  REGRESSION');
    const loose = await iqa([...args, '--metric', 'srcc', '--metric', 'krcc', '--tolerance', '0.05']);
    expect(loose.code).toBe(0);
    expect(loose.stdout).toContain('synth-kadid  krcc ↑    0.7811  0.7811  +0.0000  ok');
  });

  it('--json prints only JSON on stdout and --out writes the same report atomically', async () => {
    const out = join(work, 'nested', 'check.json');
    const r = await iqa([
      'check',
      '--result',
      f('result-regressed.json'),
      '--baseline',
      f('baseline.json'),
      '--json',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      schema: string;
      passed: boolean;
      rows: Array<{ status: string }>;
    };
    expect(report.schema).toBe('iqa-bench/check@1');
    expect(report.passed).toBe(false);
    expect(report.rows.filter((x) => x.status === 'regression')).toHaveLength(2);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(report);
    expect(readdirSync(join(work, 'nested'))).toEqual(['check.json']); // no temporary file left behind
    expect(r.stderr).toContain('FAIL: 2 of 6');
  });

  it("accepts the PyTorch original's cross-dataset JSON as a baseline", async () => {
    const r = await iqa([
      'check',
      '--result',
      f('original-cross-dataset.json'),
      '--baseline',
      f('original-cross-dataset.json'),
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('KADID-10K  srcc ↑    0.5412  0.5412  +0.0000  ok');
  });

  it("reads a training run's summary.json (the CI gate's input)", async () => {
    const summary = join(fixtures, 'run', 'summary.json');
    const r = await iqa([
      'check',
      '--result',
      summary,
      '--baseline',
      f('baseline-train.json'),
      '--metric',
      'srcc',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('kadid10k  srcc ↑    0.9000  0.8412  -0.0588  REGRESSION');
    const pass = await iqa([
      'check',
      '--result',
      summary,
      '--baseline',
      f('baseline-train.json'),
      '--metric',
      'srcc',
      '--tolerance',
      '0.06',
    ]);
    expect(pass.code).toBe(0);
  });

  it('a dataset missing from the result fails the check', async () => {
    const r = await iqa([
      'check',
      '--result',
      f('original-cross-dataset.json'),
      '--baseline',
      f('baseline.json'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('synth-kadid  srcc ↑    0.9312       –      –  MISSING');
    expect(r.stdout).toContain('SPAQ         srcc ↑         –  0.8698      –  new (not gated)');
  });

  it.each([
    [
      ['--result', f('nope.json'), '--baseline', f('baseline.json')],
      `iqa-bench: error: ${f('nope.json')}: no such file`,
    ],
    [
      ['--result', f('malformed-field.json'), '--baseline', f('baseline.json')],
      `iqa-bench: error: ${f('malformed-field.json')}: datasets[1].metrics.srcc: expected a number or null, got "high"`,
    ],
    [
      ['--result', f('result-ok.json'), '--baseline', f('truncated.json')],
      `iqa-bench: error: ${f('truncated.json')}: not valid JSON`,
    ],
    [['--result', f('result-ok.json'), '--baseline', dir], `iqa-bench: error: ${dir}: not a file`],
    [
      ['--result', f('result-ok.json'), '--baseline', f('original-cross-dataset.json'), '--metric', 'krcc'],
      'iqa-bench: error: --metric krcc:',
    ],
  ])('exit 2 with a one-line error for bad input %#', async (args, message) => {
    const r = await iqa(['check', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(message)).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without --verbose
  });

  it('--verbose adds the stack trace', async () => {
    const r = await iqa([
      'check',
      '--result',
      f('malformed-field.json'),
      '--baseline',
      f('baseline.json'),
      '--verbose',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it.each([
    [
      ['check', '--result', 'a.json', '--baseline', 'b.json', '--bogus'],
      "iqa-bench: error: unknown option '--bogus'",
    ],
    [
      ['check', '--result', 'a.json', '--baseline', 'b.json', '--tolerance', 'abc'],
      "iqa-bench: error: option '--tolerance <t>' argument 'abc' is invalid. expected a non-negative number.",
    ],
    [
      ['check', '--result', 'a.json', '--baseline', 'b.json', '--metric', 'accuracy'],
      "iqa-bench: error: option '--metric <name>' argument 'accuracy' is invalid. unknown metric \"accuracy\"",
    ],
    [['check', '--baseline', 'b.json'], "iqa-bench: error: required option '--result <file>' not specified"],
    [['chek'], "iqa-bench: error: unknown command 'chek'"],
    [[], 'Usage: iqa-bench [options] [command]'],
  ])('usage errors exit 2: %j', async (args, message) => {
    const r = await iqa(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(message)).toBe(true);
  });

  it('--help shows examples and exits 0', async () => {
    const r = await iqa(['check', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: iqa-bench check [options]');
    expect(r.stdout).toContain('Examples:\n  $ iqa-bench check --result');
  });
});
