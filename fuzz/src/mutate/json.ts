/**
 * Structure-aware mutations of JSON-like data (configs, manifests, result files, model.json, safetensors headers):
 * a random node is replaced by a boundary value, removed, duplicated, retyped or nested deeply; the text is then
 * written back as JSON (or YAML, by the caller), sometimes with a final byte-level cut.
 */
import type { Rng } from '../rng.js';
import type { JsonValue } from '../types.js';

/** Deep nesting is spliced into the text after serialisation (building it as data would recurse in the writer). */
const DEEP = '\u0000DEEP:';

interface Slot {
  get(): JsonValue;
  set(v: JsonValue): void;
  remove(): void;
  path: string;
  parent: JsonValue[] | { [k: string]: JsonValue } | null;
}

function slots(root: { v: JsonValue }): Slot[] {
  const out: Slot[] = [
    {
      get: () => root.v,
      set: (v) => (root.v = v),
      remove: () => (root.v = null),
      path: '$',
      parent: null,
    },
  ];
  const walk = (v: JsonValue, path: string, depth: number): void => {
    if (depth > 40 || out.length > 5000) return;
    if (Array.isArray(v)) {
      // Long arrays (tensor shapes are short; id lists are long): visit a sample.
      const n = v.length;
      const idx = n <= 16 ? [...Array(n).keys()] : [0, 1, 2, n - 1, Math.floor(n / 2)];
      for (const i of idx) {
        out.push({
          get: () => v[i],
          set: (x) => (v[i] = x),
          remove: () => v.splice(i, 1),
          path: `${path}[${i}]`,
          parent: v,
        });
        walk(v[i], `${path}[${i}]`, depth + 1);
      }
    } else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        out.push({
          get: () => v[k],
          set: (x) => (v[k] = x),
          remove: () => delete v[k],
          path: `${path}.${k}`,
          parent: v,
        });
        walk(v[k], `${path}.${k}`, depth + 1);
      }
    }
  };
  walk(root.v, '$', 0);
  return out;
}

/** Values that break readers that trust types and ranges. */
export function interestingValue(rng: Rng, like?: JsonValue): JsonValue {
  const k = rng.int(24);
  switch (k) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.interestingInt();
    case 3:
      return -rng.interestingInt();
    case 4:
      return rng.pick([1e308, -1e308, 5e-324, 0.5, -0.5, 1.5, 2 ** 53 + 2, 1e21, 123456789.123]);
    case 5:
      return '';
    case 6:
      return 'x'.repeat(rng.length(100_000));
    case 7:
      return [];
    case 8:
      return {};
    case 9:
      return `${DEEP}${rng.pick([65, 100, 1000, 5000, 100_000])}`;
    case 10:
      return Array.from({ length: rng.pick([3, 100, 10_000, 200_000]) }, () => rng.int(10));
    case 11:
      return rng.pick([
        '../../../../etc/passwd',
        '/etc/passwd',
        '..',
        '.',
        'C:\\Windows\\win.ini',
        'a/../../b',
        '\\\\host\\share',
      ]);
    case 12:
      return rng.pick(['NaN', 'Infinity', '-1', '1e999', '0x10', ' 3 ', '3abc', 'true', 'null']);
    case 13:
      return rng.pick(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']);
    case 14:
      return rng.pick(['\u0000', '\ud800', '\uffff', 'é', '\u202e', '\n', '"', '\\', '%s%n', '${HOME}']);
    case 15:
      return { __proto__: { polluted: true } } as unknown as JsonValue;
    case 16:
      return [[[]], { a: [{}] }];
    case 17:
      return like === undefined
        ? 0
        : typeof like === 'number'
          ? String(like)
          : typeof like === 'string'
            ? Number(like) || 0
            : [like];
    case 18:
      return like === undefined ? null : Array.isArray(like) ? (like[0] ?? null) : like;
    case 19:
      return Array.from({ length: rng.range(0, 8) }, () => rng.interestingInt());
    case 20:
      return typeof like === 'number' ? like * rng.pick([-1, 0, 2, 1000, 1e9, 0.5]) : rng.interestingInt();
    case 21:
      return typeof like === 'number' ? like + rng.pick([-1, 1]) : rng.pick(['', 'x']);
    case 22:
      return typeof like === 'string' && like.length > 0 ? like.slice(0, rng.int(like.length)) : 'a';
    default:
      return typeof like === 'string'
        ? like + rng.pick(['/', '\u0000', '/..', ' ', '.bak'])
        : rng.range(0, 10);
  }
}

