import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readStructuredFile, readStructuredFileSync } from './fs.js';
import {
  dataDepth,
  getPath,
  parseStructuredText,
  setPath,
  TextFileError,
  textFormatOf,
  textNestingBound,
} from './text.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iqa-core-text-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const yaml = (text: string, maxDepth?: number): unknown =>
  parseStructuredText(text, { file: 'c.yaml', format: 'yaml', maxDepth });
const json = (text: string, maxDepth?: number): unknown =>
  parseStructuredText(text, { file: 'c.json', format: 'json', maxDepth });

describe('parseStructuredText', () => {
  it('parses plain data', () => {
    expect(yaml('model:\n  preset: smart-iqa-tiny\n  dims: [1, 2]\nlr: 1e-5\n')).toEqual({
      model: { preset: 'smart-iqa-tiny', dims: [1, 2] },
      lr: 1e-5,
    });
    expect(json('{"a": [1, {"b": null}]}')).toEqual({ a: [1, { b: null }] });
  });

  it.each([
    ['1,000 nested [ in YAML', 'yaml', '['.repeat(1000)],
    ['1,000 nested { in YAML', 'yaml', '{a: '.repeat(1000)],
    ['1,000 nested [ in JSON', 'json', '['.repeat(1000) + ']'.repeat(1000)],
    ['100,000 nested [ in JSON', 'json', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['a block sequence of 1,000 dashes', 'yaml', '- '.repeat(1000) + 'x\n'],
    [
      '1,000 indented mapping levels',
      'yaml',
      Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1\n',
    ],
  ] as const)('refuses %s with a clear message, not a stack overflow', (_, format, text) => {
    const file = `c.${format}`;
    let err: unknown;
    try {
      parseStructuredText(text, { file, format });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TextFileError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^c\\.${format}:(1|65|66):\\d+: not valid ${format.toUpperCase()}: nested more than 64 levels deep$`,
      ),
    );
  });

  it('accepts nesting up to the limit, counting brackets inside strings and comments as text', () => {
    expect(dataDepth(yaml('a: [[[1]]]', 4))).toBe(4);
    expect(() => yaml('a: [[[[1]]]]', 4)).toThrow(/nested more than 4 levels/);
    expect(yaml(`a: "[[[[[[[["\nb: '{{{{{{{{''{{'\nc: 1 # [[[[[[[[[[\n`, 3)).toEqual({
      a: '[[[[[[[[',
      b: "{{{{{{{{'{{",
      c: 1,
    });
  });

  it('refuses alias expansions that nest deeper than the text shows, and alias bombs', () => {
    const chain = ['a0: &a0 [1]', ...Array.from({ length: 5 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}]`)];
    expect(dataDepth(yaml(chain.join('\n'), 20))).toBe(7);
    expect(() => yaml(chain.join('\n'), 5)).toThrow(
      /^c\.yaml: not valid YAML: nested more than 5 levels deep$/,
    );
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++)
      bomb.push(`${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`);
    expect(() => yaml(bomb.join('\n'))).toThrow(TextFileError);
  });

  it('names the line and column of a syntax error', () => {
    let err: TextFileError | undefined;
    try {
      yaml('a: 1\nb: [1, 2\nc: 3\n');
    } catch (e) {
      err = e as TextFileError;
    }
    expect(err).toBeInstanceOf(TextFileError);
    expect(err!.file).toBe('c.yaml');
    expect(err!.line).toBeGreaterThanOrEqual(2);
    expect(err!.message).toMatch(/^c\.yaml:\d+:\d+: not valid YAML: /);
    expect(err!.message).not.toContain('\n');
    expect(() => json('{"a": 1,}')).toThrow(/^c\.json: not valid JSON: /);
    expect(() => yaml('a: 1\na: 2\n')).toThrow(/not valid YAML: Map keys must be unique/);
  });

  it('builds plain data only: a tag outside the core schema is refused, with its position', () => {
    expect(() => yaml('a: 1\nb: !!js/function "function () { return 1 }"')).toThrow(
      /^c\.yaml:2:4: not valid YAML: Unresolved tag: tag:yaml\.org,2002:js\/function/,
    );
    expect(() => yaml('a: !custom 3')).toThrow(/^c\.yaml:1:4: not valid YAML: Unresolved tag: !custom/);
    expect(yaml('a: !!str 3\nb: !!int "4"')).toEqual({ a: '3', b: 4 });
  });

  it('refuses a list longer than maxItems anywhere in the data, when asked', () => {
    const text = JSON.stringify({ a: { b: Array.from({ length: 200_001 }, (_, i) => i) } });
    expect(() => json(text)).not.toThrow();
    expect(() => parseStructuredText(text, { file: 'c.json', format: 'json', maxItems: 65_536 })).toThrow(
      'c.json: a list of 200001 items, expected at most 65536',
    );
  });

  it('textNestingBound is an upper bound of the data depth', () => {
    for (const t of ['a: 1', 'a:\n  b:\n    c: [1, {d: 2}]', '- - - 1', '[[1], [2, [3]]]']) {
      expect(textNestingBound(t).depth).toBeGreaterThanOrEqual(dataDepth(yaml(t)));
    }
  });
});

describe('readStructuredFile', () => {
  it('reads .json, .yaml and .yml by extension, and refuses other extensions, big files and non-UTF-8 bytes', async () => {
    expect(textFormatOf('a.YML')).toBe('yaml');
    expect(textFormatOf('a.txt')).toBeUndefined();
    const y = join(dir, 'c.yml');
    writeFileSync(y, 'a: 1\n');
    expect(await readStructuredFile(y)).toEqual({ a: 1 });
    expect(readStructuredFileSync(y)).toEqual({ a: 1 });
    const t = join(dir, 'c.txt');
    writeFileSync(t, 'a: 1\n');
    await expect(readStructuredFile(t)).rejects.toThrow(
      `${t}: expected a .json, .yaml or .yml file, got ".txt"`,
    );
    expect(() => readStructuredFileSync(t, { format: 'yaml' })).not.toThrow();
    await expect(readStructuredFile(y, { maxBytes: 3, what: 'config file' })).rejects.toThrow(
      /config file is 5 bytes, expected at most 3/,
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, Buffer.from([0x7b, 0xff, 0x7d]));
    await expect(readStructuredFile(bad)).rejects.toThrow(`${bad}: not UTF-8 text`);
  });
});

describe('getPath / setPath (dotted field paths)', () => {
  it('reads and writes nested fields, creating sections and replacing non-object values on the way', () => {
    const o: Record<string, unknown> = { model: { fusion: 'attention', head: 3 }, lr: 1 };
    expect(getPath(o, 'model.fusion')).toBe('attention');
    expect(getPath(o, 'model.missing.deeper')).toBeUndefined();
    expect(getPath(o, 'lr.toFixed')).toBeUndefined();
    setPath(o, 'model.head.width', 8);
    setPath(o, 'optim.lr', 5e-7);
    expect(o).toEqual({ model: { fusion: 'attention', head: { width: 8 } }, lr: 1, optim: { lr: 5e-7 } });
  });

  it('refuses prototype keys and never reads inherited ones', () => {
    expect(() => setPath({}, '__proto__.polluted', 1)).toThrow(/"__proto__"/);
    expect(() => setPath({}, 'a.constructor.prototype', 1)).toThrow(/field path "a.constructor.prototype"/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(getPath({}, 'toString')).toBeUndefined();
  });
});
