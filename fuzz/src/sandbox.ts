/**
 * In-process tripwires of a fuzzing child: while armed, every file-system write, process spawn, network attempt and
 * worker thread is recorded, and all but writes inside the child's own scratch folder are refused (they throw). Node's built-in modules are patched in place and
 * `syncBuiltinESMExports` carries the patch to every ESM named import, including those made before. Native code
 * (libvips, zlib) bypasses these hooks; the child's empty HOME/TMPDIR/cwd, the sentinel folder and the case-folder
 * snapshot (worker.ts) catch what they leave behind.
 */
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import dns from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { resolve, sep } from 'node:path';
import tls from 'node:tls';
import workerThreads from 'node:worker_threads';

let armed = false;
const violations: string[] = [];
/** Writes below this folder (the child's own scratch) are recorded and allowed; anything else is refused. */
let scratchRoot = '/nonexistent';

function describeArg(a: unknown): string {
  if (typeof a === 'string') return JSON.stringify(a.length > 200 ? `${a.slice(0, 200)}...` : a);
  if (a instanceof URL) return JSON.stringify(a.href);
  if (typeof a === 'number') return String(a);
  return typeof a;
}

function pathOf(a: unknown): string | undefined {
  if (typeof a === 'string') return resolve(a);
  if (a instanceof URL) return a.protocol === 'file:' ? resolve(a.pathname) : undefined;
  if (a instanceof Uint8Array) return resolve(Buffer.from(a).toString('utf8'));
  return undefined;
}

/** Records a side effect; refuses it (throws) unless `allowed`. */
function trip(what: string, args: readonly unknown[], allowed = false): void {
  const v = `${what}(${args.slice(0, 2).map(describeArg).join(', ')})`;
  violations.push(v);
  if (!allowed) throw new Error(`fuzz sandbox: side effect refused: ${v}`);
}

/** A file-system write is let through (and recorded) only when every path it names is inside the scratch folder. */
function fsTrip(what: string, args: readonly unknown[]): void {
  const paths = args
    .slice(0, 2)
    .map(pathOf)
    .filter((p): p is string => p !== undefined);
  const inside =
    paths.length > 0 && paths.every((p) => p === scratchRoot || p.startsWith(`${scratchRoot}${sep}`));
  trip(what, args, inside);
}

type AnyFn = (...args: unknown[]) => unknown;

function guard(
  obj: object,
  name: string,
  label: string,
  when?: (args: unknown[]) => boolean,
  onTrip: (what: string, args: readonly unknown[]) => void = trip,
): void {
  const target = obj as Record<string, unknown>;
  const orig = target[name];
  if (typeof orig !== 'function') return;
  const fn = orig as AnyFn;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    if (armed && (when === undefined || when(args))) onTrip(label, args);
    return fn.apply(this, args);
  };
  Object.defineProperties(wrapped, Object.getOwnPropertyDescriptors(fn));
  target[name] = wrapped;
}

/** True for open() flags that can create or change a file. */
function writesFlags(flags: unknown): boolean {
  if (flags === undefined || flags === null) return false;
  if (typeof flags === 'number')
    return (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT)) !== 0;
  return typeof flags === 'string' && /[wa+]/.test(flags);
}

const FS_WRITES = [
  'writeFile',
  'appendFile',
  'mkdir',
  'mkdtemp',
  'rm',
  'rmdir',
  'unlink',
  'rename',
  'copyFile',
  'cp',
  'symlink',
  'link',
  'truncate',
  'chmod',
  'chown',
  'lchown',
  'utimes',
  'lutimes',
];

let installed = false;

/**
 * Patches the built-in modules (once per process); the tripwires stay disarmed until `arm()`. File-system writes
 * below `scratch` are recorded but let through (the reader then finishes as it would and the side effect is reported);
 * writes elsewhere, processes and connections are refused.
 */
export function installSandbox(scratch: string): void {
  if (installed) return;
  installed = true;
  scratchRoot = resolve(scratch);
  for (const name of FS_WRITES) {
    guard(fs, name, `fs.${name}`, undefined, fsTrip);
    guard(fs, `${name}Sync`, `fs.${name}Sync`, undefined, fsTrip);
    guard(fs.promises, name, `fs.promises.${name}`, undefined, fsTrip);
  }
  guard(fs, 'createWriteStream', 'fs.createWriteStream', undefined, fsTrip);
  guard(fs, 'open', 'fs.open', (a) => writesFlags(a[1]), fsTrip);
  guard(fs, 'openSync', 'fs.openSync', (a) => writesFlags(a[1]), fsTrip);
  guard(fs.promises, 'open', 'fs.promises.open', (a) => writesFlags(a[1]), fsTrip);
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'])
    guard(childProcess, name, `child_process.${name}`);
  guard(net, 'connect', 'net.connect');
  guard(net, 'createConnection', 'net.createConnection');
  guard(net.Socket.prototype, 'connect', 'net.Socket.connect');
  guard(tls, 'connect', 'tls.connect');
  guard(dgram, 'createSocket', 'dgram.createSocket');
  for (const m of [http, https]) {
    guard(m, 'request', m === http ? 'http.request' : 'https.request');
    guard(m, 'get', m === http ? 'http.get' : 'https.get');
  }
  for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny'])
    guard(dns, name, `dns.${name}`);
  guard(dns.promises, 'lookup', 'dns.promises.lookup');
  guard(globalThis, 'fetch', 'fetch');
  const OrigWorker = workerThreads.Worker;
  class GuardedWorker extends OrigWorker {
    constructor(...args: ConstructorParameters<typeof OrigWorker>) {
      if (armed) trip('new Worker', args);
      super(...args);
    }
  }
  (workerThreads as { Worker: typeof OrigWorker }).Worker = GuardedWorker;
  syncBuiltinESMExports();
}

/** Arms the tripwires and forgets earlier violations. */
export function arm(): void {
  violations.length = 0;
  armed = true;
}

/** Disarms them and returns what was refused while armed. */
export function disarm(): string[] {
  armed = false;
  return [...violations];
}
