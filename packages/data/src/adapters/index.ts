/** The adapter registry, {@link loadDataset} and {@link verify}. */
import path from 'node:path';
import { DatasetError, formatProblem, type Problem } from '../errors.js';
import { realRoot } from '../io/paths.js';
import { decodeImage, type DecodeOptions } from '../image/decode.js';
import { DATASET_KEYS, type DatasetKey, type IqaDataset, type LoadOptions } from '../types.js';
import { AdapterContext, assemble, compareIds, FatalProblem, type AdapterResult } from './common.js';
import { pyiqaLayout, readPyiqa } from './pyiqa.js';
import { ADAPTERS, findMarkers } from './registry.js';
import { expectedKeys } from '../keys.js';

function checkKey(key: string): asserts key is DatasetKey {
  if (!(DATASET_KEYS as readonly string[]).includes(key)) {
    throw new DatasetError({
      code: 'bad-option',
      file: '(dataset kind)',
      message: `unknown dataset kind ${JSON.stringify(key)}`,
      expected: expectedKeys(key),
    });
  }
}

async function run(
  key: DatasetKey,
  root: string,
  options: LoadOptions,
): Promise<{ ctx: AdapterContext; data?: Omit<IqaDataset, 'skipped'>; fatal?: Problem }> {
  const ctx = new AdapterContext(key, await realRoot(root), options);
  try {
    const res = await read(ctx);
    return { ctx, data: assemble(ctx, res) };
  } catch (e) {
    if (e instanceof FatalProblem) return { ctx, fatal: e.problem };
    throw e;
  }
}

/**
 * Runs the key's adapter, or reads pyiqa's layout when it is asked for (`layout: 'pyiqa'`) or when the folder has
 * pyiqa's files and none of the adapter's own layouts.
 */
async function read(ctx: AdapterContext): Promise<AdapterResult> {
  const { load, info } = ADAPTERS[ctx.key];
  const layout = ctx.options.layout;
  let pyiqa = layout === 'pyiqa';
  if (layout === undefined && info.pyiqa) {
    let own = false;
    for (const l of info.layouts) if (!own && (await findMarkers(ctx.root, l)) !== null) own = true;
    pyiqa = !own && (await findMarkers(ctx.root, pyiqaLayout(info.pyiqa))) !== null;
  }
  if (pyiqa) return readPyiqa(ctx, info);
  if (ctx.options.splitFile !== undefined) {
    ctx.fatal({
      code: 'bad-option',
      file: ctx.root,
      field: 'splitFile',
      message: `a split pickle indexes the rows of pyiqa's meta file, and ${ctx.key} is read in its own layout here`,
      expected: "the pyiqa layout (meta_info_*.csv; layout: 'pyiqa') for a split file",
    });
  }
  return load(ctx);
}

/**
 * Loads a dataset folder as published (see each adapter for the layouts it reads). Throws a {@link DatasetError}
 * naming the file, row and expectation of the first problem, unless `onInvalid: 'skip'` is given, in which case
 * rows with problems are left out and listed in `skipped` (missing metadata files and columns always throw).
 * Images are checked to exist and to lie inside the root; they are not decoded here (see {@link verify}).
 */
export async function loadDataset(
  key: DatasetKey,
  root: string,
  options: LoadOptions = {},
): Promise<IqaDataset> {
  checkKey(key);
  const { ctx, data, fatal } = await run(key, root, options);
  if (fatal) throw new DatasetError(fatal, [fatal, ...ctx.problems]);
  if (!data) throw new Error('adapter returned nothing');
  const problems = ctx.problems;
  if (problems.length > 0 && (options.onInvalid ?? 'error') === 'error')
    throw new DatasetError(problems[0], problems);
  const bad = new Set(problems.map((p) => p.imageId).filter((id): id is string => id !== undefined));
  const images = data.images.filter((im) => !bad.has(im.id));
  const kept = new Set(images.map((i) => i.id));
  const splits = Object.fromEntries(
    Object.entries(data.splits).map(([k, s]) => [
      k,
      {
        name: s.name,
        parts: Object.fromEntries(
          Object.entries(s.parts).map(([p, ids]) => [p, ids.filter((id) => kept.has(id))]),
        ),
      },
    ]),
  );
  return {
    ...data,
    images,
    splits,
    skipped: problems.map((p) => ({
      id: p.imageId ?? `${path.basename(p.file)}:${p.row ?? 0}`,
      reason: formatProblem(p),
    })),
  };
}

/** Result of {@link verify}. */
export interface VerifyReport {
  key: DatasetKey;
  root: string;
  /** Images listed and found (before decoding). */
  images: number;
  /** Images decoded without problems. */
  decoded: number;
  problems: Problem[];
  ok: boolean;
}

export interface VerifyOptions extends LoadOptions, DecodeOptions {
  /** Decode every image fully (default true); false checks only that the files exist. */
  decode?: boolean;
  /** Concurrent decodes (default 4). */
  concurrency?: number;
}

/**
 * Checks a dataset folder and lists every problem at once: metadata, columns, scores, missing images, paths that
 * escape the root, and (unless `decode: false`) corrupt or truncated images and images over the pixel budget.
 */
export async function verify(
  key: DatasetKey,
  root: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  checkKey(key);
  const { ctx, data, fatal } = await run(key, root, options);
  const problems = [...(fatal ? [fatal] : []), ...ctx.problems];
  const images = data?.images ?? [];
  let decoded = 0;
  const decodeProblems: Problem[] = [];
  if (options.decode !== false && images.length > 0) {
    const queue = [...images];
    const worker = async (): Promise<void> => {
      for (let im = queue.shift(); im !== undefined; im = queue.shift()) {
        try {
          await decodeImage(im.path, options);
          decoded++;
        } catch (e) {
          if (!(e instanceof DatasetError)) throw e;
          decodeProblems.push({
            ...e.problems[0],
            row: im.source.row,
            imageId: im.id,
            message: `${e.problems[0].message} (listed in ${path.basename(im.source.file)})`,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  }
  // Decodes finish in any order; report them in id order.
  decodeProblems.sort((a, b) => compareIds(a.imageId ?? '', b.imageId ?? ''));
  problems.push(...decodeProblems);
  return { key, root: ctx.root, images: images.length, decoded, problems, ok: problems.length === 0 };
}
