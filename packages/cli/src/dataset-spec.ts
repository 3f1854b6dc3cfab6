import { basename } from 'node:path';
import { resolveDatasetKey } from '@iqa-bench/data';
import { InvalidArgumentError } from 'commander';
import { CliError } from './errors.js';

/** A `--dataset [<name>:]<key>=<path>` (or `--dataset <path>`) flag. */
export interface DatasetSpec {
  /**
   * How results name it: `<name>` if given, else the key (made unique with the folder name when a key repeats), or
   * the folder's name when the key is to be detected.
   */
  name: string;
  /**
   * The key: a known spelling is already resolved (`KADID-10k` → `kadid10k`), an unknown one is kept as written for
   * the error; `''` when only a folder was given and the key is to be detected from its files.
   */
  key: string;
  path: string;
}

const USAGE =
  'expected <key>=<path>, <name>:<key>=<path> or a dataset folder, e.g. kadid10k=/data/kadid10k or /data/kadid10k.';

/**
 * Collects repeated `--dataset` flags (commander option parser): `[<name>:]<key>=<path>`, where the key may be spelled
 * as users write it (`KADID-10k`, `live_challenge`), or a folder alone (its key is detected when it is read).
 */
export function collectDataset(value: string, previous: DatasetSpec[] | undefined): DatasetSpec[] {
  if (value === '' || value.startsWith('=') || value.startsWith(':') || value.endsWith('=')) {
    throw new InvalidArgumentError(USAGE);
  }
  const m = /^(?:([A-Za-z0-9][\w.-]*):)?([A-Za-z0-9][\w .-]*)=(.+)$/.exec(value);
  if (m === null) return [...(previous ?? []), { name: '', key: '', path: value }];
  const [, name, spelling, path] = m;
  let key = spelling;
  try {
    key = resolveDatasetKey(spelling);
  } catch {
    // kept as written: datasetSpecs() reports it with the nearest key
  }
  return [...(previous ?? []), { name: name ?? '', key, path }];
}

/**
 * Fills in names: the key, `<key>-<folder>` when several datasets share a key and have no explicit name, or the
 * folder's name when the key is to be detected.
 */
export function nameDatasets(specs: readonly DatasetSpec[]): DatasetSpec[] {
  const count = new Map<string, number>();
  for (const s of specs) if (s.name === '') count.set(s.key, (count.get(s.key) ?? 0) + 1);
  const named = specs.map((s) => {
    if (s.name !== '') return s;
    const folder = basename(s.path.replace(/[\\/]+$/, '')) || 'root';
    if (s.key === '') return { ...s, name: folder };
    return { ...s, name: (count.get(s.key) ?? 0) > 1 ? `${s.key}-${folder}` : s.key };
  });
  const seen = new Set<string>();
  for (const s of named) {
    if (seen.has(s.name)) {
      throw new CliError(
        `--dataset: two datasets are named "${s.name}"; name them: --dataset <name>:${s.key || '<key>'}=<path>`,
      );
    }
    seen.add(s.name);
  }
  return named;
}
