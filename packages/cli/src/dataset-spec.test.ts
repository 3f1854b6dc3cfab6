import { describe, expect, it } from 'vitest';
import { collectDataset, nameDatasets } from './dataset-spec.js';

describe('--dataset specs', () => {
  it('parses <key>=<path> and <name>:<key>=<path>, keeping "=" and ":" inside the path', () => {
    let specs = collectDataset('kadid10k=/data/kadid=v2', undefined);
    specs = collectDataset('blur:kadid10k=C:\\data\\x', specs);
    expect(specs).toEqual([
      { name: '', key: 'kadid10k', path: '/data/kadid=v2' },
      { name: 'blur', key: 'kadid10k', path: 'C:\\data\\x' },
    ]);
  });

  it.each(['kadid10k', '=/data', 'KADID=/x', ':kadid10k=/x', 'kadid10k='])('refuses %j', (bad) => {
    expect(() => collectDataset(bad, undefined)).toThrow('expected <key>=<path> or <name>:<key>=<path>');
  });

  it('names repeated keys by folder and refuses duplicate names', () => {
    const specs = ['kadid10k=/a/synth-one/', 'kadid10k=/b/synth-two', 'koniq10k=/c/k'].reduce(
      (acc, v) => collectDataset(v, acc),
      [] as ReturnType<typeof collectDataset>,
    );
    expect(nameDatasets(specs).map((s) => s.name)).toEqual([
      'kadid10k-synth-one',
      'kadid10k-synth-two',
      'koniq10k',
    ]);
    const dup = ['kadid10k=/a/x', 'kadid10k=/b/x'].reduce(
      (acc, v) => collectDataset(v, acc),
      [] as ReturnType<typeof collectDataset>,
    );
    expect(() => nameDatasets(dup)).toThrow('two datasets are named "kadid10k-x"');
  });
});
