/** Shared machinery of the adapters: problem collection, path checks, score normalisation, JSON lists. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DatasetError, type Problem } from '../errors.js';
import { checkFile, DEFAULT_MAX_METADATA_BYTES, joinInside, readBounded } from '../io/paths.js';
import { DEFAULT_MAX_ROWS, findColumn, parseScore, type Table, type TableLimits } from '../io/table.js';
import type { DatasetKey, IqaDataset, IqaImage, LoadOptions, ScoreScale, ShippedSplit } from '../types.js';
import { parseStructuredText, TextFileError } from '@iqa-bench/core/text';

/** Thrown internally to stop an adapter after a problem that makes the rest unreadable (missing file, column). */
export class FatalProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}

/** State shared by one adapter run. */
export class AdapterContext {
  readonly problems: Problem[] = [];
  readonly limits: TableLimits;
  readonly metadataFiles: string[] = [];
  private readonly dirCache = new Map<string, Map<string, string[]> | null>();

  constructor(
    readonly key: DatasetKey,
    readonly root: string,
    readonly options: LoadOptions,
  ) {
    this.limits = {
      maxBytes: options.maxMetadataBytes ?? DEFAULT_MAX_METADATA_BYTES,
      maxRows: options.maxRows ?? DEFAULT_MAX_ROWS,
    };
  }

  /** Absolute path of a fixed metadata location under the root. */
  at(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }

  /** Records a problem that does not stop reading. */
  report(p: Problem): void {
    this.problems.push(p);
  }

  /** Records a problem and stops the adapter. */
  fatal(p: Problem): never {
    throw new FatalProblem(p);
  }

  /** Wraps reading a metadata file so that its DatasetError becomes a fatal problem. */
  async read<T>(file: string, reader: () => Promise<T>): Promise<T> {
    try {
      const v = await reader();
      this.metadataFiles.push(file);
      return v;
    } catch (e) {
      if (e instanceof DatasetError) this.fatal(e.problems[0]);
      throw e;
    }
  }

  /** Column index or fatal missing-column problem. */
  column(table: Table, name: string): number {
    const c = findColumn(table, name);
    if (typeof c === 'number') return c;
    this.fatal(c);
  }

  /** Lists a folder once (lower-case name → real names) for case-insensitive fallbacks. */
  async listing(dir: string): Promise<Map<string, string[]> | null> {
    if (!this.dirCache.has(dir)) {
      try {
        const names = await fs.readdir(dir);
        const m = new Map<string, string[]>();
        for (const n of names) {
          const k = n.toLowerCase();
          m.set(k, [...(m.get(k) ?? []), n]);
        }
        this.dirCache.set(dir, m);
      } catch {
        this.dirCache.set(dir, null);
      }
    }
    return this.dirCache.get(dir) ?? null;
  }
}

/** One image row before checks. */
export interface RawRow {
  id: string;
  /** Name to resolve (relative). */
  name: string;
  /** Folders to look in, in order (absolute, inside the root). */
  dirs: string[];
  scoreText: string | number | undefined;
  refId?: string;
  file: string;
  row: number;
  field: string;
}

export interface FinishOptions {
  /** Accept a unique case-insensitive match when the exact name is missing (TID2013 mixes `.bmp` and `.BMP`). */
  caseInsensitive?: boolean;
}

