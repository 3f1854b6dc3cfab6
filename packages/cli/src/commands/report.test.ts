import { describe, expect, it } from 'vitest';
import { shortName } from '../scoring.js';
import { parseResultArg, settingsLine, uniqueLabels } from './report.js';

describe('report --result labels', () => {
  it('reads <label>=<file>, and a file name with = in it that exists', () => {
    const none = () => false;
    expect(parseResultArg('tiny=runs/tiny/cross.json', none)).toEqual({
      label: 'tiny',
      file: 'runs/tiny/cross.json',
    });
    expect(parseResultArg('cross.json', none)).toEqual({ file: 'cross.json' });
    expect(parseResultArg('a=b.json', (f) => f === 'a=b.json')).toEqual({ file: 'a=b.json' });
    expect(parseResultArg('runs/x=1/cross.json', none)).toEqual({ file: 'runs/x=1/cross.json' });
    expect(() => parseResultArg('tiny=', none)).toThrow('--result tiny=: expected <label>=<file> or <file>');
  });

  it('labels checkpoints by their short name', () => {
    expect(shortName('runs/koniq-tiny.safetensors')).toBe('koniq-tiny');
    expect(shortName('/ckpt/smart_base/best_model_srcc_0.9378.pkl')).toBe(
      'smart_base/best_model_srcc_0.9378',
    );
    expect(shortName('runs/koniq/round-0/best.safetensors')).toBe('koniq/round-0/best');
    expect(shortName('runs/koniq/checkpoints/epoch-3/last.pth')).toBe('koniq/checkpoints/epoch-3/last');
    expect(shortName('web/smart-base/model.json')).toBe('smart-base');
    expect(shortName('web/smart-base/')).toBe('smart-base');
  });

  it('results with the same name no longer collide', () => {
    expect(
      uniqueLabels([
        { fallback: 'cross', file: 'a/cross.json' },
        { fallback: 'cross', file: 'b/cross.json' },
        { fallback: 'tiny', file: 'runs/t1/eval.json' },
        { given: 'mine', fallback: 'tiny', file: 'x.json' },
      ]),
    ).toEqual(['a/cross', 'b/cross', 'tiny', 'mine']);
    expect(
      uniqueLabels([
        { fallback: 'tiny', file: 'runs/a/cross.json' },
        { fallback: 'tiny', file: 'runs/b/cross.json' },
      ]),
    ).toEqual(['tiny (a/cross)', 'tiny (b/cross)']);
    // A default label that equals a given one gives way.
    expect(
      uniqueLabels([
        { given: 'tiny', fallback: 'x', file: 'x.json' },
        { fallback: 'tiny', file: 'r/cross.json' },
      ]),
    ).toEqual(['tiny', 'tiny (cross)']);
    expect(
      uniqueLabels([
        { fallback: 'c', file: 'c.json' },
        { fallback: 'c', file: 'c.json' },
      ]),
    ).toEqual(['c', 'c #2']);
    expect(() =>
      uniqueLabels([
        { given: 'a', fallback: 'x', file: 'x.json' },
        { given: 'a', fallback: 'y', file: 'y.json' },
      ]),
    ).toThrow('--result: the label "a" is given twice');
  });
});

describe('report settings line', () => {
  it('states patches, crop, preprocessing, seed, backend, the architecture and the producer', () => {
    expect(
      settingsLine({
        producer: '@iqa-bench/cli 0.1.0',
        settings: {
          patches: 25,
          crop: 'random',
          preprocess: { kadid10k: 'seed', spaq: 'seed', live: 'none' },
          seed: 1,
          backend: 'wasm',
          model:
            'm.pkl: torch-zip, architecture inferred from the tensors: smart-iqa, Swin (embed 96, depths 2-2-6-2, heads 3-6-12-24), 224x224 input, fusion attention',
        },
      }),
    ).toBe(
      'patches 25, crop random, preprocessing seed (kadid10k, spaq), none (live), seed 1, backend wasm; model smart-iqa, Swin (embed 96, depths 2-2-6-2, heads 3-6-12-24), 224x224 input, fusion attention; @iqa-bench/cli 0.1.0',
    );
    expect(settingsLine({ settings: { preprocess: { a: 'seed', b: 'seed' }, patches: { evil: 1 } } })).toBe(
      'preprocessing seed',
    );
    expect(settingsLine({ schema: 'x' })).toBeUndefined();
  });
});
