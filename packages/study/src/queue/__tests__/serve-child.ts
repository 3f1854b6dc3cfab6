/** `node --import tsx serve-child.ts <dir>`: serves a queue as `iqa-bench queue serve` does (URL first on stdout). */
import { serveQueue } from '../server.js';

await serveQueue({
  dir: process.argv[2],
  log: (line) => process.stderr.write(`${line}\n`),
  onUrl: (url) => process.stdout.write(`${url}\n`),
});
