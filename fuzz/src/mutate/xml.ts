/** Mutations of XML text (the parts of an XLSX workbook): attributes, text nodes, elements, DTD entities, nesting. */
import type { Rng } from '../rng.js';

const ATTR_VALUES = [
  '',
  '0',
  '-1',
  '99999',
  '4294967296',
  '1e309',
  'NaN',
  'A0',
  'A1048577',
  'XFD1048576',
  'ZZZZ1',
  'A1:XFD1048576',
  's',
  'str',
  'inlineStr',
  'e',
  'b',
  'd',
  'n',
  '../../../etc/passwd',
  'x'.repeat(10_000),
];

const TEXT_VALUES = [
  '',
  '-1',
  '99999',
  '1e309',
  '-1e309',
  'NaN',
  'abc',
  '&amp;',
  '&lt;x&gt;',
  '\u0000',
  'x'.repeat(100_000),
  '2.5E+1',
  ' 7 ',
];

function pickMatch(text: string, re: RegExp, rng: Rng): RegExpExecArray | null {
  const all = [...text.matchAll(re)];
  return all.length === 0 ? null : (rng.pick(all) as RegExpExecArray);
}

export function mutateXml(text: string, rng: Rng): { text: string; note: string } {
  switch (rng.int(7)) {
    case 0:
    case 1: {
      const m = pickMatch(text, /(\s[\w:]+=")([^"]*)"/g, rng);
      if (!m || m.index === undefined) break;
      const v = rng.pick(ATTR_VALUES);
      const at = m.index + m[1].length;
      return {
        text: text.slice(0, at) + v + text.slice(at + m[2].length),
        note: `attribute${m[1].trimEnd()} ${JSON.stringify(m[2].slice(0, 20))} -> ${JSON.stringify(v.slice(0, 20))}`,
      };
    }
    case 2: {
      const m = pickMatch(text, />([^<>]+)</g, rng);
      if (!m || m.index === undefined) break;
      const v = rng.pick(TEXT_VALUES);
      return {
        text: text.slice(0, m.index + 1) + v + text.slice(m.index + 1 + m[1].length),
        note: `text ${JSON.stringify(m[1].slice(0, 20))} -> ${JSON.stringify(v.slice(0, 20))}`,
      };
    }
    case 3: {
      // Elements without children (a cell value, a shared string), so the pattern stays linear.
      const m = pickMatch(text, /<(\w+)(?:\s[^>]*)?>[^<]*<\/\1>/g, rng);
      if (!m || m.index === undefined) break;
      const dup = rng.chance(0.5);
      const times = Math.min(rng.pick([2, 100, 10_000]), Math.floor(4_000_000 / m[0].length));
      const out = dup
        ? text.slice(0, m.index) + m[0].repeat(times) + text.slice(m.index + m[0].length)
        : text.slice(0, m.index) + text.slice(m.index + m[0].length);
      return { text: out, note: `${dup ? 'repeat' : 'remove'} element <${m[1]}>` };
    }
    case 4: {
      const m = pickMatch(text, /<\/\w+>/g, rng);
      if (!m || m.index === undefined) break;
      return {
        text: text.slice(0, m.index) + text.slice(m.index + m[0].length),
        note: `drop closing ${m[0]}`,
      };
    }
    case 5: {
      const bomb =
        '<!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">' +
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">' +
        '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">' +
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">]>';
      const decl = /^<\?xml[^>]*\?>/.exec(text);
      const at = decl ? decl[0].length : 0;
      const withBomb = text.slice(0, at) + bomb + text.slice(at);
      const m = pickMatch(withBomb, />([^<>]+)</g, rng);
      if (!m || m.index === undefined) return { text: withBomb, note: 'DTD with entity bomb' };
      const ref = rng.pick(['&lol4;', '&xxe;']);
      return {
        text: withBomb.slice(0, m.index + 1) + ref + withBomb.slice(m.index + 1 + m[1].length),
        note: `DTD entity ${ref}`,
      };
    }
    default: {
      const n = rng.pick([100, 10_000, 100_000]);
      const m = pickMatch(text, /<\/\w+>/g, rng);
      const at = m?.index ?? text.length;
      return {
        text: text.slice(0, at) + '<a>'.repeat(n) + '</a>'.repeat(n) + text.slice(at),
        note: `${n} nested elements`,
      };
    }
  }
  const at = rng.int(text.length + 1);
  return { text: text.slice(0, at), note: `cut XML at ${at}` };
}
