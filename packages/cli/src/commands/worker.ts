import { registerStudyRunKind } from '@iqa-bench/study';
import { DEFAULT_QUEUE_NAME, DEFAULT_WORKER_TIMINGS, serveJobWorker } from '@iqa-bench/study/queue';
import { Command } from 'commander';
import type { Ctx } from '../context.js';
import type { CommonFlags } from '../io.js';
import { commonOptions, examples, nonNegativeInt, positiveInt } from '../options.js';
import { VERSION } from '../version.js';

interface WorkerFlags extends CommonFlags {
  queue: string;
  name: string;
  root?: string;
  concurrency: number;
  lockDuration: number;
  stalledInterval: number;
  maxStalled: number;
}

export function workerCommand(ctx: Ctx): Command {
  const cmd = new Command('worker')
    .summary('take runs from a queue (BullMQ on Redis or PostgreSQL) until stopped')
    .description(
      'Take jobs from the queue at --queue (redis://… or postgres://…) and run them, one line on stderr per job, ' +
        'until SIGTERM or Ctrl-C: the first stops taking jobs and puts the running ones back in the queue at their ' +
        'next checkpoint (or lets them finish), a second stops at once. The job lock is renewed while a job runs; a ' +
        'worker that dies (kill -9, a machine lost) loses its lock, and after --lock-duration and at most ' +
        '--stalled-interval another worker takes its job and resumes it from its checkpoint.\n\n' +
        'Jobs come from whoever can write to the queue, so each is checked before anything runs: every path it names ' +
        'must stay inside --root (symbolic links followed), its data must validate like a study file, and its ' +
        `iqa-bench version must be this worker's (${VERSION}); anything else is refused, failing that job with the ` +
        'reason, without reading or writing. A queue that does not answer is an error within seconds (exit 2).',
    )
    .requiredOption('--queue <url>', 'the queue: redis://host:6379 or postgres://user:password@host:5432/db')
    .option('--root <dir>', 'the folder every path of a job must stay in (default: the current folder)')
    .option('--name <queue>', 'the queue name', DEFAULT_QUEUE_NAME)
    .option('--concurrency <n>', 'jobs run at a time', positiveInt, 1)
    .option(
      '--lock-duration <ms>',
      "how long a job stays locked without renewal; a killed worker's job waits this long",
      positiveInt,
      DEFAULT_WORKER_TIMINGS.lockDurationMs,
    )
    .option(
      '--stalled-interval <ms>',
      'how often this worker looks for jobs whose worker died',
      positiveInt,
      DEFAULT_WORKER_TIMINGS.stalledIntervalMs,
    )
    .option(
      '--max-stalled <n>',
      'how many times a job may lose its worker and be restarted before it fails',
      nonNegativeInt,
      DEFAULT_WORKER_TIMINGS.maxStalledCount,
    );
  commonOptions(cmd, false);
  examples(cmd, [
    'iqa-bench worker --queue redis://lab-server:6379 --root /shared/studies',
    'iqa-bench worker --queue "$(head -1 queue-url.txt)" --concurrency 2',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: WorkerFlags) => {
      registerStudyRunKind(); // study runs (\`iqa-bench study run --queue\`)
      await serveJobWorker(flags.queue, flags.name, {
        root: out.path(flags.root ?? '.'),
        version: VERSION,
        concurrency: flags.concurrency,
        lockDurationMs: flags.lockDuration,
        stalledIntervalMs: flags.stalledInterval,
        maxStalledCount: flags.maxStalled,
        log: (line) => out.log(line),
      });
    }),
  );
}