/** Checks scores and paths of the rows and builds the image list (problems are recorded, bad rows dropped). */
export async function checkRows(
  ctx: AdapterContext,
  rows: RawRow[],
  opts: FinishOptions = {},
): Promise<Omit<IqaImage, 'normScore'>[]> {
  const out: Omit<IqaImage, 'normScore'>[] = [];
  const seen = new Map<string, number>();
  for (const r of rows) {
    const where = { file: r.file, row: r.row, imageId: r.id };
    const prev = seen.get(r.id);
    if (prev !== undefined) {
      ctx.report({
        ...where,
        code: 'duplicate-image',
        field: r.field,
        message: `image ${JSON.stringify(r.id)} is listed again (first at row ${prev})`,
        expected: 'each image listed once',
      });
      continue;
    }
    seen.set(r.id, r.row);
    const score =
      typeof r.scoreText === 'number'
        ? Number.isFinite(r.scoreText)
          ? r.scoreText
          : undefined
        : parseScore(r.scoreText);
    if (score === undefined) {
      ctx.report({
        ...where,
        code: 'bad-score',
        field: r.field,
        message: `score ${JSON.stringify(r.scoreText ?? null)} is not a number`,
        expected: 'a finite decimal number',
      });
      continue;
    }
    let found: string | null = null;
    let problem: Problem | null = null;
    for (const dir of r.dirs) {
      const full = joinInside(ctx.root, dir, r.name);
      if (typeof full !== 'string') {
        problem = { ...where, ...full };
        break;
      }
      let status = await checkFile(ctx.root, full);
      let candidate = full;
      if (status === 'missing' && opts.caseInsensitive) {
        const listing = await ctx.listing(path.dirname(full));
        const matches = listing?.get(path.basename(full).toLowerCase()) ?? [];
        if (matches.length === 1) {
          candidate = path.join(path.dirname(full), matches[0]);
          status = await checkFile(ctx.root, candidate);
        }
      }
      if (status === 'ok') {
        found = candidate;
        break;
      }
      if (status === 'escape') {
        problem = {
          ...where,
          code: 'path-escape',
          message: `${path.relative(ctx.root, candidate)} is a link that leads outside the dataset folder`,
          expected: `a file inside ${ctx.root}`,
        };
        break;
      }
    }
    if (problem) {
      ctx.report(problem);
      continue;
    }
    if (found === null) {
      const tried = r.dirs.map((d) => path.relative(ctx.root, path.join(d, r.name)) || r.name);
      ctx.report({
        ...where,
        code: 'missing-image',
        message: `image ${JSON.stringify(r.name)} not found (looked for ${tried.join(', ')})`,
        expected: 'the listed image file to exist',
      });
      continue;
    }
    out.push({
      id: r.id,
      path: found,
      score,
      ...(r.refId !== undefined ? { refId: r.refId } : {}),
      source: { file: r.file, row: r.row },
    });
  }
  return out;
}

/** Maps a native score to [0, 1], 1 = best. */
export function normalise(score: number, scale: ScoreScale): number {
  const [lo, hi] = scale.range;
  const t = hi === lo ? 0.5 : (score - lo) / (hi - lo);
  const v = scale.direction === 'higher-better' ? t : 1 - t;
  return Math.min(1, Math.max(0, v));
}

/** The observed min/max range of a set of scores, or the caller's override. */
export function rangeFor(
  images: { score: number }[],
  published: [number, number] | null,
  override: [number, number] | undefined,
): Pick<ScoreScale, 'range' | 'rangeSource'> {
  if (override) return { range: [override[0], override[1]], rangeSource: 'option' };
  if (published) return { range: [published[0], published[1]], rangeSource: 'published' };
  let lo = Infinity;
  let hi = -Infinity;
  for (const im of images) {
    lo = Math.min(lo, im.score);
    hi = Math.max(hi, im.score);
  }
  if (!Number.isFinite(lo)) return { range: [0, 1], rangeSource: 'observed' };
  return { range: [lo, hi], rangeSource: 'observed' };
}

/** Reads one of the original's `[{image, score}]` JSON lists. */
export async function readJsonList(
  ctx: AdapterContext,
  file: string,
): Promise<{ name: string; score: string | number | undefined; row: number }[]> {
  const buf = await ctx.read(file, () => readBounded(file, ctx.limits.maxBytes, 'JSON list'));
  let data: unknown;
  try {
    data = parseStructuredText(buf.toString('utf8').replace(/^\uFEFF/, ''), { file, format: 'json' });
  } catch (e) {
    ctx.fatal({
      code: 'bad-metadata',
      file,
      message: `invalid JSON (${e instanceof TextFileError ? e.reason : (e as Error).message})`,
      expected: 'a JSON list of {"image", "score"} objects',
    });
  }
  if (!Array.isArray(data)) {
    ctx.fatal({
      code: 'bad-metadata',
      file,
      message: `the top level is ${typeof data}`,
      expected: 'a JSON list of {"image", "score"} objects',
    });
  }
  if (data.length > ctx.limits.maxRows) {
    ctx.fatal({
      code: 'too-large',
      file,
      message: `${data.length} entries`,
      expected: `at most ${ctx.limits.maxRows}`,
    });
  }
  const out: { name: string; score: string | number | undefined; row: number }[] = [];
  data.forEach((item: unknown, i: number) => {
    const row = i + 1;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      ctx.report({
        code: 'bad-metadata',
        file,
        row,
        message: `entry is ${JSON.stringify(item)}`,
        expected: 'an object {"image": ..., "score": ...}',
      });
      return;
    }
    const o = item as Record<string, unknown>;
    if (typeof o.image !== 'string') {
      ctx.report({
        code: 'missing-column',
        file,
        row,
        field: 'image',
        message: `"image" is ${JSON.stringify(o.image ?? null)}`,
        expected: 'a file name string',
      });
      return;
    }
    const s = o.score;
    out.push({ name: o.image, score: typeof s === 'number' || typeof s === 'string' ? s : undefined, row });
  });
  return out;
}

