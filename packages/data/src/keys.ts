/**
 * Dataset keys: the catalogue of keys with their published layouts and score scales, the one place where spellings
 * (`KADID-10k`, `live_challenge`) become keys, the nearest key for a misspelling, and the key of a folder detected from
 * the marker files of the published layouts (each adapter lists its own).
 */
import { ADAPTERS, findMarkers, layoutsOf } from './adapters/registry.js';
import { DatasetError } from './errors.js';
import { realRoot } from './io/paths.js';
import { editDistance } from './io/table.js';
import { DATASET_KEYS, type DatasetKey, type ScoreDirection } from './types.js';

/** One on-disk layout of a dataset. */
export interface DatasetLayoutInfo {
  /** The `layout` a dataset read this way reports. */
  name: string;
  /** What is read, in one line. */
  reads: string;
  /** Sets of paths (relative to the root; `/` at the end = a folder): the layout is there when one set is complete. */
  markers: string[][];
}

/** A dataset key with what it reads and how it scores. */
export interface DatasetKeyInfo {
  key: DatasetKey;
  /** The dataset's name as its authors write it. */
  title: string;
  /** Other spellings {@link resolveDatasetKey} accepts (besides the key and the title, in any case). */
  aliases: string[];
  /** The score of the default layout: column, direction and published range (null: given by the options). */
  scale: { name: string; direction: ScoreDirection; range: [number, number] | null };
  referenceBased: boolean;
  layouts: DatasetLayoutInfo[];
}

/** Every key with its layouts and score scale, in {@link DATASET_KEYS} order. */
export function datasetKeys(): DatasetKeyInfo[] {
  return DATASET_KEYS.map((key) => {
    const { info } = ADAPTERS[key];
    return {
      key,
      title: info.title,
      aliases: [...info.aliases],
      scale: {
        name: info.scale.name,
        direction: info.scale.direction,
        range: info.scale.published ? [info.scale.published[0], info.scale.published[1]] : null,
      },
      referenceBased: info.referenceBased,
      layouts: layoutsOf(key).map((l) => ({
        name: l.name,
        reads: l.reads,
        markers: l.markers.map((m) => [...m]),
      })),
    };
  });
}

/** Lower case, letters and digits only: `KADID-10k` → `kadid10k`, `live_challenge` → `livechallenge`. */
function normalise(spelling: string): string {
  return spelling.toLowerCase().replace(/[^a-z0-9]+/g, '');
}

let spellingTable: Map<string, DatasetKey> | null = null;

/** Normalised spelling → key, for every key, title and alias. */
function spellings(): Map<string, DatasetKey> {
  if (spellingTable === null) {
    spellingTable = new Map();
    for (const key of DATASET_KEYS) {
      const { info } = ADAPTERS[key];
      for (const s of [key, info.title, ...info.aliases]) {
        const n = normalise(s);
        const other = spellingTable.get(n);
        if (other !== undefined && other !== key) throw new Error(`spelling ${s} names ${other} and ${key}`);
        spellingTable.set(n, key);
      }
    }
  }
  return spellingTable;
}

/**
 * The key nearest to a spelling that is no key: the first key one of whose spellings starts with it (at least 3
 * characters: `kadid` → `kadid10k`), else the one at the smallest edit distance if that is at most 2 or 40 % of the
 * spelling's length. Undefined when nothing is that close; a valid spelling suggests its own key.
 */
export function suggestDatasetKey(spelling: string): DatasetKey | undefined {
  const n = normalise(spelling);
  if (n === '') return undefined;
  const table = spellings();
  const exact = table.get(n);
  if (exact !== undefined) return exact;
  if (n.length >= 3) for (const [s, key] of table) if (s.startsWith(n)) return key;
  let best: { key: DatasetKey; d: number } | undefined;
  for (const [s, key] of table) {
    const d = editDistance(n, s);
    if (best === undefined || d < best.d) best = { key, d };
  }
  return best !== undefined && best.d <= Math.max(2, Math.floor(0.4 * n.length)) ? best.key : undefined;
}

/** What {@link resolveDatasetKey} accepts, for messages. */
export function expectedKeys(spelling?: string): string {
  const near = spelling === undefined ? undefined : suggestDatasetKey(spelling);
  return (
    `one of ${DATASET_KEYS.join(', ')}, or a common spelling of one (e.g. "KADID-10k", "live_challenge")` +
    (near !== undefined ? `; did you mean "${near}"?` : '')
  );
}

/**
 * The key a spelling names: the key itself, the dataset's title or a known alias, in any case and with or without
 * spaces, `-`, `_` and `.` (`KADID-10k`, `koniq_10k`, `LIVE Challenge`, `live_challenge`, `CLIVE`). Anything else is a
 * {@link DatasetError} that lists the keys and suggests the nearest one.
 */
export function resolveDatasetKey(spelling: string): DatasetKey {
  const key = spellings().get(normalise(spelling));
  if (key !== undefined) return key;
  throw new DatasetError({
    code: 'bad-option',
    file: '(dataset key)',
    message: `unknown dataset key ${JSON.stringify(spelling)}`,
    expected: expectedKeys(spelling),
  });
}

/** The key of a folder and the layout and marker files that gave it away. */
export interface DetectedDataset {
  key: DatasetKey;
  layout: string;
  /** The marker paths found (relative to the root). */
  markers: string[];
}

/**
 * Detects which dataset a folder holds from the marker files of the published layouts (`dmos.csv` with `images/` for
 * KADID-10k, `csiq_label.txt` for CSIQ, pyiqa's `meta_info/meta_info_KADID10kDataset.csv` with `kadid10k/`, ...).
 * Nothing is parsed. A folder with no known layout, or with the layouts of several datasets (e.g. a pyiqa data root
 * holding two of them), is a {@link DatasetError} that lists what was looked for or found. The `csv` key is never
 * detected. TID2008 has TID2013's file names and is detected as `tid2013`.
 */
export async function detectDatasetKey(root: string): Promise<DetectedDataset> {
  const real = await realRoot(root);
  const found: DetectedDataset[] = [];
  for (const key of DATASET_KEYS) {
    let hit: DetectedDataset | undefined;
    for (const layout of layoutsOf(key)) {
      const markers = hit ? null : await findMarkers(real, layout);
      if (markers) hit = { key, layout: layout.name, markers };
    }
    if (hit) found.push(hit);
  }
  if (found.length === 1) return found[0];
  if (found.length === 0) {
    const examples: string[] = [];
    for (const k of DATASET_KEYS) {
      const layouts = ADAPTERS[k].info.layouts;
      const first = (layouts.find((l) => l.name === 'official') ?? layouts[0]).markers[0];
      if (first !== undefined) examples.push(`${k}: ${first.join(' with ')}`);
    }
    throw new DatasetError({
      code: 'missing-metadata',
      file: real,
      message: 'no published dataset layout found in the folder',
      expected: `the files of one layout (${examples.join('; ')}; or pyiqa's meta_info/), or the key named explicitly`,
    });
  }
  throw new DatasetError({
    code: 'bad-option',
    file: real,
    message: `the folder holds the layouts of several datasets: ${found
      .map((f) => `${f.key} (${f.layout}: ${f.markers.join(', ')})`)
      .join('; ')}`,
    expected: 'one dataset per folder, or the key named explicitly',
  });
}
