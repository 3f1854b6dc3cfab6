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

  it.each(['=/data', ':kadid10k=/x', 'kadid10k=', ''])('refuses %j', (bad) => {
    expect(() => collectDataset(bad, undefined)).toThrow(
      'expected <key>=<path>, <name>:<key>=<path> or a dataset folder, e.g. kadid10k=/data/kadid10k or /data/kadid10k.',
    );
  });

  it('resolves common spellings of a key, keeps unknown ones for the error, and takes a folder alone', () => {
    const specs = [
      'KADID-10k=/a',
      'live_challenge=/b',
      'c:LIVE Challenge=/c',
      'KADID=/d',
      '/data/kadid10k',
      'kadid10k',
      'C:\\data\\x=1',
      './v=2',
    ].reduce((acc, v) => collectDataset(v, acc), [] as ReturnType<typeof collectDataset>);
    expect(specs).toEqual([
      { name: '', key: 'kadid10k', path: '/a' },
      { name: '', key: 'livec', path: '/b' },
      { name: 'c', key: 'livec', path: '/c' },
      { name: '', key: 'KADID', path: '/d' },
      { name: '', key: '', path: '/data/kadid10k' },
      { name: '', key: '', path: 'kadid10k' },
      { name: '', key: '', path: 'C:\\data\\x=1' },
      { name: '', key: '', path: './v=2' },
    ]);
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

  it('names a folder given alone by the folder', () => {
    const specs = ['/data/kadid-one/', '/data/koniq', 'kadid10k=/data/k'].reduce(
      (acc, v) => collectDataset(v, acc),
      [] as ReturnType<typeof collectDataset>,
    );
    expect(nameDatasets(specs).map((s) => s.name)).toEqual(['kadid-one', 'koniq', 'kadid10k']);
    const dup = ['/a/x', '/b/x'].reduce(
      (acc, v) => collectDataset(v, acc),
      [] as ReturnType<typeof collectDataset>,
    );
    expect(() => nameDatasets(dup)).toThrow(
      'two datasets are named "x"; name them: --dataset <name>:<key>=<path>',
    );
  });
});
