/**
 * Splits: the ones datasets ship, seeded random ones (reference-disjoint for reference-based datasets), a
 * validation part carved from training, and the split manifest that names the exact split a result used.
 *
 * Determinism: units (image ids, or reference ids) are sorted by code unit before a seedrandom Fisher–Yates
 * shuffle, so a split depends only on the ids, the seed and the round, never on directory listing order or the
 * machine.
 */
import { createHash } from 'node:crypto';
import { seededRandom, shuffleInPlace } from '@iqa-bench/core/seed';
import { compareIds } from './adapters/common.js';
import { DatasetError } from './errors.js';
import { writeFileAtomic } from '@iqa-bench/core/fs';
import { readStructuredFile } from '@iqa-bench/core/fs';
import { TextFileError } from '@iqa-bench/core/text';
import { DATASET_KEYS, type DatasetKey, type IqaDataset } from './types.js';

/** How the model is selected: on a validation part carved from training (honest) or on the test part (the original). */
export type Selection = 'validation' | 'test';

/** A concrete split: part name (`train`, `val`, `test`) → sorted image ids. */
export interface Split {
  dataset: DatasetKey;
  /** `random`, `random-by-reference`, or the name of a shipped split (`official`, `seed-json`). */
  method: string;
  seed: string | null;
  round: number | null;
  /** Ratios the parts were drawn with (null for shipped splits). */
  ratios: Record<string, number> | null;
  /**
   * `validation` (default): any `val` part is disjoint from `test`; `test`: `val` is a copy of `test` (the original's
   * model selection on the test set, see {@link withValidation}).
   */
  selection: Selection;
  parts: Record<string, string[]>;
  /**
   * Parts whose share of the images is far from the ratio asked for, because whole reference groups (or whole images)
   * go to one part; absent when every part is close. Not part of the manifest.
   */
  warnings?: string[];
}

export interface RandomSplitOptions {
  seed: string | number;
  /** Part ratios summing to 1 (default `{ train: 0.8, test: 0.2 }`). */
  ratios?: Record<string, number>;
  /** Round index (default 0); each round is an independent draw. */
  round?: number;
  /** Split by reference content (default: true for reference-based datasets). */
  byReference?: boolean;
  /** Fewest images a part with a non-zero ratio may get (default {@link MIN_PART_IMAGES}). */
  minPartImages?: number;
}

/** The fewest images a drawn part may get by default: a correlation needs two. */
export const MIN_PART_IMAGES = 2;

function checkRatios(ratios: Record<string, number>): [string, number][] {
  const entries = Object.entries(ratios);
  const sum = entries.reduce((s, [, r]) => s + r, 0);
  if (entries.length === 0 || entries.some(([, r]) => !(r >= 0)) || Math.abs(sum - 1) > 1e-9) {
    throw new DatasetError({
      code: 'bad-option',
      file: '(split options)',
      field: 'ratios',
      message: `ratios ${JSON.stringify(ratios)} sum to ${sum}`,
      expected: 'non-negative ratios that sum to 1, e.g. {"train": 0.8, "test": 0.2}',
    });
  }
  return entries;
}

/** Cuts a shuffled list by cumulative rounded ratios (the last part takes the rest). */
function cut<T>(units: T[], entries: [string, number][]): Record<string, T[]> {
  const out: Record<string, T[]> = {};
  let cum = 0;
  let start = 0;
  entries.forEach(([name, r], i) => {
    cum += r;
    const end = i === entries.length - 1 ? units.length : Math.round(cum * units.length);
    out[name] = units.slice(start, end);
    start = end;
  });
  return out;
}

function unitOf(dataset: IqaDataset, byRef: boolean): (im: IqaDataset['images'][number]) => string {
  if (!byRef) return (im) => im.id;
  return (im) => {
    if (im.refId === undefined) {
      throw new DatasetError({
        code: 'bad-option',
        file: im.source.file,
        row: im.source.row,
        message: `image ${JSON.stringify(im.id)} has no reference id`,
        expected: 'reference ids on every image for a reference-disjoint split',
      });
    }
    return im.refId;
  };
}

