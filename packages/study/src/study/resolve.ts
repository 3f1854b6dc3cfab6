/**
 * Resolving a study: the base config, each variant's overrides (sweeps expanded), the dataset and its one shared
 * split, the evaluation sets, and one run per variant and seed with its content address:
 *
 *   run id = sha256 of (the resolved training config with its dataset paths left out, the seed in it,
 *            the content hashes of the training dataset, the shared split and every evaluation set)
 *
 * so a run is found again wherever the study folder lives, an edit of one variant changes only that variant's runs,
 * and a changed dataset or split changes every run.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { getPath, setPath } from '@iqa-bench/core/text';
import type { IqaDataset, SplitManifest } from '@iqa-bench/data';
import {
  ConfigError,
  configField,
  fromOriginalFlags,
  parseTrainConfig,
  readTrainConfigFile,
  trainConfigSchema,
  type TrainConfig,
  type TrainConfigInput,
} from '@iqa-bench/train/config';
import type { StudySweep } from '../report/input.js';
import type { StudyDatasetRef, StudyFile } from './file.js';
import { MAX_VARIANTS, readStudyFile, StudyError, suggest } from './file.js';

type Json = Record<string, unknown>;

/** A recipe: the base config of a study that names it, given the dataset folder. */
export type StudyRecipe = (ctx: { root: string }) => TrainConfigInput;

/** Recipes every study may name as `base`: the original scripts' settings. Callers add their own (`synthetic`). */
export const BUILTIN_RECIPES: Readonly<Record<string, StudyRecipe>> = {
  'original-smart': ({ root }) => fromOriginalFlags({}, { root, script: 'smart' }),
  'original-hyperiqa': ({ root }) => fromOriginalFlags({}, { root, script: 'hyperiqa' }),
};

/** Fields a variant may not override: they are the study's (seeds, the dataset and its shared split). */
const STUDY_OWNED = [
  'seed',
  'dataset.kind',
  'dataset.root',
  'dataset.load',
  'dataset.splitManifest',
  'dataset.shippedSplit',
  'dataset.split',
];

/** An evaluation set as a run uses it (absolute root). */
export interface EvalSetSpec {
  name: string;
  kind: StudyDatasetRef['kind'];
  root: string;
  load?: Record<string, string>;
}

/** One planned run: a variant at a seed. */
export interface RunSpec {
  runId: string;
  variant: string;
  seed: number;
  /** The variant's overrides by dotted path (a sweep's one value). */
  overrides: Record<string, unknown>;
  /** The resolved training config; `dataset.splitManifest` is the study's shared split (absolute paths). */
  config: TrainConfig;
  evalSets: EvalSetSpec[];
}

export interface ResolvedVariant {
  name: string;
  overrides: Record<string, unknown>;
  /** The sweep it comes from (`field`), when a list value expanded into it. */
  sweep?: { field: string; value: unknown };
}

export interface ResolvedStudy {
  name: string;
  /** The study file, when read from one. */
  file?: string;
  /** The study's output folder (absolute): `split.json` and `runs/<runId>/`. */
  outDir: string;
  baseline: string;
  chain?: string[];
  seeds: number[];
  sweeps: StudySweep[];
  variants: ResolvedVariant[];
  /** The shared split: where it is written and its manifest. */
  split: { file: string; manifest: SplitManifest };
  /** Content hashes: the training dataset and every evaluation set. */
  hashes: { dataset: string; eval: Record<string, string> };
  /** Every run, variants in file order, then seeds. */
  runs: RunSpec[];
}

export interface ResolveOptions {
  /** Recipes `base` may name, besides BUILTIN_RECIPES. */
  recipes?: Readonly<Record<string, StudyRecipe>>;
  /** Relative paths of an in-memory study resolve against this folder (default: the current folder). */
  baseDir?: string;
  /** The study's name when it has none (default: the file's stem). */
  name?: string;
  /** Names an in-memory study in errors (default `study`). */
  label?: string;
}

