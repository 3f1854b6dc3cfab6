import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { probeQueueUrl } from './connection.js';
import type { Child } from './__tests__/processes.js';
import { freePort, killAll, spawnProgram, until } from './__tests__/processes.js';
import { killScenario } from './__tests__/scenario.js';

function findRedisServer(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const redisServer = findRedisServer();
if (redisServer === undefined) {
  console.warn(
    'redis-server is not on PATH: the Redis path of the queue is not tested (apt-get install redis-server)',
  );
}

describe.skipIf(redisServer === undefined)(
  'BullMQ on Redis (redis-server from PATH), worker processes',
  () => {
    let tmp: string;
    let redis: Child;
    let url: string;

    beforeAll(async () => {
      tmp = await mkdtemp(join(tmpdir(), 'iqa-redis-'));
      const port = await freePort();
      redis = spawnProgram(redisServer!, [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        tmp,
      ]);
      url = `redis://127.0.0.1:${port}`;
      await until('redis-server', 15_000, () =>
        probeQueueUrl(url, 500).then(
          () => true,
          () => undefined,
        ),
      );
    }, 30_000);

    afterAll(async () => {
      killAll();
      await rm(tmp, { recursive: true, force: true });
    });

    it('a worker SIGKILLed mid-job: every job still finishes exactly once', async () => {
      const root = join(tmp, 'root');
      await mkdir(root);
      const { b } = await killScenario(url, 'kill', root, 4);
      process.kill(b.pid, 'SIGTERM');
      await b.exited;
      void redis;
    }, 90_000);
  },
);