/** Groups image ids by unit, then assigns whole units to parts. */
function assign(
  dataset: IqaDataset,
  byRef: boolean,
  unitParts: Record<string, string[]>,
): Record<string, string[]> {
  const partOf = new Map<string, string>();
  for (const [p, units] of Object.entries(unitParts)) for (const u of units) partOf.set(u, p);
  const unit = unitOf(dataset, byRef);
  const parts: Record<string, string[]> = Object.fromEntries(
    Object.keys(unitParts).map((k) => [k, [] as string[]]),
  );
  for (const im of dataset.images) {
    const p = partOf.get(unit(im));
    if (p !== undefined) parts[p].push(im.id);
  }
  for (const k of Object.keys(parts)) parts[k].sort(compareIds);
  return parts;
}

const pct = (x: number): string => `${(100 * x).toFixed(1).replace(/\.0$/, '')} %`;
const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * Refuses a part that got fewer than `min` images, saying what every part got and why; returns a warning when a part's
 * share of the images is further from the share asked for than min(5 points, a quarter of it). `of` names what the
 * shares are of (`''`: the dataset; `' of the training part'` when carving `val`).
 */
function checkParts(
  dataset: IqaDataset,
  byRef: boolean,
  parts: Record<string, string[]>,
  asked: [string, number][],
  min: number,
  of: string,
): string[] {
  const unit = unitOf(dataset, byRef);
  const byId = new Map(dataset.images.map((im) => [im.id, im]));
  const sizes = asked.map(([name, share]) => {
    const ids = parts[name] ?? [];
    const groups = new Set<string>();
    for (const id of ids) {
      const im = byId.get(id);
      if (im !== undefined) groups.add(unit(im));
    }
    return { name, share, images: ids.length, groups: groups.size };
  });
  const base = sizes.reduce((n, s) => n + s.images, 0);
  const groups = sizes.reduce((n, s) => n + s.groups, 0);
  const got = (s: { images: number; groups: number }): string =>
    byRef ? `${count(s.images, 'image')} in ${count(s.groups, 'reference group')}` : count(s.images, 'image');
  const askedText = `${sizes.map((s) => `${s.name} ${pct(s.share)}`).join(' / ')}${of}`;
  for (const s of sizes) {
    if (s.share > 0 && s.images < min) {
      throw new DatasetError({
        code: 'too-small',
        file: dataset.root,
        field: s.name,
        message:
          `part "${s.name}" of the ${dataset.key} split got ${got(s)}, too few to measure ` +
          `(${sizes.map((z) => `${z.name}: ${got(z)}`).join(', ')})`,
        expected:
          `at least ${count(min, 'image')} in every part (a correlation needs 2); ` +
          (byRef ? `reference groups are not split, and ${count(groups, 'group')}` : count(base, 'image')) +
          ` cannot give every part that at ${askedText}: use more data or other ratios`,
      });
    }
  }
  const far = sizes.some(
    (s) => Math.abs((base > 0 ? s.images / base : 0) - s.share) > Math.min(0.05, s.share / 4),
  );
  if (!far) return [];
  return [
    `the ${dataset.key} split is ${sizes.map((s) => `${s.name} ${pct(base > 0 ? s.images / base : 0)}`).join(' / ')} ` +
      `of the${of === '' ? '' : ' training'} images (${sizes.map((s) => s.images).join(' / ')} of ${base}) where ` +
      `${askedText} was asked: ` +
      (byRef
        ? `reference groups are not split, and there ${groups === 1 ? 'is 1' : `are ${groups}`}`
        : `there ${base === 1 ? 'is 1 image' : `are ${base} images`}`),
  ];
}

/**
 * A seeded random split of the whole dataset (reference-disjoint for reference-based datasets). A part with a
 * non-zero ratio that gets fewer than `minPartImages` images is a {@link DatasetError} naming what each part got; a
 * part whose share is far from its ratio (few reference groups) is listed in `warnings`.
 */
