/**
 * The mutators themselves stay inside their own bounds: every input they build is a small file, and no mutation
 * throws on the damaged buffers earlier mutations leave (a fuzzer bug would otherwise hide behind a reader's result).
 */
import { describe, expect, it } from 'vitest';
import { mutateSpec } from './formats/weights.js';
import { matFile, mutateMat } from './mutate/mat.js';
import { torchLegacy, type TorchSpec } from './mutate/pickle.js';
import { Rng } from './rng.js';

function spec(): TorchSpec {
  return {
    storages: [{ key: '0', dtype: 'float32', numel: 6, data: new Uint8Array(24), location: 'cpu' }],
    tensors: [{ name: 'w', storage: '0', offset: 0, shape: [2, 3], stride: [3, 1] }],
  };
}

describe('fuzzer mutators', () => {
  it('torch specs stay small files after chains of mutations (a declared 2^31 elements is not allocated)', () => {
    for (let run = 0; run < 300; run++) {
      const rng = new Rng('mutators', 'torch', run);
      let s = spec();
      for (let i = 0; i < 6; i++) s = mutateSpec(s, rng).spec;
      expect(torchLegacy(s).length).toBeLessThan(64 * 2 ** 20);
    }
  });

  it('MAT mutations never throw on cut files or tags whose size runs past the end', () => {
    const file = matFile([['AllMOS_release', { numeric: [1.5, 2.5, 3.5, 4.5] }]]);
    for (let run = 0; run < 2000; run++) {
      const rng = new Rng('mutators', 'mat', run);
      let b = file.subarray(0, file.length - rng.int(24));
      for (let i = 0; i < 4; i++) b = mutateMat(b, rng).bytes;
      expect(b.length).toBeLessThan(1 << 20);
    }
  });
});
