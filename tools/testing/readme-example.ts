/**
 * Runs a package README's example as a user would: the first ```js block (or the one after `after`) is written to a
 * temporary module in the package folder and run by Node in a child process, so its `@iqa-bench/*` imports resolve
 * to the built packages exactly as after `npm install`. Returns what it printed and the ```text block that follows
 * the example in the README (what the README says it prints).
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

function block(readme: string, lang: string, after: number): { code: string; end: number } {
  const open = readme.indexOf('```' + lang + '\n', after);
  if (open < 0) throw new Error(`README has no \`\`\`${lang} block after offset ${after}`);
  const start = open + lang.length + 4;
  const close = readme.indexOf('\n```', start);
  return { code: readme.slice(start, close), end: close };
}

/** The `index`-th js example of a README and the text block after it. */
export function readmeExample(readmePath: string, index = 0): ReadmeExample {
  const readme = readFileSync(readmePath, 'utf8');
  let at = 0;
  let example = block(readme, 'js', at);
  for (let i = 0; i < index; i++) {
    at = example.end;
    example = block(readme, 'js', at);
  }
  return { code: example.code, expected: block(readme, 'text', example.end).code };
}

/** Runs the example in a child Node process in the README's folder; resolves to its stdout (trailing newline cut). */
export async function runReadmeExample(
  readmePath: string,
  options: { index?: number; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ReadmeExample & { output: string }> {
  const example = readmeExample(readmePath, options.index ?? 0);
  const dir = dirname(readmePath);
  const file = join(dir, `.readme-example-${process.pid}-${Date.now()}.mjs`);
  writeFileSync(file, example.code);
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