export function randomSplit(dataset: IqaDataset, options: RandomSplitOptions): Split {
  const ratios = options.ratios ?? { train: 0.8, test: 0.2 };
  const entries = checkRatios(ratios);
  const round = options.round ?? 0;
  const byRef = options.byReference ?? dataset.referenceBased;
  const unit = unitOf(dataset, byRef);
  const units = [...new Set(dataset.images.map(unit))].sort(compareIds);
  const rng = seededRandom('iqa-bench', 'split', options.seed, round);
  const unitParts = cut(shuffleInPlace([...units], rng), entries);
  const parts = assign(dataset, byRef, unitParts);
  const warnings = checkParts(dataset, byRef, parts, entries, options.minPartImages ?? MIN_PART_IMAGES, '');
  return {
    dataset: dataset.key,
    method: byRef ? 'random-by-reference' : 'random',
    seed: String(options.seed),
    round,
    ratios: Object.fromEntries(entries),
    selection: 'validation',
    parts,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** `rounds` independent random splits (rounds 0 … rounds−1), as the field's repeated 80/20 protocol uses. */
export function randomSplits(dataset: IqaDataset, options: RandomSplitOptions & { rounds: number }): Split[] {
  return Array.from({ length: options.rounds }, (_, round) => randomSplit(dataset, { ...options, round }));
}

/** A split the dataset ships (`official` for KonIQ's `set` column, `seed-json` for the original's JSON files). */
export function shippedSplit(dataset: IqaDataset, name = 'official'): Split {
  const s = dataset.splits[name];
  if (!s) {
    throw new DatasetError({
      code: 'bad-option',
      file: dataset.root,
      field: 'split',
      message: `${dataset.key} (${dataset.layout} layout) ships no split named ${JSON.stringify(name)}`,
      expected: `one of: ${Object.keys(dataset.splits).join(', ') || '(none: use randomSplit)'}`,
    });
  }
  const parts = Object.fromEntries(Object.entries(s.parts).map(([k, v]) => [k, [...v]]));
  return {
    dataset: dataset.key,
    method: name,
    seed: null,
    round: null,
    ratios: null,
    selection: 'validation',
    parts,
  };
}

export interface ValidationOptions {
  /** `validation` (default): carve `val` from `train`; `test`: use the test part for selection as the original did. */
  selection?: Selection;
  /** Share of the training units moved to `val` (default 0.1). */
  fraction?: number;
  seed?: string | number;
  /** Carve by reference (default: the dataset's `referenceBased`). */
  byReference?: boolean;
  /** Fewest images `train` and `val` may keep (default {@link MIN_PART_IMAGES}). */
  minPartImages?: number;
}

/**
 * Adds a `val` part for model selection. With `selection: 'validation'` (the default, the honest protocol) a seeded
 * share of the training units moves to `val` (kept reference-disjoint); with `selection: 'test'` `val` is a copy of
 * `test`, which reproduces the original's selection on the test set. A split that already has `val` is returned as is.
 * Carving that leaves `train` or `val` with fewer than `minPartImages` images is a {@link DatasetError}; a `val` share
 * far from `fraction` (few reference groups in training) is added to `warnings`.
 */
export function withValidation(split: Split, dataset: IqaDataset, options: ValidationOptions = {}): Split {
  if ('val' in split.parts) return split;
  const selection = options.selection ?? 'validation';
  if (selection === 'test') {
    return { ...split, selection, parts: { ...split.parts, val: [...(split.parts.test ?? [])] } };
  }
  const fraction = options.fraction ?? 0.1;
  if (!(fraction > 0 && fraction < 1)) {
    throw new DatasetError({
      code: 'bad-option',
      file: '(split options)',
      field: 'fraction',
      message: `fraction ${fraction}`,
      expected: 'a number between 0 and 1',
    });
  }
  const byRef = options.byReference ?? dataset.referenceBased;
  const unit = unitOf(dataset, byRef);
  const train = new Set(split.parts.train ?? []);
  const trainImages = dataset.images.filter((im) => train.has(im.id));
  const units = [...new Set(trainImages.map(unit))].sort(compareIds);
  const rng = seededRandom('iqa-bench', 'val', options.seed ?? split.seed ?? 0, split.round ?? 0);
  const shuffled = shuffleInPlace([...units], rng);
  const nVal = Math.max(1, Math.round(fraction * units.length));
  const valUnits = new Set(shuffled.slice(0, nVal));
  const valIds: string[] = [];
  const trainIds: string[] = [];
  for (const im of trainImages) (valUnits.has(unit(im)) ? valIds : trainIds).push(im.id);
  const parts = { train: trainIds.sort(compareIds), val: valIds.sort(compareIds) };
  const asked: [string, number][] = [
    ['train', 1 - fraction],
    ['val', fraction],
  ];
  const min = options.minPartImages ?? MIN_PART_IMAGES;
  const warnings = [
    ...(split.warnings ?? []),
    ...checkParts(dataset, byRef, parts, asked, min, ' of the training part'),
  ];
  return {
    ...split,
    ...(warnings.length > 0 ? { warnings } : {}),
    selection,
    ratios: split.ratios
      ? { ...split.ratios, valFractionOfTrain: fraction }
      : { valFractionOfTrain: fraction },
    parts: { ...split.parts, ...parts },
  };
}

/** The split manifest: a split plus a content hash, as written to disk. */
export interface SplitManifest extends Split {
  format: 'iqa-bench.split-manifest';
  version: 1;
  counts: Record<string, number>;
  /** `sha256:<hex>` of the canonical JSON of every other field. */
  hash: string;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function hashOf(m: Omit<SplitManifest, 'hash'>): string {
  return 'sha256:' + createHash('sha256').update(canonical(m)).digest('hex');
}

/** Builds the manifest of a split (parts sorted, counts and hash filled in). */
export function splitManifest(split: Split): SplitManifest {
  const parts = Object.fromEntries(
    Object.keys(split.parts)
      .sort()
      .map((k) => [k, [...split.parts[k]].sort(compareIds)]),
  );
  const body: Omit<SplitManifest, 'hash'> = {
    format: 'iqa-bench.split-manifest',
    version: 1,
    dataset: split.dataset,
    method: split.method,
    seed: split.seed,
    round: split.round,
    ratios: split.ratios,
    selection: split.selection,
    counts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v.length])),
    parts,
  };
  return { ...body, hash: hashOf(body) };
}

