/** A table the CLI prints as aligned text on a terminal and writes as Markdown into reports. */
export interface Table {
  readonly columns: readonly { readonly header: string; readonly align?: 'left' | 'right' }[];
  readonly rows: readonly (readonly string[])[];
}

/** Formats a number with `digits` decimals; null / NaN as `–`. */
export function num(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return value.toFixed(digits);
}

/** Formats a difference with an explicit sign. */
export function signed(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const s = value.toFixed(digits);
  return value >= 0 && !s.startsWith('-') ? `+${s}` : s;
}

function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return align === 'right' ? fill + s : s + fill;
}

/** Aligned plain text: a header, a rule, the rows; columns separated by two spaces. */
export function renderText(table: Table): string {
  const widths = table.columns.map((c, i) =>
    Math.max(width(c.header), ...table.rows.map((r) => width(r[i] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    table.columns
      .map((c, i) => pad(cells[i] ?? '', widths[i], c.align ?? 'left'))
      .join('  ')
      .trimEnd();
  return [
    line(table.columns.map((c) => c.header)),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...table.rows.map(line),
  ].join('\n');
}

function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** GitHub-flavoured Markdown. */
export function renderMarkdown(table: Table): string {
  const head = `| ${table.columns.map((c) => mdCell(c.header)).join(' | ')} |`;
  const rule = `|${table.columns.map((c) => (c.align === 'right' ? '---:' : '---')).join('|')}|`;
  const rows = table.rows.map((r) => `| ${table.columns.map((_, i) => mdCell(r[i] ?? '')).join(' | ')} |`);
  return [head, rule, ...rows].join('\n');
}

const LATEX_ESCAPES: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
  '–': '--',
  '−': '$-$',
  '†': '\\textdagger{}',
  Δ: '$\\Delta$',
  '↑': '$\\uparrow$',
  '↓': '$\\downarrow$',
  '×': '$\\times$',
  '·': '$\\cdot$',
  '→': '$\\rightarrow$',
};

/**
 * Escapes text for LaTeX (its ten special characters, in one pass; `–` and `−` as LaTeX dashes; Δ, arrows, × and · as
 * math symbols, so that the file needs no Unicode set-up).
 */
export function latexText(s: string): string {
  return s.replace(/[\\&%$#_{}~^–−†Δ↑↓×·→]/g, (c) => LATEX_ESCAPES[c]);
}

/** A booktabs `table` environment: the caption, the tabular (numbers right-aligned), the notes below it. */
export function renderLatex(table: Table, caption: string, notes: readonly string[] = []): string {
  const spec = table.columns.map((c) => (c.align === 'right' ? 'r' : 'l')).join('');
  const row = (cells: readonly string[]) =>
    `${table.columns.map((_, i) => latexText(cells[i] ?? '')).join(' & ')} \\\\`;
  return [
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{${latexText(caption)}}`,
    `\\begin{tabular}{${spec}}`,
    '\\toprule',
    row(table.columns.map((c) => c.header)),
    '\\midrule',
    ...table.rows.map(row),
    '\\bottomrule',
    '\\end{tabular}',
    ...(notes.length > 0
      ? ['\\par\\smallskip\\footnotesize', ...notes.map((n) => `${latexText(n)}\\par`)]
      : []),
    '\\end{table}',
  ].join('\n');
}
