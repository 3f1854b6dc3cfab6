/** Test support: the `iqa-bench` command run in-process in a folder, its exit code and what it wrote. */
import type { CliIo, TextSink } from '../io.js';
import { runCli } from '../program.js';

class Sink implements TextSink {
  text = '';
  constructor(
    readonly isTTY?: boolean,
    readonly columns?: number,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** Runs `iqa-bench <argv>` with `cwd` as its working folder; `columns` sets the width the output is laid out for. */
export async function runCliIn(
  cwd: string,
  argv: readonly string[],
  options: { columns?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const sink = () => (options.columns === undefined ? new Sink() : new Sink(false, options.columns));
  const io: CliIo & { stdout: Sink; stderr: Sink } = { stdout: sink(), stderr: sink(), cwd };
  const code = await runCli([...argv], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}
