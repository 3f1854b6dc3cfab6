/**
 * Structure-aware mutations of delimited text tables (CSV with a header, whitespace tables such as TID2013's
 * `mos_with_names.txt`): cells, columns, rows, quoting, delimiters, line endings, encodings.
 */
import type { Rng } from '../rng.js';

const CELLS = [
  '',
  ' ',
  '"',
  '""',
  '"a,b"',
  '"unterminated',
  'a"b',
  '\u0000',
  '\ufeff',
  'NaN',
  'nan',
  'Infinity',
  '-Infinity',
  '1e309',
  '-1e309',
  '1e-320',
  '0x1F',
  '1,5',
  '3.5.6',
  '  7  ',
  '-0',
  '9007199254740993',
  '../../../etc/passwd',
  '/etc/passwd',
  '..',
  '.',
  'C:\\x.png',
  'a/../../b.png',
  'sub/dir/x.png',
  '__proto__',
  'constructor',
  'é.png',
  '\u202e.png',
  'x'.repeat(70_000),
];

/** Splits one line on the delimiter, keeping quoted parts together (enough to locate cells for mutation). */
function cells(line: string, delim: string | RegExp): string[] {
  if (typeof delim !== 'string') return line.split(delim);
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (const c of line) {
    if (c === '"') q = !q;
    if (c === delim && !q) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** One to three random table mutations of `text`. */
export function mutateTable(text: string, rng: Rng, whitespace = false): { text: string; notes: string[] } {
  const delim: string | RegExp = whitespace ? /\s+/ : ',';
  const join = whitespace ? ' ' : ',';
  let lines = text.split(/\r?\n/);
  const trailing = lines[lines.length - 1] === '';
  if (trailing) lines.pop();
  const notes: string[] = [];
  const rounds = rng.range(1, 3);
  for (let k = 0; k < rounds; k++) {
    const r = rng.int(lines.length);
    const op = rng.weighted<string>([
      [6, 'cell'],
      [1, 'drop-col'],
      [1, 'rename-col'],
      [1, 'swap-cols'],
      [1, 'dup-row'],
      [1, 'del-row'],
      [1, 'many-rows'],
      [1, 'ragged'],
      [1, 'delimiter'],
      [1, 'header-only'],
      [1, 'newline-in-quotes'],
    ]);
    switch (op) {
      case 'cell': {
        const row = cells(lines[r] ?? '', delim);
        const c = rng.int(row.length);
        const v = rng.chance(0.3) && row.length > 1 ? row[rng.int(row.length)] : rng.pick(CELLS);
        row[c] = v;
        lines[r] = row.join(join);
        notes.push(`row ${r + 1} cell ${c + 1} = ${JSON.stringify(v.slice(0, 30))}`);
        break;
      }
      case 'drop-col': {
        const c = rng.int(cells(lines[0] ?? '', delim).length);
        lines = lines.map((l) =>
          cells(l, delim)
            .filter((_, i) => i !== c)
            .join(join),
        );
        notes.push(`drop column ${c + 1}`);
        break;
      }
      case 'rename-col': {
        const head = cells(lines[0] ?? '', delim);
        const c = rng.int(head.length);
        head[c] = rng.pick([
          '',
          'MOS',
          'mos',
          ' MOS',
          'MOS ',
          'image_name',
          head[(c + 1) % head.length],
          'x'.repeat(300),
        ]);
        lines[0] = head.join(join);
        notes.push(`rename column ${c + 1} to ${JSON.stringify(head[c].slice(0, 20))}`);
        break;
      }
      case 'swap-cols': {
        const n = cells(lines[0] ?? '', delim).length;
        const a = rng.int(n);
        const b = rng.int(n);
        lines = lines.map((l) => {
          const row = cells(l, delim);
          [row[a], row[b]] = [row[b], row[a]];
          return row.join(join);
        });
        notes.push(`swap columns ${a + 1} and ${b + 1}`);
        break;
      }
      case 'dup-row':
        lines.splice(r, 0, lines[r] ?? '');
        notes.push(`duplicate row ${r + 1}`);
        break;
      case 'del-row':
        lines.splice(r, 1);
        notes.push(`delete row ${r + 1}`);
        break;
      case 'many-rows': {
        const row = lines[Math.max(1, r)] ?? lines[0] ?? '';
        // Keep the table within a few MiB (a long cell times many rows would exhaust the generator's memory).
        const n = Math.min(rng.pick([1000, 50_000]), Math.floor(4_000_000 / (row.length + 1)));
        lines.push(...Array<string>(n).fill(row));
        notes.push(`append ${n} copies of row ${r + 1}`);
        break;
      }
      case 'ragged': {
        const extra = rng.chance(0.5);
        lines[r] = extra
          ? `${lines[r]}${join}extra${join}`
          : cells(lines[r] ?? '', delim)
              .slice(0, 1)
              .join(join);
        notes.push(`row ${r + 1} ${extra ? 'longer' : 'shorter'} than the header`);
        break;
      }
      case 'delimiter': {
        const d = rng.pick([';', '\t', '|', ' ', ',,']);
        lines = lines.map((l) => l.split(join).join(d));
        notes.push(`delimiter ${JSON.stringify(d)}`);
        break;
      }
      case 'header-only':
        lines = lines.slice(0, rng.int(2));
        notes.push(`keep ${lines.length} line(s)`);
        break;
      default: {
        const row = cells(lines[r] ?? '', delim);
        row[rng.int(row.length)] = '"a\nb"';
        lines[r] = row.join(join);
        notes.push(`newline inside a quoted cell in row ${r + 1}`);
      }
    }
  }
  const eol = rng.weighted<string>([
    [8, '\n'],
    [1, '\r\n'],
    [1, '\r'],
  ]);
  let out = lines.join(eol) + (trailing || rng.chance(0.5) ? eol : '');
  if (rng.chance(0.05)) {
    out = `\ufeff${out}`;
    notes.push('BOM');
  }
  return { text: out, notes };
}
