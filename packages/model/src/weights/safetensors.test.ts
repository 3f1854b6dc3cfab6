import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffExpected, fixture, readExpected } from './__tests__/fixtures.js';
import { parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors } from './safetensors.js';
import type { StateDict } from './state-dict.js';
import { floatToHalf, halfToFloat } from './state-dict.js';

const tmp = mkdtempSync(join(tmpdir(), 'iqa-st-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function header(obj: string, body = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(obj);
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('reads a file written by Python (every dtype) with the values PyTorch wrote', async () => {
    const { tensors, metadata } = await readSafetensors(fixture('golden.safetensors'));
    expect(diffExpected(tensors, readExpected('golden'))).toEqual([]);
    expect({ ...metadata }).toEqual({ format: 'pt', note: 'Grüße, "quoted" \\ and / slash' });
  });

  it.each(['golden.safetensors', 'golden-nometa.safetensors'])('%s round-trips byte-exactly', (name) => {
    const bytes = new Uint8Array(readFileSync(fixture(name)));
    const { tensors, metadata } = parseSafetensors(bytes, name);
    expect(Buffer.from(serializeSafetensors(tensors, metadata)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('writes atomically and reads back; no temporary file is left', async () => {
    const sd: StateDict = new Map([
      ['b', { dtype: 'float32', shape: [2], data: new Float32Array([1, -2]) }],
      ['a', { dtype: 'int64', shape: [], data: new BigInt64Array([5n]) }],
    ]);
    const p = join(tmp, 'x.safetensors');
    await writeSafetensors(p, sd, { config: '{"a":1}' });
    expect(readdirSync(tmp)).toEqual(['x.safetensors']);
    const back = await readSafetensors(p);
    expect([...back.tensors.keys()]).toEqual(['b', 'a']);
    expect(back.tensors.get('a')?.data).toEqual(new BigInt64Array([5n]));
    expect(back.metadata.config).toBe('{"a":1}');
    const bytes = readFileSync(p);
    expect((8 + Number(bytes.readBigUInt64LE(0))) % 8).toBe(0);
  });

  it.each([
    [
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}',
      4,
      /tensor 'a': float32 \[2\] needs 8 bytes but data_offsets span 4/,
    ],
    [
      '{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}',
      1,
      /tensor 'a': unsupported dtype "F8_E4M3"/,
    ],
    [
      '{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}',
      4,
      /shape must be a list of non-negative integers/,
    ],
    ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8, /tensor 'a' starts at 4, expected 0/],
    [
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
      8,
      /covers 4 bytes but the file has 8 after the header/,
    ],
    ['{"__metadata__":{"k":1}}', 0, /__metadata__\['k'\] must be a string/],
    ['[1,2]', 0, /header does not start with '\{'/],
    ['{"a":', 0, /header is not valid JSON/],
  ])('rejects %s', (json, body, message) => {
    expect(() => parseSafetensors(header(json, new Uint8Array(body)), 'bad.safetensors')).toThrow(message);
  });

  it('does not let header keys reach object prototypes', () => {
    const { tensors, metadata } = parseSafetensors(
      header(
        '{"__metadata__":{"__proto__":"x"},"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}',
        new Uint8Array([7]),
      ),
    );
    expect(tensors.get('__proto__')?.data[0]).toBe(7);
    expect(Object.getPrototypeOf(metadata)).toBeNull();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('float16 conversion matches IEEE rounding on edge cases', () => {
    for (const [x, bits] of [
      [1, 0x3c00],
      [65504, 0x7bff],
      [65520, 0x7c00], // rounds to inf
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], // tie to even -> 0
      [3 * 2 ** -25, 0x0002],
      [-0, 0x8000],
      [1 + 2 ** -11, 0x3c00], // tie to even
      [1 + 3 * 2 ** -11, 0x3c02],
    ] as [number, number][]) {
      expect(floatToHalf(x)).toBe(bits);
    }
    for (let h = 0; h < 0x7c00; h += 7) expect(floatToHalf(halfToFloat(h))).toBe(h);
  });
});