/** Writes a split manifest atomically (temporary file, then rename) and returns it. */
export async function writeSplitManifest(file: string, split: Split): Promise<SplitManifest> {
  const m = splitManifest(split);
  await writeFileAtomic(file, JSON.stringify(m, null, 1) + '\n');
  return m;
}

function bad(file: string, field: string, message: string, expected: string): never {
  throw new DatasetError({ code: 'bad-metadata', file, field, message, expected });
}

/** Largest split manifest read (a manifest of KonIQ-10k's 10,073 ids is about 300 KB). */
const MAX_MANIFEST_BYTES = 64 << 20;

/**
 * Reads and validates a split manifest: shape, sorted unique disjoint parts, and the content hash. With `dataset`,
 * also checks that the manifest is for that dataset and that every id exists in it.
 */
export async function readSplitManifest(file: string, dataset?: IqaDataset): Promise<SplitManifest> {
  let raw: unknown;
  try {
    raw = await readStructuredFile(file, {
      format: 'json',
      maxBytes: MAX_MANIFEST_BYTES,
      what: 'split manifest',
    });
  } catch (e) {
    throw new DatasetError({
      code: 'missing-metadata',
      file,
      message: `cannot read the manifest (${e instanceof TextFileError ? e.reason : (e as Error).message})`,
      expected: 'a split manifest JSON file',
    });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    bad(file, '(top level)', 'not an object', 'a JSON object');
  const m = raw as Record<string, unknown>;
  if (m.format !== 'iqa-bench.split-manifest' || m.version !== 1)
    bad(
      file,
      'format',
      `format ${JSON.stringify(m.format)} version ${JSON.stringify(m.version)}`,
      '"iqa-bench.split-manifest" version 1',
    );
  if (typeof m.dataset !== 'string' || !(DATASET_KEYS as readonly string[]).includes(m.dataset))
    bad(file, 'dataset', JSON.stringify(m.dataset), `one of ${DATASET_KEYS.join(', ')}`);
  if (typeof m.method !== 'string') bad(file, 'method', JSON.stringify(m.method), 'a string');
  if (m.seed !== null && typeof m.seed !== 'string')
    bad(file, 'seed', JSON.stringify(m.seed), 'a string or null');
  if (m.round !== null && !Number.isInteger(m.round))
    bad(file, 'round', JSON.stringify(m.round), 'an integer or null');
  if (m.selection !== 'validation' && m.selection !== 'test')
    bad(file, 'selection', JSON.stringify(m.selection), '"validation" or "test"');
  if (
    m.ratios !== null &&
    (typeof m.ratios !== 'object' || Object.values(m.ratios as object).some((r) => typeof r !== 'number'))
  ) {
    bad(file, 'ratios', JSON.stringify(m.ratios), 'an object of numbers or null');
  }
  if (typeof m.parts !== 'object' || m.parts === null || Array.isArray(m.parts))
    bad(file, 'parts', 'missing', 'an object of id lists');
  const parts = m.parts as Record<string, unknown>;
  const seen = new Map<string, string>();
  for (const [p, ids] of Object.entries(parts)) {
    if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string'))
      bad(file, `parts.${p}`, 'not a list of strings', 'a sorted list of image ids');
    for (let i = 0; i < ids.length; i++) {
      if (i > 0 && compareIds(ids[i - 1], ids[i]) >= 0)
        bad(
          file,
          `parts.${p}`,
          `ids not sorted or repeated at ${JSON.stringify(ids[i])}`,
          'sorted unique ids',
        );
      const other = seen.get(ids[i]);
      // A `val` that copies `test` (selection on test) is the one allowed overlap.
      const allowed =
        m.selection === 'test' && ((p === 'val' && other === 'test') || (p === 'test' && other === 'val'));
      if (other !== undefined && !allowed)
        bad(file, `parts.${p}`, `${JSON.stringify(ids[i])} is also in part ${other}`, 'disjoint parts');
      seen.set(ids[i], p);
    }
  }
  const { hash, ...body } = m;
  const expectHash = hashOf(body as Omit<SplitManifest, 'hash'>);
  if (hash !== expectHash)
    bad(
      file,
      'hash',
      `hash ${JSON.stringify(hash)} does not match the content (${expectHash})`,
      'an unmodified manifest',
    );
  const manifest = m as unknown as SplitManifest;
  if (dataset) {
    if (manifest.dataset !== dataset.key)
      bad(file, 'dataset', `manifest is for ${manifest.dataset}`, `a manifest for ${dataset.key}`);
    const have = new Set(dataset.images.map((i) => i.id));
    const missing = [...seen.keys()].filter((id) => !have.has(id));
    if (missing.length > 0) {
      bad(
        file,
        'parts',
        `${missing.length} id(s) not in the dataset, e.g. ${JSON.stringify(missing[0])}`,
        `every id to be an image of the loaded ${dataset.key}`,
      );
    }
  }
  return manifest;
}

/** Selects the images of one part of a split (in id order). */
export function partImages(dataset: IqaDataset, split: Split, part: string): IqaDataset['images'] {
  const ids = split.parts[part];
  if (!ids) {
    throw new DatasetError({
      code: 'bad-option',
      file: '(split)',
      field: 'part',
      message: `no part ${JSON.stringify(part)}`,
      expected: `one of ${Object.keys(split.parts).join(', ')}`,
    });
  }
  const want = new Set(ids);
  return dataset.images.filter((im) => want.has(im.id));
}
