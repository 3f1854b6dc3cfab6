/**
 * The parent side: a small pool of forked fuzzing children (worker.ts), each handling many inputs one after another.
 * The parent enforces the limits a child cannot enforce on itself: a deadline per input (then SIGKILL: "hang") and a
 * resident-memory ceiling polled from /proc (then SIGKILL: "crash"); V8's heap is capped with
 * `--max-old-space-size`. A child that dies or is killed is replaced before the next input. Inputs with a bad
 * outcome are copied, with what is known about them, into the findings folder while the child waits.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ErrorInfo } from './classify.js';
import type { CaseCall, OutcomeClass } from './types.js';
import { BAD_OUTCOMES } from './types.js';
import type { FromWorker, ToWorker } from './worker.js';

export type Job =
  | { type: 'case'; format: string; seed: string; index: number }
  | { type: 'replay'; format: string; dir: string };

export interface CaseResult {
  job: Job;
  outcome: OutcomeClass;
  /** What the reader returned (parsed inputs). */
  summary?: string;
  error?: ErrorInfo;
  /** Why an error is raw, how a child died, what the side effect was. */
  why?: string;
  sideEffects?: string[];
  /** Time the reader ran (or ran until killed), ms. */
  ms: number;
  call?: CaseCall;
  mutations?: string[];
  seedName?: string;
  /** Where the reproducer was saved (bad outcomes, when the pool has a findings folder). */
  saved?: string;
}

export interface PoolOptions {
  /** Child processes (default 2). */
  workers?: number;
  /** Deadline of one input, ms (default 5000). */
  timeoutMs?: number;
  /** Resident memory ceiling of a child, bytes (default 1 GiB). */
  maxRssBytes?: number;
  /** V8 old-space limit of a child, MiB (default 512). */
  maxOldSpaceMb?: number;
  /** Save reproducers of bad outcomes here (`<format>/<outcome>-<hash>/`). */
  findingsDir?: string;
  /** Lower the children's scheduling priority (nice value, default 0). */
  nice?: number;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Time a child may take to start (imports) and to build an input before the deadline starts. */
const HARNESS_TIMEOUT_MS = 120_000;

interface Slot {
  index: number;
  dir: string;
  child: ChildProcess | null;
  ready: Promise<void> | null;
  stderr: string;
  busy: boolean;
}

interface Running {
  job: Job;
  id: number;
  started?: Extract<FromWorker, { type: 'started' }>;
  startedAt: number;
  killedFor?: 'hang' | 'memory';
  rss?: number;
  resolve: (r: CaseResult) => void;
  reject: (e: Error) => void;
  timers: NodeJS.Timeout[];
}

/** Linux page size (statm counts pages). */
const PAGE_BYTES = 4096;

function rssOf(pid: number): number | undefined {
  try {
    const statm = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return Number(statm[1]) * PAGE_BYTES;
  } catch {
    return undefined;
  }
}

/** A stable short name of an input folder's content. */
export function contentHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      h.update(`${relative(dir, p)}\0`);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex').slice(0, 12);
}

export class FuzzPool {
  readonly scratch: string;
  readonly sentinel: string;
  private readonly opts: Required<Omit<PoolOptions, 'findingsDir'>> & { findingsDir?: string };
  private readonly slots: Slot[] = [];
  private readonly queue: { job: Job; resolve: (r: CaseResult) => void; reject: (e: Error) => void }[] = [];
  private readonly running = new Map<Slot, Running>();
  private nextId = 1;
  private closed = false;

  constructor(options: PoolOptions = {}) {
    this.opts = {
      workers: options.workers ?? 2,
      timeoutMs: options.timeoutMs ?? 5000,
      maxRssBytes: options.maxRssBytes ?? 2 ** 30,
      maxOldSpaceMb: options.maxOldSpaceMb ?? 512,
      nice: options.nice ?? 0,
      ...(options.findingsDir !== undefined ? { findingsDir: options.findingsDir } : {}),
    };
    this.scratch = realpathSync(mkdtempSync(join(tmpdir(), 'iqa-fuzz-')));
    this.sentinel = join(this.scratch, 'sentinel');
    mkdirSync(this.sentinel);
    for (let i = 0; i < this.opts.workers; i++) {
      const dir = join(this.scratch, `w${i}`);
      for (const sub of ['case', 'home', 'tmp', 'cwd']) mkdirSync(join(dir, sub), { recursive: true });
      this.slots.push({ index: i, dir, child: null, ready: null, stderr: '', busy: false });
    }
  }

