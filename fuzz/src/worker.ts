/**
 * A fuzzing child process (forked by pool.ts). It handles inputs one at a time: builds the input (or copies a
 * reproducer), writes it to its case folder, tells the parent (so that the parent can keep the input if the child
 * hangs or dies), runs the format's public reader with the sandbox armed, checks for side effects and reports the
 * outcome. Its HOME, TMPDIR and cwd are empty folders of its own; they, the shared sentinel folder and the case
 * folder are compared before and after every input.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { classifyError, errorInfo, type ErrorInfo } from './classify.js';
import { FORMATS } from './formats/index.js';
import { Rng } from './rng.js';
import { arm, disarm, installSandbox } from './sandbox.js';
import type { CaseCall, FormatSpec, OutcomeClass, Seed } from './types.js';
import { repoPath } from './paths.js';

/** Parent -> child. */
export type ToWorker =
  | { type: 'case'; id: number; format: string; seed: string; index: number }
  | { type: 'replay'; id: number; format: string; dir: string };

/** Child -> parent. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'started'; id: number; call: CaseCall; mutations: string[]; seedName: string }
  | {
      type: 'done';
      id: number;
      outcome: OutcomeClass;
      summary?: string;
      error?: ErrorInfo;
      why?: string;
      sideEffects?: string[];
      ms: number;
    };

const workDir = process.env.FUZZ_WORKDIR;
const sentinel = process.env.FUZZ_SENTINEL;
if (!workDir || !sentinel || !process.send) {
  throw new Error('fuzz worker: start it through pool.ts (FUZZ_WORKDIR, FUZZ_SENTINEL and an IPC channel)');
}
const caseDir = join(workDir, 'case');
const quiet = [join(workDir, 'home'), join(workDir, 'tmp'), join(workDir, 'cwd')];

function send(msg: FromWorker): void {
  process.send?.(msg);
}

/** Removes everything inside `dir` (the folder itself stays: it may be the process's cwd). */
function emptyDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
}

/** path -> "size:mtime" of every file and folder below `dir`. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      const st = statSync(p, { throwIfNoEntry: false });
      out.set(r, st ? `${e.isDirectory() ? 'dir' : st.size}:${st.mtimeMs}` : 'gone');
      if (e.isDirectory()) walk(p, r);
    }
  };
  walk(dir, '');
  return out;
}

function changes(before: Map<string, string>, after: Map<string, string>, label: string): string[] {
  const out: string[] = [];
  for (const [p, v] of after) {
    const b = before.get(p);
    if (b === undefined) out.push(`${label}: created ${p}`);
    else if (b !== v) out.push(`${label}: changed ${p}`);
  }
  for (const p of before.keys()) if (!after.has(p)) out.push(`${label}: removed ${p}`);
  return out;
}

/** Generated inputs stay below this size (bombs are made of declared sizes and compression, not of bytes). */
const MAX_CASE_BYTES = 96 * 2 ** 20;

const prepared = new Set<string>();
const corpora = new Map<string, Seed[]>();

async function corpusOf(spec: FormatSpec): Promise<Seed[]> {
  let seeds = corpora.get(spec.name);
  if (!seeds) {
    seeds = await spec.seeds();
    if (seeds.length === 0) throw new Error(`fuzz: format ${spec.name} has no seeds`);
    corpora.set(spec.name, seeds);
  }
  return seeds;
}

function writeCase(files: Map<string, Uint8Array>, template: string | undefined): void {
  emptyDir(caseDir);
  if (template !== undefined) cpSync(repoPath(template), caseDir, { recursive: true });
  for (const [rel, bytes] of files) {
    const p = join(caseDir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, bytes);
  }
}

let pendingRejection: unknown = undefined;
process.on('unhandledRejection', (reason) => {
  pendingRejection ??= reason;
});

async function handle(msg: ToWorker): Promise<void> {
  const spec = FORMATS.get(msg.format);
  if (!spec) throw new Error(`fuzz worker: unknown format ${msg.format}`);
  if (!prepared.has(spec.name)) {
    await spec.prepare();
    prepared.add(spec.name);
  }
  let call: CaseCall;
  let mutations: string[];
  let seedName: string;
  if (msg.type === 'case') {
    const corpus = await corpusOf(spec);
    const rng = new Rng('fuzz', msg.seed, spec.name, msg.index);
    const seed = rng.pick(corpus);
    // Input 0 of every run is a seed as it is: a control that the corpus itself parses (and that a short run
    // exercises the readers' success path, not only their refusals).
    const c =
      msg.index === 0
        ? { ...seed, mutations: ['none (control input)'] }
        : await spec.mutate(seed, rng, corpus);
    const bytes = [...c.files.values()].reduce((s, b) => s + b.length, 0);
    if (bytes > MAX_CASE_BYTES)
      throw new Error(`fuzz: ${spec.name} input ${msg.index} is ${bytes} bytes (mutator bug)`);
    writeCase(c.files, c.template);
    call = { target: c.target, ...(c.options ? { options: c.options } : {}) };
    mutations = c.mutations;
    seedName = c.name;
  } else {
    const meta = JSON.parse(readFileSync(join(msg.dir, 'case.json'), 'utf8')) as CaseCall & {
      mutations?: string[];
    };
    emptyDir(caseDir);
    cpSync(join(msg.dir, 'input'), caseDir, { recursive: true });
    call = { target: meta.target, ...(meta.options ? { options: meta.options } : {}) };
    mutations = meta.mutations ?? [];
    seedName = msg.dir;
  }
  for (const d of quiet) emptyDir(d);
  const before = snapshot(caseDir);
  send({ type: 'started', id: msg.id, call, mutations, seedName });
  const t0 = performance.now();
  let summary: string | undefined;
  let error: ErrorInfo | undefined;
  pendingRejection = undefined;
  arm();
  try {
    summary = await spec.run(caseDir, call);
  } catch (err) {
    error = errorInfo(err);
  }
  // Let stray callbacks of the reader run (a rejection nobody awaited, a late write) while still armed.
  await new Promise((r) => setImmediate(r));
  const hooked = disarm();
  const ms = performance.now() - t0;
  const sideEffects = [...hooked, ...changes(before, snapshot(caseDir), 'case folder')];
  for (const d of [...quiet, sentinel as string]) {
    for (const name of readdirSync(d)) sideEffects.push(`${d}: created ${name}`);
  }
  let outcome: OutcomeClass;
  let why: string | undefined;
  if (sideEffects.length > 0) outcome = 'side-effect';
  else if (pendingRejection !== undefined) {
    outcome = 'raw';
    error = errorInfo(pendingRejection);
    why = 'unhandled promise rejection';
  } else if (error) {
    const c = classifyError(error, spec.cleanErrors, caseDir);
    outcome = c.outcome;
    why = c.why || undefined;
  } else outcome = 'parsed';
  send({ type: 'done', id: msg.id, outcome, summary, error, why, sideEffects, ms });
}

installSandbox(workDir);
let queue: Promise<void> = Promise.resolve();
process.on('message', (msg: ToWorker) => {
  queue = queue
    .then(() => handle(msg))
    .catch((err: unknown) => {
      // A failure of the harness itself (not of the reader): report it loudly and stop.
      process.stderr.write(
        `fuzz worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(70);
    });
});
process.chdir(quiet[2]);
send({ type: 'ready' });
