import { relative } from 'node:path';
import type { DatasetKey, IqaDataset, LoadOptions } from '@iqa-bench/data';
import {
  DATASET_KEYS,
  DatasetError,
  detectDatasetKey,
  formatProblem,
  loadDataset,
  resolveDatasetKey,
} from '@iqa-bench/data';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { DatasetSpec } from '../dataset-spec.js';
import { collectDataset, nameDatasets } from '../dataset-spec.js';
import { CliError, ExitCode } from '../errors.js';
import type { Output } from '../io.js';

/** Flags that shape how dataset folders are read (they apply to every `--dataset` of the command). */
export interface DatasetFlags {
  dataset?: DatasetSpec[];
  label?: string;
  imageDir?: string;
  csvFile?: string;
  imageColumn?: string;
  refColumn?: string;
  direction?: 'higher-better' | 'lower-better';
  layout?: 'official' | 'json' | 'pyiqa';
  splitFile?: string;
  skipInvalid?: boolean;
}

/** Adds `--dataset [<name>:]<key>=<path>` (repeatable) and the reading options. */
export function datasetOptions(cmd: Command, what = 'a dataset folder'): Command {
  return cmd
    .option(
      '--dataset <[name:]key=path>',
      `${what}, e.g. kadid10k=/data/kadid10k, or the folder alone to detect the key from its files; key one of ` +
        `${DATASET_KEYS.join(', ')} (or a spelling such as KADID-10k; see iqa-bench datasets keys); repeatable`,
      collectDataset,
    )
    .option(
      '--label <column>',
      'score column: koniq10k MOS_zscore (default) or MOS; agiqa3k mos_quality (default) or mos_align; csv: required',
    )
    .option(
      '--image-dir <dir>',
      'image folder relative to the root (koniq10k: 1024x768 or 512x384; agiqa3k, csv)',
    )
    .option('--csv-file <file>', 'csv: the metadata file relative to the root')
    .option('--image-column <column>', 'csv: the image-name column')
    .option('--ref-column <column>', 'csv: a reference-id column (makes random splits reference-disjoint)')
    .addOption(
      new Option('--direction <dir>', 'csv: score direction').choices(['higher-better', 'lower-better']),
    )
    .addOption(
      new Option(
        '--layout <layout>',
        "force a layout instead of detecting it ('json': the original's *_test.json files; 'pyiqa': pyiqa's meta_info_*.csv)",
      ).choices(['official', 'json', 'pyiqa']),
    )
    .option(
      '--split-file <file>',
      'pyiqa layout: a split pickle relative to the root (its splits are shipped as <file name>#<index>, for --shipped)',
    )
    .option(
      '--skip-invalid',
      'leave out images with problems (counted and reported) instead of stopping at the first',
    );
}

export function loadOptions(flags: DatasetFlags): LoadOptions {
  const o: LoadOptions = {};
  if (flags.label !== undefined) o.label = flags.label;
  if (flags.imageDir !== undefined) o.imageDir = flags.imageDir;
  if (flags.csvFile !== undefined) o.file = flags.csvFile;
  if (flags.imageColumn !== undefined) o.imageColumn = flags.imageColumn;
  if (flags.refColumn !== undefined) o.refColumn = flags.refColumn;
  if (flags.direction !== undefined) o.direction = flags.direction;
  if (flags.layout !== undefined) o.layout = flags.layout;
  if (flags.splitFile !== undefined) o.splitFile = flags.splitFile;
  if (flags.skipInvalid) o.onInvalid = 'skip';
  return o;
}

/**
 * The `--dataset` flags, named, with their keys checked (an unknown spelling is refused with the nearest key); at least
 * one (or exactly one) required. A folder given alone keeps an empty key: {@link specKey} detects it.
 */
export function datasetSpecs(flags: DatasetFlags, count: 'one' | 'some' = 'some'): DatasetSpec[] {
  const specs = nameDatasets(flags.dataset ?? []);
  if (specs.length === 0) throw new CliError('--dataset <key>=<path> is required');
  if (count === 'one' && specs.length > 1)
    throw new CliError(`--dataset: expected one dataset, got ${specs.length}`);
  for (const s of specs) {
    if (s.key === '' || (DATASET_KEYS as readonly string[]).includes(s.key)) continue;
    try {
      resolveDatasetKey(s.key);
    } catch (err) {
      if (!(err instanceof DatasetError)) throw err;
      throw new CliError(
        `--dataset ${s.key}=${s.path}: ${err.problems[0].message}; expected ${err.expected}\n` +
          'iqa-bench datasets keys lists the keys and their layouts',
        ExitCode.badInput,
        { cause: err },
      );
    }
  }
  return specs;
}

/** The key of a `--dataset`: as given, or detected from the folder's files (and logged) when only a folder was given. */
export async function specKey(out: Output, spec: DatasetSpec): Promise<DatasetKey> {
  if (spec.key !== '') return spec.key as DatasetKey;
  try {
    const found = await detectDatasetKey(out.path(spec.path));
    out.log(`${spec.name}: detected ${found.key} (${found.layout} layout: ${found.markers.join(', ')})`);
    return found.key;
  } catch (err) {
    if (!(err instanceof DatasetError)) throw err;
    throw new CliError(
      `--dataset ${spec.path}: ${formatProblem(err.problems[0])}\n` +
        `name the key: --dataset <key>=${spec.path} (iqa-bench datasets keys lists them)`,
      ExitCode.badInput,
      { cause: err },
    );
  }
}

/** Loads one `--dataset`, reporting skipped images (with `--skip-invalid`) as a warning. */
export async function loadSpec(out: Output, spec: DatasetSpec, flags: DatasetFlags): Promise<IqaDataset> {
  const key = await specKey(out, spec);
  let ds: IqaDataset;
  try {
    ds = await loadDataset(key, out.path(spec.path), loadOptions(flags));
  } catch (err) {
    if (!(err instanceof DatasetError)) throw err;
    const more = err.problems.length - 1;
    const hint =
      more > 0
        ? ` (and ${more} more problem(s): iqa-bench datasets verify --dataset ${key}=${spec.path} lists them all)`
        : '';
    throw new CliError(`${formatProblem(err.problems[0])}${hint}`, ExitCode.badInput, { cause: err });
  }
  if (ds.skipped.length > 0) {
    out.warn(
      `${spec.name}: ${ds.skipped.length} image(s) skipped (--skip-invalid); first: ${ds.skipped[0].reason}`,
    );
  }
  return ds;
}

/** A file path as shown to users: relative to the dataset root when inside it. */
export function showPath(root: string, file: string): string {
  const rel = relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith('/') ? rel : file;
}