/** Canonical JSON: keys sorted, so equal values hash equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Json;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

// --- the config schema, walked -------------------------------------------------------------------------------------

interface Def {
  type: string;
  innerType?: unknown;
  in?: unknown;
  shape?: Record<string, unknown>;
  options?: unknown[];
}
const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;

function unwrap(s: unknown): unknown {
  for (;;) {
    const d = defOf(s);
    if (['default', 'prefault', 'optional', 'nullable'].includes(d.type) && d.innerType !== undefined)
      s = d.innerType;
    else if (d.type === 'pipe' && d.in !== undefined) s = d.in;
    else return s;
  }
}

/** The field names under a schema node (an object's, or every option's of a union); undefined for a leaf. */
function fieldsOf(s: unknown): Map<string, unknown> | undefined {
  const d = defOf(unwrap(s));
  if (d.type === 'object' && d.shape) return new Map(Object.entries(d.shape));
  if (d.type === 'union' && d.options) {
    const out = new Map<string, unknown>();
    for (const o of d.options) for (const [k, v] of fieldsOf(o) ?? []) if (!out.has(k)) out.set(k, v);
    return out.size > 0 ? out : undefined;
  }
  return undefined;
}

/** Why `path` is not a field of the training config, with the closest known name; undefined when it is one. */
export function unknownConfigPath(path: string): string | undefined {
  let node: unknown = trainConfigSchema;
  const keys = path.split('.');
  for (const [i, key] of keys.entries()) {
    const fields = fieldsOf(node);
    const at = keys.slice(0, i).join('.');
    if (fields === undefined) return `'${at}' is a value, it has no field '${key}'`;
    const next = fields.get(key);
    if (next === undefined) {
      const known = [...fields.keys()];
      const s = suggest(key, known);
      const full = (k: string) => (at === '' ? k : `${at}.${k}`);
      return `the training config has no field '${path}'${s !== undefined ? ` (did you mean '${full(s)}'?)` : ''}; ${at === '' ? 'its sections' : `'${at}' has`}: ${known.join(', ')}`;
    }
    node = next;
  }
  return undefined;
}

/** Whether the field at `path` holds one scalar value (so a list value sweeps it). */
function isScalarField(path: string): boolean {
  try {
    configField(path);
    return true;
  } catch {
    return false;
  }
}

/** Applies overrides to a copy of `base`; a new value of a section's discriminator (`schedule.kind`) starts it over. */
export function applyOverrides(base: Json, overrides: Record<string, unknown>): Json {
  const input = structuredClone(base);
  for (const [path, value] of Object.entries(overrides)) {
    const discriminator = isScalarField(path) && configField(path).discriminator === true;
    if (discriminator && getPath(input, path) !== value) {
      const keys = path.split('.');
      setPath(input, keys.slice(0, -1).join('.'), { [keys[keys.length - 1]]: value });
    } else setPath(input, path, value);
  }
  return input;
}

function formatValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Expands the variants of the file: a list value of a scalar field becomes one variant per value. */
function expandVariants(
  study: StudyFile,
  label: string,
): { variants: ResolvedVariant[]; sweeps: StudySweep[] } {
  const problems: string[] = [];
  const variants: ResolvedVariant[] = [];
  const sweeps: StudySweep[] = [];
  for (const [name, overrides] of Object.entries(study.variants)) {
    let sweep: { field: string; values: unknown[] } | undefined;
    for (const [path, value] of Object.entries(overrides)) {
      const where = `${label}: variants.${name}.${path}`;
      const unknown = unknownConfigPath(path);
      if (unknown !== undefined) {
        problems.push(`${where}: ${unknown}`);
        continue;
      }
      const owned = STUDY_OWNED.find((p) => path === p || path.startsWith(`${p}.`));
      if (owned !== undefined) {
        problems.push(
          `${where}: '${owned}' is set by the study (${owned === 'seed' ? 'seeds' : 'dataset and split'}), not by a variant`,
        );
        continue;
      }
      if (Array.isArray(value) && isScalarField(path)) {
        if (sweep !== undefined) {
          problems.push(
            `${where}: a variant sweeps one field; '${sweep.field}' is swept already (make two variants)`,
          );
          continue;
        }
        if (value.length === 0) problems.push(`${where}: an empty list sweeps nothing`);
        sweep = { field: path, values: value };
      }
    }
    if (sweep === undefined) {
      variants.push({ name, overrides });
      continue;
    }
    const field = sweep.field.split('.').at(-1);
    const expanded = sweep.values.map((value) => ({
      name: `${name}-${field}=${formatValue(value)}`,
      overrides: { ...overrides, [sweep.field]: value },
      sweep: { field: sweep.field, value },
    }));
    variants.push(...expanded);
    if (sweep.values.every((v) => typeof v === 'number')) {
      sweeps.push({
        field: sweep.field,
        variants: expanded.map((v) => ({ name: v.name, value: v.sweep.value as number })),
      });
    }
  }
  const names = new Set<string>();
  for (const v of variants) {
    if (names.has(v.name)) problems.push(`${label}: variants: two variants are named '${v.name}'`);
    names.add(v.name);
  }
  if (variants.length > MAX_VARIANTS) {
    problems.push(
      `${label}: variants: ${variants.length} after expanding sweeps, expected at most ${MAX_VARIANTS}`,
    );
  }
  if (problems.length > 0) throw new StudyError(`invalid study:\n  ${problems.join('\n  ')}`, problems);
  return { variants, sweeps };
}

// --- datasets ------------------------------------------------------------------------------------------------------

async function loadDatasetOf(
  kind: string,
  root: string,
  load: Record<string, string> | undefined,
): Promise<IqaDataset> {
  const { loadDataset } = await import('@iqa-bench/data');
  return loadDataset(kind as IqaDataset['key'], root, load ?? {});
}

/**
 * The content hash of a dataset as a run depends on it: its key, and every image's id, score, reference and file
 * size (file contents are not read: a hundred thousand images would take minutes at every plan).
 */
export async function datasetHash(ds: IqaDataset): Promise<string> {
  const rows: unknown[] = [];
  for (const im of ds.images) {
    rows.push([im.id, im.score, im.refId ?? null, (await stat(im.path)).size]);
  }
  return sha256(canonicalJson({ key: ds.key, layout: ds.layout, scale: ds.scale, images: rows }));
}

async function sharedSplit(
  study: StudyFile,
  ds: IqaDataset,
  baseDir: string,
  label: string,
): Promise<SplitManifest> {
  const data = await import('@iqa-bench/data');
  const spec = study.split;
  if ('manifest' in spec) {
    const manifest = await data.readSplitManifest(resolve(baseDir, spec.manifest), ds);
    if (!manifest.parts.val || !manifest.parts.test) {
      throw new StudyError(`${label}: split.manifest: expected train, val and test parts`, [
        `${label}: split.manifest: expected train, val and test parts, got ${Object.keys(manifest.parts).join(', ')}`,
      ]);
    }
    return manifest;
  }
  if (spec.train + spec.val >= 1) {
    const why = `${label}: split: train + val must be < 1 to leave a test part (got ${spec.train} + ${spec.val})`;
    throw new StudyError(why, [why]);
  }
  const base = data.randomSplit(ds, {
    seed: spec.seed,
    round: 0,
    ratios: { train: spec.train + spec.val, test: 1 - spec.train - spec.val },
  });
  const split = data.withValidation(base, ds, {
    selection: 'validation',
    fraction: spec.val / (spec.train + spec.val),
    seed: spec.seed,
  });
  return data.splitManifest(split);
}

// --- the study -----------------------------------------------------------------------------------------------------

