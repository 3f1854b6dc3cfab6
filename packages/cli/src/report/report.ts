import { join } from 'node:path';
import { writeFileAtomic } from '@iqa-bench/core/fs';
import type { Table } from '../table.js';
import { renderLatex, renderMarkdown } from '../table.js';
import { svgToPng } from './png.js';
import { esc } from './svg.js';

/** A figure of a report: an SVG written as `figures/<name>.svg` (and `.png`) and inlined into the HTML. */
export interface Figure {
  /** File stem: lowercase letters, digits, `-` and `_` only. */
  name: string;
  caption: string;
  svg: string;
  /** The figure's PNG when it is a picture the SVG embeds (written as is instead of rasterising the SVG). */
  png?: Uint8Array;
}

export interface Section {
  title: string;
  paragraphs?: string[];
  /** Tables, each with the notes printed under it (why a cell is empty, warnings about its numbers). */
  tables?: { caption?: string; table: Table; notes?: string[]; latex?: boolean }[];
  figures?: Figure[];
}

/** A report: what `demo` and `report` write as `report.html` (self-contained), `report.md` and `figures/`. */
export interface Report {
  title: string;
  /** Lines under the title (settings, versions). Nothing time-dependent, so the same input gives the same bytes. */
  meta: string[];
  sections: Section[];
}

/** Turns any label into a file-name stem. */
export function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'figure'
  );
}

/**
 * The page is at most 1100 px wide (it fits a 1280-px screen with its margins); headers wrap between words, a number
 * cell between its parts (`58.6` / `(49.3–68.0)`) but never inside one, and a table still wider scrolls inside its own
 * box instead of widening the page.
 */
const CSS = `
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
.meta{color:#555;margin:.1rem 0}
.table-wrap{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:.8rem 0;font-size:.88rem}
th,td{border:1px solid #ddd;padding:.2rem .45rem;overflow-wrap:break-word}th{background:#f3f5f8;text-align:left}
td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}.nw{white-space:nowrap}
caption{caption-side:top;text-align:left;font-weight:bold;padding:.3rem 0}
.notes{color:#444;font-size:.85rem;margin:.2rem 0 1rem;padding-left:1.2rem}
.figs{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0;max-width:100%}figcaption{color:#555;font-size:.85rem}
svg{max-width:100%;height:auto}
`.trim();

/** A number cell: each space-separated part unbreakable, the cell breakable between them. */
function numberCell(s: string): string {
  if (!s.includes(' ')) return esc(s);
  return s
    .split(' ')
    .filter((p) => p !== '')
    .map((p) => `<span class="nw">${esc(p)}</span>`)
    .join(' ');
}

function htmlTable(t: Table, caption?: string): string {
  const head = t.columns
    .map((c) => `<th${c.align === 'right' ? ' class="r"' : ''}>${esc(c.header)}</th>`)
    .join('');
  const rows = t.rows
    .map(
      (r) =>
        `<tr>${t.columns.map((c, i) => (c.align === 'right' ? `<td class="r">${numberCell(r[i] ?? '')}</td>` : `<td>${esc(r[i] ?? '')}</td>`)).join('')}</tr>`,
    )
    .join('\n');
  return `<div class="table-wrap"><table>${caption ? `<caption>${esc(caption)}</caption>` : ''}\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows}\n</tbody></table></div>`;
}

function htmlNotes(notes: readonly string[] | undefined): string[] {
  if (!notes || notes.length === 0) return [];
  return [`<ul class="notes">${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`];
}

/** One HTML file with inline CSS and inline SVG: no scripts, no external assets. */
export function renderHtml(report: Report): string {
  const parts: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(report.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>${esc(report.title)}</h1>`,
    ...report.meta.map((m) => `<p class="meta">${esc(m)}</p>`),
  ];
  for (const s of report.sections) {
    parts.push(`<section>`, `<h2>${esc(s.title)}</h2>`);
    for (const p of s.paragraphs ?? []) parts.push(`<p>${esc(p)}</p>`);
    for (const t of s.tables ?? []) parts.push(htmlTable(t.table, t.caption), ...htmlNotes(t.notes));
    if (s.figures && s.figures.length > 0) {
      parts.push('<div class="figs">');
      for (const fig of s.figures) {
        parts.push(
          `<figure id="fig-${esc(fig.name)}">`,
          fig.svg,
          `<figcaption>${esc(fig.caption)}</figcaption>`,
          '</figure>',
        );
      }
      parts.push('</div>');
    }
    parts.push('</section>');
  }
  parts.push('</body>', '</html>', '');
  return parts.join('\n');
}

/** Markdown with the same tables; figures linked as `figures/<name>.svg`. */
export function renderReportMarkdown(report: Report): string {
  const parts: string[] = [`# ${report.title}`, '', ...report.meta.map((m) => `${m}  `), ''];
  for (const s of report.sections) {
    parts.push(`## ${s.title}`, '');
    for (const p of s.paragraphs ?? []) parts.push(p, '');
    for (const t of s.tables ?? []) {
      if (t.caption) parts.push(`**${t.caption}**`, '');
      parts.push(renderMarkdown(t.table), '');
      for (const n of t.notes ?? []) parts.push(`- ${n}`);
      if (t.notes && t.notes.length > 0) parts.push('');
    }
    for (const fig of s.figures ?? []) parts.push(`![${fig.caption}](figures/${fig.name}.svg)`, '');
  }
  return parts.join('\n');
}

/**
 * The tables marked `latex` (the results) as a LaTeX file to \\input into a paper: one booktabs table environment each,
 * its caption and notes as the table's caption and footnote lines. Empty when no table is marked.
 */
export function renderReportLatex(report: Report): string {
  const parts: string[] = [];
  for (const s of report.sections) {
    for (const t of s.tables ?? []) {
      if (!t.latex) continue;
      parts.push(renderLatex(t.table, t.caption ?? s.title, t.notes ?? []));
    }
  }
  if (parts.length === 0) return '';
  return [
    `% ${report.title}: results tables written by iqa-bench report (needs \\usepackage{booktabs}).`,
    ...parts,
  ].join('\n\n');
}

/**
 * Writes `report.html`, `report.md`, `report.tex` (the results tables in LaTeX, when there are any), and
 * `figures/<name>.svg` + `.png` for every figure into `dir` (each file atomically). Returns the paths written, relative
 * to `dir`.
 */
export async function writeReport(
  dir: string,
  report: Report,
  options: { png?: boolean } = {},
): Promise<string[]> {
  const written: string[] = [];
  const put = async (rel: string, data: string | Uint8Array) => {
    await writeFileAtomic(join(dir, rel), data);
    written.push(rel);
  };
  const names = new Set<string>();
  for (const s of report.sections) {
    for (const fig of s.figures ?? []) {
      if (!/^[a-z0-9_-]+$/.test(fig.name) || names.has(fig.name)) {
        throw new Error(`report figure name "${fig.name}" is not a unique file stem`);
      }
      names.add(fig.name);
      await put(`figures/${fig.name}.svg`, `${fig.svg}\n`);
      if (options.png !== false) await put(`figures/${fig.name}.png`, fig.png ?? (await svgToPng(fig.svg)));
    }
  }
  await put('report.md', renderReportMarkdown(report));
  const latex = renderReportLatex(report);
  if (latex !== '') await put('report.tex', `${latex}\n`);
  await put('report.html', renderHtml(report));
  return written;
}
