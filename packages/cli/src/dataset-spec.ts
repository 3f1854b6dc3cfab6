import { basename } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { CliError } from './errors.js';

/** A `--dataset [<name>:]<key>=<path>` flag. */
export interface DatasetSpec {
  /** How results name it: `<name>` if given, else the key (made unique with the folder name when a key repeats). */
  name: string;
  key: string;
  path: string;
}

/** Collects repeated `--dataset [<name>:]<key>=<path>` flags (commander option parser). */
export function collectDataset(value: string, previous: DatasetSpec[] | undefined): DatasetSpec[] {
  const m = /^(?:([A-Za-z0-9][\w.-]*):)?([a-z0-9]+)=(.+)$/.exec(value);
  if (m === null) {
    throw new InvalidArgumentError(
      'expected <key>=<path> or <name>:<key>=<path>, e.g. kadid10k=/data/kadid10k.',
    );
  }
  const [, name, key, path] = m;
  return [...(previous ?? []), { name: name ?? '', key, path }];
}

/** Fills in names: the key, or `<key>-<folder>` when several datasets share a key and have no explicit name. */
export function nameDatasets(specs: readonly DatasetSpec[]): DatasetSpec[] {
  const count = new Map<string, number>();
  for (const s of specs) if (s.name === '') count.set(s.key, (count.get(s.key) ?? 0) + 1);
  const named = specs.map((s) => {
    if (s.name !== '') return s;
    const folder = basename(s.path.replace(/[\\/]+$/, '')) || 'root';
    return { ...s, name: (count.get(s.key) ?? 0) > 1 ? `${s.key}-${folder}` : s.key };
  });
  const seen = new Set<string>();
  for (const s of named) {
    if (seen.has(s.name)) {
      throw new CliError(
        `--dataset: two datasets are named "${s.name}"; name them: --dataset <name>:${s.key}=<path>`,
      );
    }
    seen.add(s.name);
  }
  return named;
}