function baseInput(
  study: StudyFile,
  baseDir: string,
  recipes: Readonly<Record<string, StudyRecipe>>,
  label: string,
): Json {
  if (typeof study.base !== 'string') return structuredClone(study.base);
  const recipe = recipes[study.base];
  if (recipe !== undefined) {
    if (study.dataset === undefined) {
      const why = `${label}: base: the recipe '${study.base}' needs the study's dataset (dataset: { kind, root })`;
      throw new StudyError(why, [why]);
    }
    return structuredClone(recipe({ root: resolve(baseDir, study.dataset.root) })) as Json;
  }
  const file = resolve(baseDir, study.base);
  if (!existsSync(file) || !['.json', '.yaml', '.yml'].includes(extname(file).toLowerCase())) {
    const names = Object.keys(recipes);
    const s = suggest(study.base, names);
    const why = `${label}: base: '${study.base}' is neither a config file (.json, .yaml, .yml) nor a recipe${s !== undefined ? ` (did you mean '${s}'?)` : ''}; recipes: ${names.join(', ')}`;
    throw new StudyError(why, [why]);
  }
  try {
    return readTrainConfigFile(file, study.base);
  } catch (err) {
    if (err instanceof ConfigError) throw new StudyError(`${label}: base: ${err.message}`, err.problems);
    throw err;
  }
}

/** Where the shared split of a study folder is written. */
export const SPLIT_FILE = 'split.json';
/** The folder of a study's run folders. */
export const RUNS_DIR = 'runs';

/**
 * Resolves a study (a file path, or the parsed file with `baseDir`) against its output folder: variants, configs,
 * the shared split, content hashes and run ids. Reads the datasets; writes nothing. Throws StudyError naming every
 * problem (unknown override paths, invalid configs, two variants resolving to the same config).
 */