/** Applies 1..n random structural mutations to a copy of `value`; returns the copy and notes. */
export function mutateValue(
  value: JsonValue,
  rng: Rng,
  count = rng.range(1, 3),
): { value: JsonValue; notes: string[] } {
  const root = { v: structuredClone(value) };
  const notes: string[] = [];
  for (let i = 0; i < count; i++) {
    const all = slots(root);
    const s = rng.pick(all);
    const cur = s.get();
    const op = rng.weighted<string>([
      [6, 'replace'],
      [2, 'remove'],
      [1, 'duplicate'],
      [1, 'add-key'],
      [1, 'swap'],
      [1, 'shuffle'],
    ]);
    if (op === 'remove' && s.parent !== null) {
      s.remove();
      notes.push(`remove ${s.path}`);
    } else if (op === 'duplicate' && Array.isArray(s.parent)) {
      s.parent.push(structuredClone(cur));
      notes.push(`duplicate ${s.path}`);
    } else if (op === 'add-key' && cur !== null && typeof cur === 'object' && !Array.isArray(cur)) {
      const key = rng.pick(['extra', '__proto__', 'constructor', '', 'x'.repeat(300), ...Object.keys(cur)]);
      const v = interestingValue(rng);
      if (key === '__proto__')
        Object.defineProperty(cur, key, { value: v, enumerable: true, writable: true, configurable: true });
      else cur[key] = v;
      notes.push(`add ${s.path}.${key.slice(0, 20)}`);
    } else if (op === 'swap' && Array.isArray(cur) && cur.length >= 2) {
      const a = rng.int(cur.length);
      const b = rng.int(cur.length);
      [cur[a], cur[b]] = [cur[b], cur[a]];
      notes.push(`swap ${s.path}[${a}] [${b}]`);
    } else if (op === 'shuffle' && Array.isArray(cur)) {
      cur.reverse();
      notes.push(`reverse ${s.path}`);
    } else {
      const v = interestingValue(rng, cur);
      s.set(v);
      notes.push(`set ${s.path} = ${JSON.stringify(v)?.slice(0, 40)}`);
    }
  }
  return { value: root.v, notes };
}

/** JSON text of a value, with DEEP placeholders expanded into nested arrays. */
export function jsonText(value: JsonValue, rng: Rng): string {
  const indent = rng.pick([undefined, 1, 2, '\t']);
  const text = JSON.stringify(value, null, indent) ?? 'null';
  return expandDeep(text, '[', ']');
}

/** Replaces DEEP placeholders (as JSON strings) with `open`x n ... `close`x n. */
export function expandDeep(text: string, open: string, close: string): string {
  return text.replace(
    /"\\u0000DEEP:(\d+)"/g,
    (_, n: string) => open.repeat(Number(n)) + '1' + close.repeat(Number(n)),
  );
}

/** Text-level JSON damage that keeps most of the document: an unclosed string, a doubled key, a BOM, a cut. */
export function damageJsonText(text: string, rng: Rng): { text: string; note: string } {
  const at = rng.int(text.length + 1);
  switch (rng.int(7)) {
    case 0:
      return { text: text.slice(0, at), note: `cut at ${at}` };
    case 1:
      return { text: `\ufeff${text}`, note: 'BOM' };
    case 2:
      return {
        text:
          text.slice(0, at) + rng.pick(['"', '{', '[', ',', ':', '}', ']', '\\', '\u0000']) + text.slice(at),
        note: `insert char at ${at}`,
      };
    case 3: {
      const m = /"([^"\\]{1,40})":/.exec(text.slice(at)) ?? /"([^"\\]{1,40})":/.exec(text);
      if (!m) return { text: text + text, note: 'doubled document' };
      return { text: text.replace(`"${m[1]}":`, `"${m[1]}": 1, "${m[1]}":`), note: `duplicate key ${m[1]}` };
    }
    case 4:
      return { text: text.replace(/(\d+)/, '$1e400'), note: 'number overflow' };
    case 5:
      return { text: text + '\n' + text.slice(0, at), note: 'trailing garbage' };
    default:
      return { text: '['.repeat(rng.pick([100, 1000, 10_000])) + text, note: 'unclosed nesting' };
  }
}
