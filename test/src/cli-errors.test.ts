import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, fixtures, iqa, repo } from './cli-run.js';

/** Runs the built CLI with its stdout read by nobody: the reader closed the pipe before the first byte. */
function withClosedStdout(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // as `| head` once it has what it wants
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stderr }));
  });
}

const baseline = join(fixtures, 'check', 'baseline.json');

describe('a closed stdout (iqa-bench … | head)', () => {
  it.each([
    [['predict', '--help']],
    [['--help']],
    [['models']],
    [['check', '--result', baseline, '--baseline', baseline, '--json', '-q']],
  ])('ends the process quietly: %j', async (args) => {
    const r = await withClosedStdout(args);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled 'error' event|\n\s+at /);
    expect(r.code).toBe(0);
  });
});

describe('--json on an error', () => {
  it('prints an error object on stdout: code, message, exit code, file and flag', async () => {
    const missing = join(repo, 'no-such.pkl');
    const r = await iqa(['predict', '--checkpoint', missing, join(fixtures, 'images'), '--json', '-q']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      schema: 'iqa-bench/error@1',
      error: {
        code: 'bad-input',
        message: `--checkpoint ${missing}: no such file`,
        exitCode: 2,
        file: missing,
        flag: '--checkpoint',
      },
    });
    expect(r.stderr).toBe(`iqa-bench: error: --checkpoint ${missing}: no such file\n`);
    const usage = await iqa(['models', '--bogus', '--json']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout).error).toMatchObject({
      code: 'commander.unknownOption',
      flag: '--bogus',
    });
  });

  it('usage hints name the full subcommand', async () => {
    const r = await iqa(['datasets', 'split', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "iqa-bench: error: unknown option '--bogus'\n(run 'iqa-bench datasets split --help' for usage)\n",
    );
  });
});

describe('iqa-bench models', () => {
  it('lists every preset with params, GMACs, input size and fusion; a timm name finds its preset', async () => {
    const r = await iqa(['models']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^preset\s+backbone\s+params \(M\)\s+GMACs\s+input\s+fusion\s+also answers to$/);
    expect(lines.find((l) => l.startsWith('smart-iqa-tiny '))).toMatch(
      /^smart-iqa-tiny\s+Swin-T \(swin_tiny_patch4_window7_224\)\s+29\.52\s+4\.58\s+224x224\s+attention\s/,
    );
    expect(lines.find((l) => l.startsWith('hyperiqa-resnet50 '))).toMatch(
      /^hyperiqa-resnet50\s+ResNet-50 \(resnet50\)\s+27\.38\s+4\.29\s+224x224\s+single\s/,
    );
    const one = await iqa(['models', 'swin_tiny_patch4_window7_224', '--json']);
    expect(one.code).toBe(0);
    const json = JSON.parse(one.stdout) as { presets: Array<{ preset: string; params: number }> };
    expect(json.presets.map((p) => [p.preset, p.params])).toEqual([['smart-iqa-tiny', 29521479]]);
    expect(one.stderr).toBe('swin_tiny_patch4_window7_224 is smart-iqa-tiny\n');
    const none = await iqa(['models', 'vgg16']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /^iqa-bench: error: no model preset or alias "vgg16"; expected one of smart-iqa-tiny, /,
    );
  });
});