/** The original uses only the base name of a JSON `image` entry (`koniq_train/x.jpg` → `x.jpg`). */
export function baseName(name: string): string {
  const parts = name.split(/[\\/]/);
  return parts[parts.length - 1];
}

/** Builds a shipped split from part → ids, keeping only loaded images; ids sorted. */
export function shippedSplit(
  name: string,
  parts: Record<string, string[]>,
  loaded: Set<string>,
): ShippedSplit {
  const out: Record<string, string[]> = {};
  for (const [k, ids] of Object.entries(parts)) out[k] = ids.filter((id) => loaded.has(id)).sort(compareIds);
  return { name, parts: out };
}

/** The one ordering of ids used everywhere (code-unit order, independent of locale). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Result of an adapter before problems are turned into errors or skips. */
export interface AdapterResult {
  layout: string;
  scale: Omit<ScoreScale, 'range' | 'rangeSource'> & { published: [number, number] | null };
  images: Omit<IqaImage, 'normScore'>[];
  referenceBased: boolean;
  splits: Record<string, Record<string, string[]>>;
}

export type Adapter = (ctx: AdapterContext) => Promise<AdapterResult>;

/** One on-disk layout an adapter reads, with the files that identify it. */
export interface LayoutInfo {
  /** The `layout` a dataset read this way reports (`official`, `seed-json`, `test-json`, `pyiqa`). */
  name: string;
  /** What it reads, in one line. */
  reads: string;
  /**
   * Marker sets, paths relative to the root: the layout is present when every path of one set exists (a trailing `/`
   * names a folder, anything else a file).
   */
  markers: readonly (readonly string[])[];
}

/** Where pyiqa (IQA-PyTorch) keeps a dataset: `meta_info_<name>Dataset.csv` and the image folder under its data root. */
export interface PyiqaInfo {
  /** The middle of the meta file's name: `KADID10k` for `meta_info_KADID10kDataset.csv`. */
  name: string;
  /** The dataset's folder under pyiqa's data root (`kadid10k`). */
  folder: string;
  /** Image folders inside it, in the order they are tried (`''` = the folder itself). */
  images: readonly string[];
  /** Full-reference meta file (`ref_name, dist_name, score, ...`) rather than no-reference (`name, score, ...`). */
  fullReference: boolean;
  /** Leading rows pyiqa's dataset class drops before indexing (LIVE Challenge: its 7 training images). */
  skipRows?: number;
}

/** What an adapter knows about its dataset besides reading it: names, score scale and published layouts. */
export interface AdapterInfo {
  /** The dataset's name as its authors write it (`KADID-10k`). */
  title: string;
  /** Other spellings accepted for the key (compared without case, spaces, `-`, `_` and `.`). */
  aliases: readonly string[];
  /** The score of the default layout and label; `published: null` when it depends on the options (csv). */
  scale: AdapterResult['scale'];
  referenceBased: boolean;
  /** The layouts the adapter reads, in the order it prefers them. */
  layouts: readonly LayoutInfo[];
  /** pyiqa's layout of the dataset, when pyiqa has one. */
  pyiqa?: PyiqaInfo;
}

/** Assembles the dataset from an adapter result. */
export function assemble(ctx: AdapterContext, res: AdapterResult): Omit<IqaDataset, 'skipped'> {
  const images = [...res.images].sort((a, b) => compareIds(a.id, b.id));
  const scale: ScoreScale = {
    name: res.scale.name,
    direction: res.scale.direction,
    ...rangeFor(images, res.scale.published, ctx.options.scoreRange),
  };
  const loaded = new Set(images.map((i) => i.id));
  const splits: Record<string, ShippedSplit> = {};
  for (const [name, parts] of Object.entries(res.splits)) splits[name] = shippedSplit(name, parts, loaded);
  return {
    key: ctx.key,
    root: ctx.root,
    layout: res.layout,
    scale,
    images: images.map((im) => ({ ...im, normScore: normalise(im.score, scale) })),
    referenceBased: res.referenceBased,
    splits,
    metadataFiles: [...ctx.metadataFiles],
  };
}

/** Joins a relative option path under a folder inside the root, or stops with a path-escape problem. */
export function joinInsideOrFatal(ctx: AdapterContext, dir: string, rel: string): string {
  const full = joinInside(ctx.root, dir, rel);
  if (typeof full === 'string') return full;
  ctx.fatal({ file: path.join(dir, rel), ...full });
}
