/**
 * Runs a package README's example as a user would: a ```js block is written to a temporary module in the package
 * folder and run by Node in a child process, so its `@iqa-bench/*` imports resolve to the built packages exactly as
 * after `npm install`. Returns what it printed and the ```text block that follows the example in the README (what the
 * README says it prints).
 *
 * Which block: the `index`-th ```js block (default the first) after the first occurrence of `after` (a heading such as
 * `## Weights and checkpoints`; default the start of the README).
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ReadmeExample {
  /** The example's source. */
  code: string;
  /** The text block after it: the output the README promises. */
  expected: string;
}

export interface ReadmeBlockOptions {
  /** Which ```js block, counted from 0 (default 0). */
  index?: number;
  /** Start looking at the first occurrence of this text, e.g. a section heading (default: the README's start). */
  after?: string;
}

export interface RunReadmeOptions extends ReadmeBlockOptions {
  /** Child-process time limit (default 120 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * Code run after the example in the same module (e.g. a check that it left no tensors behind); what it prints
   * follows the example's own output.
   */
  append?: string;
}

function block(readme: string, lang: string, after: number): { code: string; end: number } {
  const open = readme.indexOf('```' + lang + '\n', after);
  if (open < 0) throw new Error(`README has no \`\`\`${lang} block after offset ${after}`);
  const start = open + lang.length + 4;
  const close = readme.indexOf('\n```', start);
  return { code: readme.slice(start, close), end: close };
}

/** A js example of a README (see the module comment for which) and the text block after it. */
export function readmeExample(readmePath: string, options: ReadmeBlockOptions = {}): ReadmeExample {
  const readme = readFileSync(readmePath, 'utf8');
  let at = 0;
  if (options.after !== undefined) {
    at = readme.indexOf(options.after);
    if (at < 0) throw new Error(`${readmePath} has no "${options.after}"`);
  }
  let example = block(readme, 'js', at);
  for (let i = 0; i < (options.index ?? 0); i++) {
    at = example.end;
    example = block(readme, 'js', at);
  }
  return { code: example.code, expected: block(readme, 'text', example.end).code };
}

/** Runs the example in a child Node process in the README's folder; resolves to its stdout (trailing newline cut). */
export async function runReadmeExample(
  readmePath: string,
  options: RunReadmeOptions = {},
): Promise<ReadmeExample & { output: string }> {
  const example = readmeExample(readmePath, options);
  const dir = dirname(readmePath);
  const file = join(dir, `.readme-example-${process.pid}-${Date.now()}.mjs`);
  writeFileSync(file, options.append === undefined ? example.code : `${example.code}\n${options.append}\n`);
  try {
    const { stdout } = await run(process.execPath, [file], {
      cwd: dir,
      timeout: options.timeoutMs ?? 120_000,
      env: { ...process.env, ...options.env },
      maxBuffer: 16 << 20,
    });
    return { ...example, output: stdout.replace(/\n$/, '') };
  } finally {
    rmSync(file, { force: true });
  }
}
