/** Test helpers: fixture paths and the values PyTorch wrote next to each fixture (`<name>.expected.json`). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StateDict, TensorData } from '../state-dict.js';
import { bfloatToFloat, halfToFloat } from '../state-dict.js';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/checkpoints/', import.meta.url));

export function fixture(name: string): string {
  return FIXTURES + name;
}

type JsonValue = number | string | boolean;
interface Expected {
  dtype: string;
  shape: number[];
  values: JsonValue[];
}

export function readExpected(name: string): Map<string, Expected> {
  const raw = JSON.parse(readFileSync(fixture(`${name}.expected.json`), 'utf8')) as Record<string, Expected>;
  return new Map(Object.entries(raw));
}

/** Element i of a tensor as a JSON-comparable value (exact: numbers, bigint as string when unsafe). */
export function elementValue(t: TensorData, i: number): JsonValue {
  const v = t.data[i];
  switch (t.dtype) {
    case 'float16':
      return halfToFloat(v as number);
    case 'bfloat16':
      return bfloatToFloat(v as number);
    case 'bool':
      return v !== 0;
    case 'int64': {
      const b = v as bigint;
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(b)
        : b.toString();
    }
    default:
      return v as number;
  }
}

function fromJson(v: JsonValue): JsonValue {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return v;
}

/** Returns a list of differences between a state dict and PyTorch's expectation (empty = identical). */
export function diffExpected(sd: StateDict, expected: Map<string, Expected>): string[] {
  const out: string[] = [];
  if ([...sd.keys()].join('|') !== [...expected.keys()].join('|'))
    out.push(`keys: ${[...sd.keys()].join(',')} vs ${[...expected.keys()].join(',')}`);
  for (const [k, e] of expected) {
    const t = sd.get(k);
    if (!t) continue;
    if (t.dtype !== e.dtype || t.shape.join(',') !== e.shape.join(',')) {
      out.push(`${k}: ${t.dtype}[${t.shape.join(',')}] vs ${e.dtype}[${e.shape.join(',')}]`);
      continue;
    }
    if (t.data.length !== e.values.length) out.push(`${k}: ${t.data.length} elements vs ${e.values.length}`);
    for (let i = 0; i < e.values.length; i++) {
      const a = elementValue(t, i);
      const b = fromJson(e.values[i]);
      if (!Object.is(a, b)) {
        out.push(`${k}[${i}]: ${String(a)} vs ${String(b)}`);
        break;
      }
    }
  }
  return out;
}
