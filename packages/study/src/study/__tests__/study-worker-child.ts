/**
 * A worker process for the tests: `node --import tsx study-worker-child.ts <url> <queue> <root>` runs `study-run`
 * jobs exactly as `iqa-bench worker` does, with short lock and stall timings.
 */
import { JobKindRegistry } from '../../queue/jobs.js';
import { serveJobWorker } from '../../queue/worker.js';
import { registerStudyRunKind } from '../queue-run.js';

const [url, queueName, root] = process.argv.slice(2);
const registry = new JobKindRegistry();
registerStudyRunKind(registry);
await serveJobWorker(url, queueName, {
  root,
  registry,
  lockDurationMs: 15_000,
  stalledIntervalMs: 1000,
  maxStalledCount: 1,
  log: (line) => process.stderr.write(`${line}\n`),
});
