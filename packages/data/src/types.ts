/** Public data model of @iqa-bench/data. */

/** Stable adapter keys. */
export const DATASET_KEYS = [
  'koniq10k',
  'spaq',
  'kadid10k',
  'agiqa3k',
  'livec',
  'live',
  'csiq',
  'tid2013',
  'csv',
] as const;
export type DatasetKey = (typeof DATASET_KEYS)[number];

/** Whether larger native scores mean better quality (MOS) or worse (DMOS). */
export type ScoreDirection = 'higher-better' | 'lower-better';

/** The native score scale of a dataset as loaded. */
export interface ScoreScale {
  /** The column or variable the score comes from (e.g. `MOS_zscore`, `dmos`, `mos_quality`, `dmos_new`). */
  name: string;
  direction: ScoreDirection;
  /** `[lo, hi]` used for normalisation. */
  range: [number, number];
  /**
   * Where the range comes from: `published` (the dataset's documented scale, as pyiqa's `dataset_info` lists it),
   * `observed` (min/max of the loaded scores: used for the original's `*_test.json` files, whose scale is not
   * documented) or `option` (given by the caller).
   */
  rangeSource: 'published' | 'observed' | 'option';
}

/** One image of a dataset. */
export interface IqaImage {
  /** Stable id: the image name as the metadata writes it (e.g. `10004473376.jpg`, `jp2k/img1.bmp`). */
  id: string;
  /** Absolute path of the image file (checked to lie inside the dataset root). */
  path: string;
  /** Score on the native scale. */
  score: number;
  /** Score mapped to [0, 1] with 1 = best quality (direction flipped for lower-better scales, clamped to [0, 1]). */
  normScore: number;
  /** Reference (pristine content) id for reference-based datasets (kadid10k, live, csiq, tid2013). */
  refId?: string;
  /** Where the row came from. */
  source: { file: string; row: number };
}

/** A split the dataset ships (or the original project shipped): part name → sorted image ids. */
export interface ShippedSplit {
  name: string;
  parts: Record<string, string[]>;
}

/** An image left out because of a problem, with `onInvalid: 'skip'`. */
export interface SkippedImage {
  id: string;
  reason: string;
}

/** A loaded dataset. Images are sorted by id. */
export interface IqaDataset {
  key: DatasetKey;
  /** Real path of the dataset folder. */
  root: string;
  /** Which on-disk layout was read: e.g. `official`, `seed-json` (the original's JSON files), `test-json`, `pyiqa`. */
  layout: string;
  scale: ScoreScale;
  images: IqaImage[];
  /** True for datasets whose images are distortions of shared references (random splits are reference-disjoint). */
  referenceBased: boolean;
  /**
   * Splits that come with the data (`official` for KonIQ's `set` column, `seed-json` for the original's JSONs; in the
   * pyiqa layout every `*split*` column of the meta file and every index of a split pickle).
   */
  splits: Record<string, ShippedSplit>;
  /** Images left out with `onInvalid: 'skip'` (empty otherwise). */
  skipped: SkippedImage[];
  /** Metadata files that were read. */
  metadataFiles: string[];
}

/** Options of {@link loadDataset}; each option says which adapters use it. */
export interface LoadOptions {
  /** `error` (default): the first problem throws a DatasetError. `skip`: rows with a problem are left out and listed in `skipped`. */
  onInvalid?: 'error' | 'skip';
  /**
   * Force a layout instead of detecting it: `official`, `json` (the original's `*_test.json` / koniq_train.json) or
   * `pyiqa` (pyiqa's `meta_info_<Name>Dataset.csv`; detected when the folder has it and none of the key's own layouts).
   */
  layout?: 'official' | 'json' | 'pyiqa';
  /**
   * pyiqa layout: a split pickle (`{index: {'train': [...], 'val': [...], 'test': [...]}}`, rows of the meta file)
   * relative to the root, read with the safe unpickler of `@iqa-bench/core/pickle`; each index becomes a
   * shipped split named `<file name>#<index>`.
   */
  splitFile?: string;
  /**
   * Label column. koniq10k: `MOS_zscore` (default, the 0–100 scale the original trains on) or `MOS` (1–5).
   * agiqa3k: `mos_quality` (default) or `mos_align`. csv: required (the score column).
   */
  label?: string;
  /** Image folder relative to the root. koniq10k: `1024x768` or `512x384` (default: whichever exists, in that order); agiqa3k, csv. */
  imageDir?: string;
  /** csv: metadata file relative to the root. */
  file?: string;
  /** csv: the image-name column. */
  imageColumn?: string;
  /** csv: an optional reference-id column (makes random splits reference-disjoint). */
  refColumn?: string;
  /** csv: score direction (default higher-better). */
  direction?: ScoreDirection;
  /**
   * Override the score range used for normalisation (csv and JSON layouts default to the observed min/max; the
   * official and pyiqa layouts use the dataset's published range).
   */
  scoreRange?: [number, number];
  /** Upper bound for a metadata file's size in bytes (default 256 MiB). */
  maxMetadataBytes?: number;
  /** Upper bound for metadata rows (default 2,000,000). */
  maxRows?: number;
}
