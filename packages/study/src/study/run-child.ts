/**
 * One study run in a process of its own (the local executor's `--parallel` / `--devices`): reads
 * `{ spec, runDir }` as JSON on stdin, runs it, and prints the outcome as the last line of stdout. SIGTERM stops the
 * training at its next step; the run resumes from its checkpoint next time.
 */
import type { RunSpec } from './resolve.js';
import { executeRun } from './run.js';

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const { spec, runDir } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
  spec: RunSpec;
  runDir: string;
};
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort('SIGTERM'));
try {
  const outcome = await executeRun(spec, runDir, { signal: stop.signal });
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
