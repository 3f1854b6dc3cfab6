#!/usr/bin/env node
import { runCli } from './program.js';

// A reader that closes the pipe early (`iqa-bench predict --help | head`) ends the process quietly: nothing more can be
// written, and the reader has what it wanted.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

const code = await runCli(process.argv.slice(2));
// Flush what is still queued for stdout/stderr, then exit: a backend's worker or timer must not keep the process alive.
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
process.exit(code);
