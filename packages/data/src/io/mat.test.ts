import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { matNumbers, matStrings, readMat } from './mat.js';

const dir = new URL('../../fixtures/mat/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')).variables as Record<
  string,
  { dims?: number[]; data?: number[]; text?: string; strings?: string[] }
>;

describe('readMat on files written by scipy.io.savemat', () => {
  for (const file of ['vars-compressed.mat', 'vars-uncompressed.mat']) {
    it(`reads every variable of ${file}`, () => {
      const vars = readMat(readFileSync(new URL(file, dir)));
      expect([...vars.keys()].sort()).toEqual(Object.keys(expected).sort());
      for (const [name, want] of Object.entries(expected)) {
        const v = vars.get(name);
        if (want.text !== undefined) {
          expect(v?.kind).toBe('char');
          expect(matStrings(vars, name)).toEqual([want.text]);
        } else if (want.strings !== undefined) {
          expect(v?.kind).toBe('cell');
          expect(v?.dims).toEqual(want.dims);
          expect(matStrings(vars, name)).toEqual(want.strings);
        } else {
          expect(v?.kind).toBe('numeric');
          expect(v?.dims).toEqual(want.dims);
          expect(Array.from(matNumbers(vars, name) as Float64Array)).toEqual(want.data);
        }
      }
    });
  }

  it('names the missing variable and what exists', () => {
    const vars = readMat(readFileSync(new URL('vars-compressed.mat', dir)));
    expect(matNumbers(vars, 'dmos_new')).toMatch(/no variable "dmos_new" \(found: .*row/);
    expect(matStrings(vars, 'row')).toMatch(/not a cell array of strings/);
  });
});

describe('readMat refuses malformed input', () => {
  const good = readFileSync(new URL('vars-uncompressed.mat', dir));
  it('truncated file', () => {
    expect(() => readMat(good.subarray(0, good.length - 40))).toThrow(/truncated|claims \d+ bytes/);
  });
  it('too short for a header', () => {
    expect(() => readMat(good.subarray(0, 100))).toThrow(/128-byte MAT header/);
  });
  it('HDF5 (v7.3) files', () => {
    const h = Buffer.alloc(600);
    h.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(() => readMat(h)).toThrow(/v7\.3/);
  });
  it('no endian indicator', () => {
    const b = Buffer.from(good);
    b[126] = 0;
    expect(() => readMat(b)).toThrow(/endian indicator/);
  });
  it('a compressed element that inflates past the bound', () => {
    const payload = deflateSync(Buffer.alloc(4096));
    const tag = Buffer.alloc(8);
    tag.writeUInt32LE(15, 0);
    tag.writeUInt32LE(payload.length, 4);
    const file = Buffer.concat([good.subarray(0, 128), tag, payload]);
    expect(() => readMat(file, { maxInflatedBytes: 1024 })).toThrow(/cannot inflate/);
  });
  it('corrupt compressed data', () => {
    const comp = Buffer.from(readFileSync(new URL('vars-compressed.mat', dir)));
    comp.fill(0x55, 140, 160);
    expect(() => readMat(comp)).toThrow(/inflate|matrix|truncated|claims/);
  });
});
