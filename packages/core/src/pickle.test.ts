import { describe, expect, it } from 'vitest';
import type { GlobalHandler, PySet } from './pickle.js';
import { PyDict, PyTuple, unpickle } from './pickle.js';

const none = new Map<string, GlobalHandler>();
const b = (...xs: (number | string)[]): Uint8Array =>
  new Uint8Array(xs.flatMap((x) => (typeof x === 'string' ? [...Buffer.from(x, 'latin1')] : [x])));
const run = (bytes: Uint8Array, globals = none, limits = {}) =>
  unpickle(bytes, { source: 't.pkl', globals, limits }).value;

describe('unpickle', () => {
  // The well-formed byte strings below were written by hand and checked with CPython 3's pickle.loads (same values).
  it('decodes protocol-2 scalars and containers', () => {
    // {'a': [1, -2, 2**40, 1.5, None, True], 'b': (b'\x00\xff', 'é')}
    const v = run(
      b(
        0x80,
        2,
        '}',
        '(',
        'X',
        1,
        0,
        0,
        0,
        'a',
        ']',
        '(',
        'K',
        1,
        'J',
        0xfe,
        0xff,
        0xff,
        0xff,
        0x8a,
        6,
        0,
        0,
        0,
        0,
        0,
        1,
        'G',
        0x3f,
        0xf8,
        0,
        0,
        0,
        0,
        0,
        0,
        'N',
        0x88,
        'e',
        'X',
        1,
        0,
        0,
        0,
        'b',
        'C',
        2,
        0,
        0xff,
        'X',
        2,
        0,
        0,
        0,
        0xc3,
        0xa9,
        0x86,
        'u',
        '.',
      ),
    );
    expect(v).toBeInstanceOf(PyDict);
    const d = v as PyDict;
    expect(d.map.get('a')).toEqual([1, -2, 2 ** 40, 1.5, null, true]);
    const t = d.map.get('b') as PyTuple;
    expect(t.items[0]).toEqual(new Uint8Array([0, 0xff]));
    expect(t.items[1]).toBe('é');
  });

  it('decodes protocol-4 framing, MEMOIZE, SHORT_BINUNICODE, sets and LONG1 bigints', () => {
    // [{1, 2}, 'x', 'x', 2**70] in protocol 4: a frame, memoised string reused via BINGET
    const v = run(
      b(
        0x80,
        4,
        0x95,
        30,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        ']',
        0x94,
        '(',
        0x8f,
        0x94,
        '(',
        'K',
        1,
        'K',
        2,
        0x90,
        0x8c,
        1,
        'x',
        0x94,
        'h',
        2,
        0x8a,
        9,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0x40,
        'e',
        '.',
      ),
    ) as unknown[];
    expect((v[0] as PySet).items).toEqual([1, 2]);
    expect(v[1]).toBe('x');
    expect(v[2]).toBe('x');
    expect(v[3]).toBe(2n ** 70n);
  });

  it('keeps keys such as __proto__ as plain data', () => {
    const v = run(b(0x80, 2, '}', 'X', 9, 0, 0, 0, '__proto__', 'K', 1, 's', '.')) as PyDict;
    expect(v.map.get('__proto__')).toBe(1);
    expect(({} as Record<string, unknown>)['1']).toBeUndefined();
  });

  it('calls only allow-listed handlers and names refused globals', () => {
    let calls = 0;
    const globals = new Map<string, GlobalHandler>([
      ['m.f', { call: (args) => ((calls += 1), new PyTuple(args)) }],
    ]);
    expect(run(b(0x80, 2, 'c', 'm\nf\n', 'K', 7, 0x85, 'R', '.'), globals)).toEqual(new PyTuple([7]));
    expect(calls).toBe(1);
    expect(() => run(b(0x80, 2, 'c', 'os\nsystem\n', 'X', 1, 0, 0, 0, 'x', 0x85, 'R', '.'), globals)).toThrow(
      /t\.pkl: refusing to load: the pickle refers to the Python global 'os\.system', which is not allowed .*only these globals are accepted: m\.f\)/,
    );
    expect(() => run(b(0x80, 4, 0x8c, 2, 'os', 0x8c, 6, 'system', 0x93, '.'), globals)).toThrow(
      /'os\.system'/,
    );
    // REDUCE on something that is not a global
    expect(() => run(b(0x80, 2, 'X', 1, 0, 0, 0, 'x', ')', 'R', '.'))).toThrow(
      /REDUCE on a str, which is not an allowed callable/,
    );
    // protocol-0 instantiation opcodes are refused outright
    expect(() => run(b('(', 'i', 'os\nsystem\n', '.'))).toThrow(/INST\/OBJ/);
  });

  it('enforces memo, stack and mark bounds and rejects malformed input', () => {
    const manyPuts = b(0x80, 2, 'N', ...Array.from({ length: 5 }, (_, i) => ['q', i]).flat(), '.');
    expect(() => run(manyPuts, none, { maxMemo: 4 })).toThrow(/memo exceeds 4 entries/);
    expect(() => run(b(0x80, 2, 'N', '2', '2', '2', '.'), none, { maxStack: 3 })).toThrow(
      /stack exceeds 3 items/,
    );
    expect(() => run(b(0x80, 2, '(', '(', '(', '.'), none, { maxMarks: 2 })).toThrow(
      /MARK nesting exceeds 2/,
    );
    expect(() => run(b(0x80, 2, 0x8b, 0, 1, 0, 0))).toThrow(/integer of 256 bytes exceeds 64/);
    expect(() => run(b(0x80, 2, 'X', 0xff, 0xff, 0xff, 0x7f))).toThrow(
      /truncated: needs 2147483647 more bytes/,
    );
    expect(() => run(b(0x80, 2, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x40))).toThrow(
      /declared length \d+ exceeds the data/,
    );
    expect(() => run(b(0x80, 2, 'h', 3, '.'))).toThrow(/memo key 3 is not defined/);
    expect(() => run(b(0x80, 2, '.'))).toThrow(/t\.pkl: pickle at byte 2: stack underflow/);
    expect(() => run(b(0x80, 6, 'N', '.'))).toThrow(/unsupported pickle protocol 6/);
    expect(() => run(b(0x80, 2, 0xff))).toThrow(/unknown opcode 0xff/);
    expect(() => run(b(0x80, 2, 'N', 'N', 'N', 's', '.'))).toThrow(/SETITEM\(S\) on a None/);
    expect(() => run(b(0x80, 2, 'N'))).toThrow(/truncated/);
  });
});
