import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo, TextSink } from './io.js';
import { runCli } from './program.js';

const repo = resolve(import.meta.dirname, '..', '..', '..');
const kadidOk = resolve(repo, 'test', 'fixtures', 'cli', 'datasets', 'kadid-ok');
const baseline = resolve(repo, 'test', 'fixtures', 'cli', 'check', 'baseline.json');

class Sink implements TextSink {
  text = '';
  constructor(readonly isTTY: boolean) {}
  columns = 100;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

function io(tty: boolean, now?: () => number): CliIo & { stdout: Sink; stderr: Sink } {
  return { stdout: new Sink(tty), stderr: new Sink(tty), cwd: repo, ...(now ? { now } : {}) };
}

describe('runCli', () => {
  it('maps --help and --version to 0 and usage errors to 2, never exiting the process', async () => {
    const a = io(false);
    expect(await runCli(['--version'], a)).toBe(0);
    expect(a.stdout.text).toBe('0.1.0\n');
    const b = io(false);
    expect(await runCli(['check', '--nope'], b)).toBe(2);
    expect(b.stderr.text).toContain("iqa-bench: error: unknown option '--nope'");
    expect(b.stdout.text).toBe('');
  });

  it('draws a progress bar on a TTY only, and never with --quiet or --json', async () => {
    const args = ['datasets', 'verify', '--dataset', `kadid10k=${kadidOk}`];
    const tty = io(true);
    expect(await runCli(args, tty)).toBe(0);
    expect(tty.stderr.text).toContain('verify kadid10k [');
    for (const extra of [['--quiet'], ['--json']]) {
      const quiet = io(true);
      expect(await runCli([...args, ...extra], quiet)).toBe(0);
      expect(quiet.stderr.text).toBe('');
    }
    const pipe = io(false);
    expect(await runCli(args, pipe)).toBe(0);
    expect(pipe.stderr.text).toBe('');
  });

  it('off a terminal, predict prints plain progress lines every few seconds', async () => {
    // A clock that moves 6 s per reading: every image takes "longer" than the 5 s between lines.
    let t = 0;
    const pipe = io(false, () => (t += 6000));
    const ckpt = resolve(repo, 'test', 'fixtures', 'cli', 'checkpoints', 'hypernet-swin-attention.pkl');
    const imgs = ['I01_01_01.png', 'I01_01_03.png', 'I01_01_05.png'].map((n) =>
      resolve(kadidOk, 'images', n),
    );
    expect(
      await runCli(['predict', '--checkpoint', ckpt, ...imgs, '--backend', 'cpu', '--patches', '1'], pipe),
    ).toBe(0);
    const lines = pipe.stderr.text.split('\n').filter((l) => l.startsWith('predict: '));
    expect(lines).toEqual([
      'predict: 1/3 (33%), 6 s elapsed, about 12 s left',
      'predict: 2/3 (66%), 12 s elapsed, about 6 s left',
      'predict: 3/3 in 24 s',
    ]);
  }, 60_000);

  it('--json puts only JSON on stdout', async () => {
    const j = io(false);
    expect(await runCli(['check', '--result', baseline, '--baseline', baseline, '--json'], j)).toBe(0);
    expect(() => JSON.parse(j.stdout.text)).not.toThrow();
    expect(j.stderr.text).toContain('PASS');
  });

  it('usage hints name the full subcommand', async () => {
    const a = io(false);
    expect(await runCli(['datasets', 'split', '--bogus'], a)).toBe(2);
    expect(a.stderr.text).toBe(
      "iqa-bench: error: unknown option '--bogus'\n(run 'iqa-bench datasets split --help' for usage)\n",
    );
    const b = io(false);
    expect(await runCli(['check', '--nope'], b)).toBe(2);
    expect(b.stderr.text).toContain("(run 'iqa-bench check --help' for usage)");
  });

  it('--json prints an error object on stdout besides the exit code (usage and input errors)', async () => {
    const usage = io(false);
    expect(await runCli(['check', '--nope', '--json'], usage)).toBe(2);
    expect(JSON.parse(usage.stdout.text)).toEqual({
      schema: 'iqa-bench/error@1',
      error: {
        code: 'commander.unknownOption',
        message: "unknown option '--nope'",
        exitCode: 2,
        flag: '--nope',
      },
    });
    const missing = resolve(repo, 'no-such-result.json');
    const input = io(false);
    expect(await runCli(['check', '--result', missing, '--baseline', baseline, '--json'], input)).toBe(2);
    expect(JSON.parse(input.stdout.text)).toEqual({
      schema: 'iqa-bench/error@1',
      error: { code: 'bad-input', message: `${missing}: no such file`, exitCode: 2 },
    });
    expect(input.stderr.text).toBe(`iqa-bench: error: ${missing}: no such file\n`);
    // Without --json, stdout stays empty.
    const plain = io(false);
    expect(await runCli(['check', '--result', missing, '--baseline', baseline], plain)).toBe(2);
    expect(plain.stdout.text).toBe('');
  });
});