export async function resolveStudy(
  study: string | StudyFile,
  outDir: string,
  options: ResolveOptions = {},
): Promise<ResolvedStudy> {
  const file = typeof study === 'string' ? resolve(study) : undefined;
  const label = typeof study === 'string' ? study : (options.label ?? 'study');
  const parsed = typeof study === 'string' ? readStudyFile(study) : study;
  const baseDir = file !== undefined ? dirname(file) : resolve(options.baseDir ?? '.');
  const recipes = { ...BUILTIN_RECIPES, ...options.recipes };
  const out = resolve(outDir);
  const name =
    parsed.name ??
    options.name ??
    (file !== undefined ? basename(file).replace(/\.(json|ya?ml)$/i, '') : 'study');

  const base = baseInput(parsed, baseDir, recipes, label);
  if (parsed.dataset !== undefined) {
    setPath(base, 'dataset.kind', parsed.dataset.kind);
    setPath(base, 'dataset.root', resolve(baseDir, parsed.dataset.root));
    if (parsed.dataset.load !== undefined) setPath(base, 'dataset.load', parsed.dataset.load);
  } else if (typeof getPath(base, 'dataset.root') === 'string') {
    const root = getPath(base, 'dataset.root') as string;
    if (!isAbsolute(root)) setPath(base, 'dataset.root', resolve(baseDir, root));
  }
  const kind = getPath(base, 'dataset.kind');
  const root = getPath(base, 'dataset.root');
  if (typeof kind !== 'string' || typeof root !== 'string') {
    const why = `${label}: no dataset: give dataset: { kind, root } in the study or dataset.kind / dataset.root in the base config`;
    throw new StudyError(why, [why]);
  }
  const splitFile = join(out, SPLIT_FILE);
  setPath(base, 'dataset.splitManifest', splitFile);
  setPath(base, 'dataset.shippedSplit', null);

  const { variants, sweeps } = expandVariants(parsed, label);
  const names = variants.map((v) => v.name);
  const problems: string[] = [];
  const known = (what: string, n: string) => {
    if (names.includes(n)) return;
    const s = suggest(n, names);
    problems.push(
      `${label}: ${what}: no variant '${n}'${s !== undefined ? ` (did you mean '${s}'?)` : ''}; the variants are ${names.join(', ')}`,
    );
  };
  if (parsed.baseline !== undefined) known('baseline', parsed.baseline);
  parsed.chain?.forEach((c, i) => known(`chain[${i}]`, c));

  // Each variant's config (seed aside), checked by the training schema, and compared with the others.
  // Two variants are the same when their configs are equal with the model as built (preset plus overrides), so that
  // `model.fusion: attention` over a preset whose fusion is attention is seen as the base itself.
  const { modelConfigOf } = await import('@iqa-bench/train');
  const { validateModelConfig } = await import('@iqa-bench/model');
  const configs = new Map<string, TrainConfig>();
  const byHash = new Map<string, string>();
  for (const v of variants) {
    let config: TrainConfig;
    let effective: unknown;
    try {
      config = parseTrainConfig(applyOverrides(base, v.overrides), `variant ${v.name}`);
      const built = modelConfigOf(config);
      // The model's own checks (window sizes against feature maps, head sizes), at plan time rather than mid-study.
      try {
        validateModelConfig(built);
      } catch (err) {
        problems.push(`${label}: variant '${v.name}': ${(err as Error).message}`);
        continue;
      }
      effective = { ...config, seed: 0, model: { initWeights: config.model.initWeights, built } };
    } catch (err) {
      if (err instanceof ConfigError) {
        problems.push(...err.problems.map((p) => `${label}: variant '${v.name}': ${p}`));
        continue;
      }
      throw err;
    }
    configs.set(v.name, config);
    const h = sha256(canonicalJson(effective));
    const same = byHash.get(h);
    if (same !== undefined) {
      problems.push(
        `${label}: variants '${same}' and '${v.name}' resolve to the same training config; remove one or make them differ`,
      );
    } else byHash.set(h, v.name);
  }
  if (problems.length > 0) throw new StudyError(`invalid study:\n  ${problems.join('\n  ')}`, problems);

  const ds = await loadDatasetOf(
    kind,
    root,
    getPath(base, 'dataset.load') as Record<string, string> | undefined,
  );
  const manifest = await sharedSplit(parsed, ds, baseDir, label);
  const evalSets: EvalSetSpec[] = parsed.eval.map((e) => ({
    name: e.name,
    kind: e.kind,
    root: resolve(baseDir, e.root),
    ...(e.load !== undefined ? { load: e.load } : {}),
  }));
  const hashes = { dataset: await datasetHash(ds), eval: {} as Record<string, string> };
  for (const e of evalSets)
    hashes.eval[e.name] = await datasetHash(await loadDatasetOf(e.kind, e.root, e.load));

  const runs: RunSpec[] = [];
  for (const v of variants) {
    for (const seed of parsed.seeds) {
      const config: TrainConfig = { ...configs.get(v.name)!, seed };
      const addressed = {
        format: 'iqa-bench/study-run@1',
        config: { ...config, dataset: { ...config.dataset, root: null, splitManifest: null } },
        dataset: hashes.dataset,
        split: manifest.hash,
        eval: evalSets.map((e) => ({ name: e.name, kind: e.kind, hash: hashes.eval[e.name] })),
      };
      runs.push({
        runId: `r-${sha256(canonicalJson(addressed)).slice(0, 20)}`,
        variant: v.name,
        seed,
        overrides: v.overrides,
        config,
        evalSets,
      });
    }
  }
  return {
    name,
    ...(file !== undefined ? { file } : {}),
    outDir: out,
    baseline: parsed.baseline ?? names[0],
    ...(parsed.chain !== undefined ? { chain: parsed.chain } : {}),
    seeds: parsed.seeds,
    sweeps,
    variants,
    split: { file: splitFile, manifest },
    hashes,
    runs,
  };
}

/** A run's folder in a study folder. */
export function runDirOf(outDir: string, runId: string): string {
  return join(outDir, RUNS_DIR, runId);
}
