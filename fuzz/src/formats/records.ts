/**
 * JSON records the tools write and read back: split manifests (@iqa-bench/data readSplitManifest), result files
 * (@iqa-bench/cli readResult) and training run folders (metrics.jsonl through @iqa-bench/train/run-folder readMetricsLog, summary.json
 * through readResult).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Cli from '@iqa-bench/cli';
import type * as Data from '@iqa-bench/data';
import type * as RunFolder from '@iqa-bench/train/run-folder';
import { mutateBytes } from '../mutate/bytes.js';
import { damageJsonText, jsonText, mutateValue } from '../mutate/json.js';
import { repoPath } from '../paths.js';
import type { Rng } from '../rng.js';
import type { FormatSpec, FuzzCase, JsonValue, Seed } from '../types.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A JSON document mutated by value (mostly) or as text. */
function mutateJsonBytes(
  bytes: Uint8Array,
  rng: Rng,
  others: readonly Uint8Array[],
  fix?: (v: JsonValue) => JsonValue,
): { bytes: Uint8Array; notes: string[] } {
  if (rng.chance(0.15)) {
    const m = mutateBytes(bytes, rng, others);
    return { bytes: m.bytes, notes: [m.note] };
  }
  const m = mutateValue(JSON.parse(dec.decode(bytes)) as JsonValue, rng);
  let value = m.value;
  if (fix && rng.chance(0.7)) {
    value = fix(value);
    m.notes.push('hash recomputed');
  }
  let text = jsonText(value, rng);
  if (rng.chance(0.1)) {
    const d = damageJsonText(text, rng);
    text = d.text;
    m.notes.push(d.note);
  }
  return { bytes: enc.encode(text), notes: m.notes };
}

// ---------------------------------------------------------------------------------------------------------------------
// Split manifests

let data: typeof Data;
/** The dataset some manifests are checked against (loaded once per child). */
let koniq: Data.IqaDataset | undefined;

/**
 * The content hash readSplitManifest checks: sha256 of the canonical JSON (keys sorted) of every field but `hash`.
 * Recomputed after a mutation so that most mutated manifests get past the hash check to the field checks; the test
 * suite checks that this agrees with the manifests @iqa-bench/data writes.
 */
export function manifestHash(m: { [k: string]: JsonValue }): string {
  const canonical = (v: JsonValue): string => {
    if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
    if (v !== null && typeof v === 'object')
      return `{${Object.keys(v)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
        .join(',')}}`;
    return JSON.stringify(v);
  };
  const body = Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'hash'));
  return `sha256:${createHash('sha256').update(canonical(body)).digest('hex')}`;
}

function rehash(v: JsonValue): JsonValue {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  return { ...v, hash: manifestHash(v) };
}

const DATA = 'packages/data/fixtures/datasets';

export const splitManifestFormat: FormatSpec = {
  name: 'split-manifest',
  description: 'split manifests: @iqa-bench/data readSplitManifest (alone and against a loaded dataset)',
  cleanErrors: ['DatasetError', 'FileError', 'TextFileError'],
  async prepare() {
    data = await import('@iqa-bench/data');
    koniq ??= await data.loadDataset('koniq10k', repoPath(DATA, 'koniq10k'));
  },
  async seeds(): Promise<Seed[]> {
    const d = await import('@iqa-bench/data');
    const kon = await d.loadDataset('koniq10k', repoPath(DATA, 'koniq10k'));
    const kadid = await d.loadDataset('kadid10k', repoPath(DATA, 'kadid10k'));
    const manifests: [string, Data.SplitManifest, boolean][] = [
      ['koniq-official', d.splitManifest(d.shippedSplit(kon, 'official')), true],
      ['koniq-random', d.splitManifest(d.randomSplit(kon, { seed: 7, round: 0, minPartImages: 1 })), true],
      [
        'koniq-val',
        d.splitManifest(
          d.withValidation(d.randomSplit(kon, { seed: 3, round: 1, minPartImages: 1 }), kon, {
            selection: 'test',
            minPartImages: 1,
          }),
        ),
        true,
      ],
      [
        'kadid-by-reference',
        d.splitManifest(d.randomSplit(kadid, { seed: 1, round: 2, ratios: { train: 0.5, test: 0.5 } })),
        false,
      ],
    ];
    return manifests.map(([name, m, against]) => ({
      name,
      files: new Map([['split.json', enc.encode(`${JSON.stringify(m, null, 1)}\n`)]]),
      target: 'split.json',
      ...(against ? { options: { against: 'koniq10k' } } : {}),
    }));
  },
  mutate(seed, rng, corpus): FuzzCase {
    const m = mutateJsonBytes(
      seed.files.get('split.json') as Uint8Array,
      rng,
      corpus.map((s) => s.files.get('split.json') as Uint8Array),
      rehash,
    );
    return { ...seed, files: new Map([['split.json', m.bytes]]), mutations: m.notes };
  },
  async run(caseDir, call) {
    const m = await data.readSplitManifest(
      join(caseDir, call.target),
      call.options?.against ? koniq : undefined,
    );
    return `${m.dataset} ${m.method}: ${Object.entries(m.counts ?? {})
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`;
  },
};