  /** Runs one job; resolves when its outcome is known (never rejects for reader failures). */
  run(job: Job): Promise<CaseResult> {
    if (this.closed) return Promise.reject(new Error('fuzz pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  /** Stops every child and removes the scratch folder. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) {
      const c = s.child;
      s.child = null;
      if (c && c.exitCode === null && c.signalCode === null) {
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await gone;
      }
    }
    rmSync(this.scratch, { recursive: true, force: true });
  }

  private spawn(slot: Slot): Promise<void> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: join(slot.dir, 'home'),
      TMPDIR: join(slot.dir, 'tmp'),
      TMP: join(slot.dir, 'tmp'),
      TEMP: join(slot.dir, 'tmp'),
      FUZZ_WORKDIR: slot.dir,
      FUZZ_SENTINEL: this.sentinel,
      TSX_DISABLE_CACHE: '1',
      NODE_OPTIONS: '',
    };
    const child = fork(WORKER, [], {
      cwd: join(slot.dir, 'cwd'),
      env,
      execArgv: ['--import', TSX, `--max-old-space-size=${this.opts.maxOldSpaceMb}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    if (this.opts.nice !== 0 && child.pid !== undefined) {
      try {
        setPriority(child.pid, this.opts.nice);
      } catch {
        // Not allowed here: run at normal priority.
      }
    }
    slot.child = child;
    slot.stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      slot.stderr = (slot.stderr + d.toString('utf8')).slice(-4000);
    });
    child.on('message', (m: FromWorker) => this.onMessage(slot, child, m));
    child.on('exit', (code, signal) => this.onExit(slot, child, code, signal));
    slot.ready = new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`fuzz worker ${slot.index} did not start: ${slot.stderr}`)),
        HARNESS_TIMEOUT_MS,
      );
      const onReady = (m: FromWorker): void => {
        if (m.type === 'ready') {
          clearTimeout(t);
          child.off('message', onReady);
          resolve();
        }
      };
      child.on('message', onReady);
      child.once('exit', () => {
        clearTimeout(t);
        reject(new Error(`fuzz worker ${slot.index} exited while starting: ${slot.stderr}`));
      });
    });
    return slot.ready;
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0 || this.closed) continue;
      const next = this.queue.shift();
      if (!next) return;
      slot.busy = true;
      void this.dispatch(slot, next);
    }
  }

  private async dispatch(
    slot: Slot,
    item: { job: Job; resolve: (r: CaseResult) => void; reject: (e: Error) => void },
  ): Promise<void> {
    try {
      if (!slot.child) await this.spawn(slot);
      else await slot.ready;
    } catch (err) {
      slot.busy = false;
      slot.child = null;
      item.reject(err as Error);
      this.pump();
      return;
    }
    const child = slot.child;
    if (!child) return;
    const id = this.nextId++;
    const run: Running = {
      job: item.job,
      id,
      startedAt: Date.now(),
      resolve: item.resolve,
      reject: item.reject,
      timers: [],
    };
    run.timers.push(
      setTimeout(() => {
        if (!run.started) {
          run.reject(
            new Error(`fuzz worker ${slot.index} took more than ${HARNESS_TIMEOUT_MS} ms to build an input`),
          );
          this.running.delete(slot);
          child.kill('SIGKILL');
        }
      }, HARNESS_TIMEOUT_MS),
    );
    this.running.set(slot, run);
    const msg: ToWorker =
      item.job.type === 'case'
        ? { type: 'case', id, format: item.job.format, seed: item.job.seed, index: item.job.index }
        : { type: 'replay', id, format: item.job.format, dir: item.job.dir };
    child.send(msg);
  }

  private onMessage(slot: Slot, child: ChildProcess, m: FromWorker): void {
    const run = this.running.get(slot);
    if (!run || slot.child !== child) return;
    if (m.type === 'started' && m.id === run.id) {
      run.started = m;
      run.startedAt = Date.now();
      run.timers.push(
        setTimeout(() => {
          run.killedFor = 'hang';
          child.kill('SIGKILL');
        }, this.opts.timeoutMs),
      );
      const poll = setInterval(() => {
        const rss = child.pid === undefined ? undefined : rssOf(child.pid);
        if (rss !== undefined && rss > this.opts.maxRssBytes && !run.killedFor) {
          run.killedFor = 'memory';
          run.rss = rss;
          child.kill('SIGKILL');
        }
      }, 50);
      run.timers.push(poll);
    } else if (m.type === 'done' && m.id === run.id) {
      const result: CaseResult = {
        job: run.job,
        outcome: m.outcome,
        ms: m.ms,
        ...(m.summary !== undefined ? { summary: m.summary } : {}),
        ...(m.error ? { error: m.error } : {}),
        ...(m.why ? { why: m.why } : {}),
        ...(m.sideEffects && m.sideEffects.length > 0 ? { sideEffects: m.sideEffects } : {}),
      };
      this.finish(slot, run, result);
    }
  }

  private onExit(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.child = null;
    const run = this.running.get(slot);
    if (!run) return;
    if (!run.started) {
      for (const t of run.timers) clearTimeout(t);
      this.running.delete(slot);
      slot.busy = false;
      run.reject(
        new Error(
          `fuzz worker ${slot.index} died while building an input (code ${code}, signal ${signal}): ${slot.stderr}`,
        ),
      );
      this.pump();
      return;
    }
    const ms = Date.now() - run.startedAt;
    const sentinelHits = readdirSync(this.sentinel);
    let outcome: OutcomeClass;
    let why: string;
    if (sentinelHits.length > 0) {
      outcome = 'side-effect';
      why = `sentinel folder: created ${sentinelHits.join(', ')}`;
    } else if (run.killedFor === 'hang') {
      outcome = 'hang';
      why = `no answer within ${this.opts.timeoutMs} ms`;
    } else if (run.killedFor === 'memory') {
      outcome = 'crash';
      why = `resident memory ${Math.round((run.rss ?? 0) / 2 ** 20)} MiB over the ${Math.round(this.opts.maxRssBytes / 2 ** 20)} MiB limit`;
    } else {
      outcome = 'crash';
      why = `child exited (code ${code}, signal ${signal}): ${slot.stderr.trim().split('\n').slice(-6).join(' | ')}`;
    }
    this.finish(slot, run, { job: run.job, outcome, why, ms });
  }

  private finish(slot: Slot, run: Running, result: CaseResult): void {
    for (const t of run.timers) clearTimeout(t);
    this.running.delete(slot);
    if (run.started) {
      result.call = run.started.call;
      result.mutations = run.started.mutations;
      result.seedName = run.started.seedName;
    }
    if (BAD_OUTCOMES.includes(result.outcome) && this.opts.findingsDir && run.job.type === 'case') {
      result.saved = this.save(slot, result);
    }
    // A side effect may have left files in the sentinel folder: clear it for the next input.
    for (const name of readdirSync(this.sentinel))
      rmSync(join(this.sentinel, name), { recursive: true, force: true });
    slot.busy = false;
    run.resolve(result);
    this.pump();
  }

  private save(slot: Slot, r: CaseResult): string | undefined {
    const caseDir = join(slot.dir, 'case');
    if (!existsSync(caseDir) || !this.opts.findingsDir) return undefined;
    const hash = contentHash(caseDir);
    const dest = join(this.opts.findingsDir, r.job.format, `${r.outcome}-${hash}`);
    if (existsSync(dest)) return dest;
    mkdirSync(dest, { recursive: true });
    cpSync(caseDir, join(dest, 'input'), { recursive: true });
    writeFileSync(join(dest, 'case.json'), `${JSON.stringify(caseJson(r), null, 2)}\n`);
    return dest;
  }
}

/** The `case.json` of a reproducer. */
export function caseJson(r: CaseResult): Record<string, unknown> {
  return {
    format: r.job.format,
    target: r.call?.target,
    ...(r.call?.options ? { options: r.call.options } : {}),
    outcome: r.outcome,
    ...(r.why ? { why: r.why } : {}),
    ...(r.error ? { error: `${r.error.name}: ${r.error.message}`.slice(0, 2000) } : {}),
    ...(r.sideEffects ? { sideEffects: r.sideEffects } : {}),
    ...(r.job.type === 'case' ? { seed: r.job.seed, index: r.job.index } : {}),
    seedName: r.seedName,
    mutations: r.mutations,
  };
}
