import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { element, int32s, matFile, matrix, uint32s } from '../__tests__/mat.js';
import { MatFormatError, matNumbers, matStrings, readMat } from './mat.js';

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

function matError(buf: Buffer): MatFormatError {
  let err: unknown = null;
  try {
    readMat(buf);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(MatFormatError);
  return err as MatFormatError;
}

describe('readMat decodes char arrays as MATLAB holds them and refuses what is not text', () => {
  const text = (buf: Buffer, name: string): string => {
    const v = readMat(buf).get(name);
    expect(v?.kind).toBe('char');
    return v?.kind === 'char' ? v.text : '';
  };

  it('refuses an int32 char element 0x7fffffff, naming the variable (was a RangeError)', () => {
    const e = matError(matFile(matrix('refnames_all', 4, [1, 2], element(5, int32s([0x41, 0x7fffffff])))));
    expect(e.variable).toBe('refnames_all');
    expect(e.message).toBe(
      `char array "refnames_all" holds 2147483647 at position 2, which is not a character (expected MATLAB's UTF-16 code units, integers 0-65535)`,
    );
  });

  it('refuses fractional, negative and out-of-range codes, inside cells too', () => {
    const half = Buffer.alloc(8);
    half.writeDoubleLE(55.5, 0);
    expect(matError(matFile(matrix('x', 4, [1, 1], element(9, half)))).message).toMatch(
      /holds 55\.5 at position 1/,
    );
    expect(matError(matFile(matrix('x', 4, [1, 1], element(5, int32s([-1]))))).message).toMatch(/holds -1/);
    expect(matError(matFile(matrix('x', 4, [1, 1], element(6, uint32s([0x10000]))))).message).toMatch(
      /holds 65536/,
    );
    const cell = matrix(
      'names',
      1,
      [2, 1],
      Buffer.concat([
        matrix('', 4, [1, 1], element(4, Buffer.from([0x61, 0]))),
        matrix('', 4, [1, 1], element(5, int32s([0x7fffffff]))),
      ]),
    );
    const e = matError(matFile(cell));
    expect(e.variable).toBe('names');
    expect(e.message).toMatch(/^char array "names"\{2\} holds 2147483647 at position 1/);
  });

  it('reads UTF-16 code units: surrogate pairs join, an unpaired surrogate stays as MATLAB holds it', () => {
    const u16 = (v: number[]): Buffer => Buffer.from(Uint16Array.from(v).buffer);
    expect(text(matFile(matrix('s', 4, [1, 4], element(4, u16([0x61, 0xd83d, 0xde00, 0x62])))), 's')).toBe(
      'a\u{1f600}b',
    );
    expect(text(matFile(matrix('s', 4, [1, 2], element(17, u16([0xd800, 0x62])))), 's')).toBe('\ud800b');
  });

  it('reads UTF-32 code points and refuses surrogates and values past U+10FFFF there', () => {
    expect(text(matFile(matrix('s', 4, [1, 1], element(18, uint32s([0x1f600])))), 's')).toBe('\u{1f600}');
    for (const bad of [0xd800, 0x110000, 0x7fffffff]) {
      expect(matError(matFile(matrix('s', 4, [1, 1], element(18, uint32s([bad]))))).message).toMatch(
        /not a character \(expected Unicode code points\)/,
      );
    }
  });

  it('refuses invalid UTF-8', () => {
    const e = matError(matFile(matrix('u', 4, [1, 2], element(16, Buffer.from([0x61, 0xff])))));
    expect(e.message).toBe('char array "u" is not valid UTF-8');
    expect(e.variable).toBe('u');
  });

  it('lays out multi-row char arrays written by scipy (UTF-8, dimensions in code points)', () => {
    const want = JSON.parse(readFileSync(new URL('chars.json', dir), 'utf8')).text as Record<string, string>;
    const vars = readMat(readFileSync(new URL('chars.mat', dir)));
    for (const [name, t] of Object.entries(want)) {
      const v = vars.get(name);
      expect(v?.kind === 'char' ? v.text : undefined, name).toBe(t);
    }
    expect(matStrings(vars, 'rows')).toEqual(['ab', 'cd', 'ef']);
  });

  it('refuses a multi-row char array whose text does not fill its dimensions', () => {
    expect(matError(matFile(matrix('m', 4, [2, 2], element(16, Buffer.from('abc'))))).message).toBe(
      'char array "m" holds 3 characters for dimensions [2x2]',
    );
  });
});

describe('readMat throws only MatFormatError on mutated files', () => {
  it('every 32-bit word of both fixtures overwritten with boundary values', () => {
    const values = [0, 1, 4, 5, 9, 14, 16, 18, 0xd800, 0x7fffffff, 0x80000000, 0xffffffff];
    let refused = 0;
    for (const file of ['vars-uncompressed.mat', 'chars.mat']) {
      const good = readFileSync(new URL(file, dir));
      for (let p = 128; p + 4 <= good.length; p += 4) {
        for (const v of values) {
          const b = Buffer.from(good);
          b.writeUInt32LE(v, p);
          try {
            readMat(b, { maxInflatedBytes: 1 << 20 });
          } catch (e) {
            if (!(e instanceof MatFormatError)) throw new Error(`${file}: word at ${p} = ${v}: ${String(e)}`);
            refused++;
          }
        }
      }
    }
    expect(refused).toBeGreaterThan(1000);
  });
});