// ---------------------------------------------------------------------------------------------------------------------
// Result files

let cli: typeof Cli;
let runFolder: typeof RunFolder;

const CLI_FIXTURES = 'test/fixtures/cli';

function fixtureFile(rel: string, as: string): Seed {
  return {
    name: rel,
    files: new Map([[as, new Uint8Array(readFileSync(repoPath(CLI_FIXTURES, rel)))]]),
    target: as,
  };
}

export const resultFormat: FormatSpec = {
  name: 'result',
  description:
    'result files (iqa-bench/result@1, train summaries, the original cross-dataset JSON): @iqa-bench/cli readResult',
  cleanErrors: ['ResultFormatError', 'RunFolderError', 'CliError', 'FileError', 'TextFileError'],
  async prepare() {
    cli = await import('@iqa-bench/cli');
  },
  async seeds() {
    return [
      'check/baseline.json',
      'check/baseline-train.json',
      'check/original-cross-dataset.json',
      'check/result-ok.json',
      'check/result-regressed.json',
      'run/summary.json',
    ].map((f) => fixtureFile(f, 'result.json'));
  },
  mutate(seed, rng, corpus): FuzzCase {
    const m = mutateJsonBytes(
      seed.files.get('result.json') as Uint8Array,
      rng,
      corpus.map((s) => s.files.get('result.json') as Uint8Array),
    );
    return { ...seed, files: new Map([['result.json', m.bytes]]), mutations: m.notes };
  },
  async run(caseDir, call) {
    const r = await cli.readResult(join(caseDir, call.target));
    return `${r.format}: ${r.datasets.length} dataset(s)`;
  },
};

// ---------------------------------------------------------------------------------------------------------------------
// Training run folders

/** JSON lines: one line's record mutated, a torn or doubled line, a long log. */
function mutateJsonl(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; notes: string[] } {
  const lines = dec.decode(bytes).split('\n');
  const full = lines.filter((l) => l.trim() !== '');
  const i = rng.int(Math.max(1, full.length));
  const notes: string[] = [];
  switch (rng.int(5)) {
    case 0:
    case 1: {
      const m = mutateValue(JSON.parse(full[i] ?? '{}') as JsonValue, rng);
      full[i] = jsonText(m.value, rng).replace(/\n/g, rng.chance(0.8) ? '' : '\n');
      notes.push(`line ${i + 1}: ${m.notes.join(', ')}`);
      break;
    }
    case 2:
      full[i] = (full[i] ?? '').slice(0, rng.int((full[i] ?? '').length));
      notes.push(`line ${i + 1} torn`);
      break;
    case 3: {
      const n = rng.pick([1000, 100_000]);
      full.push(
        ...Array<string>(Math.min(n, Math.floor(8e6 / ((full[i] ?? '').length + 1)))).fill(full[i] ?? '{}'),
      );
      notes.push(`line ${i + 1} repeated`);
      break;
    }
    default:
      full.splice(
        i,
        0,
        rng.pick([
          '',
          '[]',
          'null',
          '1',
          '"x"',
          '{"kind":"epoch"}',
          '{"kind":"epoch","round":1e400,"epoch":-1}',
          '\u0000',
        ]),
      );
      notes.push(`odd line before ${i + 1}`);
  }
  const text = full.join('\n') + (rng.chance(0.8) ? '\n' : '');
  return { bytes: enc.encode(text), notes };
}

export const runFolderFormat: FormatSpec = {
  name: 'run-folder',
  description:
    'training run folders: metrics.jsonl (@iqa-bench/train/run-folder readMetricsLog) and summary.json (@iqa-bench/cli readResult)',
  cleanErrors: ['RunFolderError', 'ResultFormatError', 'CliError', 'FileError', 'TextFileError'],
  async prepare() {
    cli = await import('@iqa-bench/cli');
    runFolder = await import('@iqa-bench/train/run-folder');
  },
  async seeds() {
    const files = new Map(
      ['metrics.jsonl', 'summary.json'].map((f) => [
        f,
        new Uint8Array(readFileSync(repoPath(CLI_FIXTURES, 'run', f))),
      ]),
    );
    return [{ name: 'run', files, target: '.' }];
  },
  mutate(seed, rng, corpus): FuzzCase {
    const files = new Map(seed.files);
    const jsonl = rng.chance(0.6);
    const m = jsonl
      ? mutateJsonl(files.get('metrics.jsonl') as Uint8Array, rng)
      : mutateJsonBytes(
          files.get('summary.json') as Uint8Array,
          rng,
          corpus.map((s) => s.files.get('summary.json') as Uint8Array),
        );
    files.set(jsonl ? 'metrics.jsonl' : 'summary.json', m.bytes);
    return { ...seed, files, mutations: m.notes };
  },
  async run(caseDir) {
    const { records, tornLastLine } = await runFolder.readMetricsLog(join(caseDir, 'metrics.jsonl'));
    const r = await cli.readResult(join(caseDir, 'summary.json'));
    return `${records.length} records${tornLastLine ? ' (torn last line)' : ''}, ${r.datasets.length} dataset(s)`;
  },
};
