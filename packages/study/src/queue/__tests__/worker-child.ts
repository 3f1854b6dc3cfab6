/**
 * A worker process for the tests: `node --import tsx worker-child.ts <url> <queue> <root> [version]` runs the test job
 * kind with short lock and stall timings, exactly as `iqa-bench worker` runs the registered kinds.
 */
import { JobKindRegistry } from '../jobs.js';
import { serveJobWorker } from '../worker.js';
import { registerTestKind } from './test-kind.js';

const [url, queueName, root, version] = process.argv.slice(2);
const registry = new JobKindRegistry();
registerTestKind(registry);
await serveJobWorker(url, queueName, {
  root,
  registry,
  ...(version !== undefined ? { version } : {}),
  lockDurationMs: 2000,
  stalledIntervalMs: 1000,
  maxStalledCount: 1,
  log: (line) => process.stderr.write(`${line}\n`),
});
