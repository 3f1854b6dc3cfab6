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

function io(tty: boolean): CliIo & { stdout: Sink; stderr: Sink } {
  return { stdout: new Sink(tty), stderr: new Sink(tty), cwd: repo };
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

  it('--json puts only JSON on stdout', async () => {
    const j = io(false);
    expect(await runCli(['check', '--result', baseline, '--baseline', baseline, '--json'], j)).toBe(0);
    expect(() => JSON.parse(j.stdout.text)).not.toThrow();
    expect(j.stderr.text).toContain('PASS');
  });
});
