import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { latexText, renderMarkdown } from '../table.js';
import { barsSvg, heatmapSvg, lineSvg, scatterSvg } from './figures.js';
import type { Report } from './report.js';
import { renderHtml, renderReportLatex, renderReportMarkdown, slug, writeReport } from './report.js';
import { f, niceTicks, tickLabel } from './svg.js';

const work = mkdtempSync(join(tmpdir(), 'iqa-report-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('svg helpers', () => {
  it('formats coordinates with two decimals at most and never -0', () => {
    expect([f(1), f(1.005), f(-0.001), f(12.3456), f(-3.14159)]).toEqual(['1', '1', '0', '12.35', '-3.14']);
  });

  it('chooses 1-2-2.5-5 steps inside the padded data range', () => {
    const t = niceTicks(0, 1);
    expect(t.step).toBe(0.25);
    expect(t.ticks).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(t.lo).toBeCloseTo(-0.04, 12);
    expect(niceTicks(3.2, 88.4).ticks).toEqual([0, 20, 40, 60, 80]);
    expect(niceTicks(1, 3, { integer: true }).ticks).toEqual([1, 2, 3]);
    expect(niceTicks(5, 5).ticks).toEqual([4.5, 4.75, 5, 5.25, 5.5]); // a constant is shown ±10%
    expect([0, 0.25, 0.5].map((v) => tickLabel(v, 0.25))).toEqual(['0.00', '0.25', '0.50']);
    expect(tickLabel(-0, 1)).toBe('0');
  });
});

describe('figures', () => {
  const x = [0.1, 0.4, 0.2, 0.9];
  const y = [1.5, 3, 2, 4.8];

  it('scatter: one dot per finite pair, the curve clipped to the plot, same input same bytes', () => {
    const svg = scatterSvg({
      title: 'kadid <test>',
      x: [...x, Number.NaN],
      y: [...y, 2],
      curve: (v) => 1 + 4 * v,
      note: 'n 4',
    });
    expect(svg).toBe(
      scatterSvg({
        title: 'kadid <test>',
        x: [...x, Number.NaN],
        y: [...y, 2],
        curve: (v) => 1 + 4 * v,
        note: 'n 4',
      }),
    );
    expect(svg.match(/<circle /g)).toHaveLength(4);
    expect(svg).toContain('<title>kadid &lt;test&gt;</title>');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="520" height="380"/);
    const poly = /<polyline points="([^"]+)"/.exec(svg)?.[1].split(' ') ?? [];
    expect(poly).toHaveLength(101);
    // The plot area is y 40…328; the curve may not leave it.
    for (const p of poly) expect(Number(p.split(',')[1])).toBeGreaterThanOrEqual(40);
    // The leftmost point (x = 0.1) sits 4% of the x span inside the plot area (x0 = 64, x1 = 500).
    expect(svg).toContain(`<circle cx="${f(64 + (0.04 / 1.08) * 436)}"`);
  });

  it('heatmap: the scale ends are the palette ends and a null cell is grey with a dash', () => {
    const svg = heatmapSvg({ title: 'h', rows: ['a'], cols: ['c1', 'c2', 'c3'], values: [[0, 1, null]] });
    const fills = [
      ...svg.matchAll(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="[^"]+" fill="(#[0-9a-f]{6})"/g),
    ].map((m) => m[1]);
    expect(fills).toEqual(['#f7fbff', '#08306b', '#eeeeee']);
    expect(svg).toContain('>0.000</text>');
    expect(svg).toContain('>1.000</text>');
    expect(svg).toContain('>–</text>');
  });

  it('heatmap: negative correlations get their own colours on a −1…1 scale', () => {
    const svg = heatmapSvg({
      title: 'h',
      rows: ['a'],
      cols: ['c1', 'c2', 'c3'],
      values: [[-1, 0.5, 1]],
      min: -1,
      max: 1,
    });
    const fills = [
      ...svg.matchAll(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="[^"]+" fill="(#[0-9a-f]{6})"/g),
    ].map((m) => m[1]);
    // −1: the darkest red (#67000d); 0.5: halfway along the blues; 1: the darkest blue.
    expect(fills).toEqual(['#67000d', '#8096b5', '#08306b']); // #f7fbff + (#08306b − #f7fbff) / 2, rounded
    expect(svg).toContain('>-1.00</text>');
    expect(svg).toContain('>0.00</text>');
    // On the default 0…1 scale, −1 would be clamped to the colour of 0.
    const clamped = heatmapSvg({ title: 'h', rows: ['a'], cols: ['c1'], values: [[-1]] });
    expect(clamped).toContain('fill="#f7fbff"');
  });

  it('bars scale to the largest value of each panel', () => {
    const svg = barsSvg({ title: 'b', labels: ['a', 'b'], panels: [{ title: 'params', values: [10, 5] }] });
    const widths = [...svg.matchAll(/<rect x="[^"]+" y="[^"]+" width="([^"]+)" height="18"/g)].map((m) =>
      Number(m[1]),
    );
    expect(widths).toEqual([120, 60]);
  });

  it('lines: a legend entry and a polyline per series', () => {
    const svg = lineSvg({
      title: 't',
      xLabel: 'epoch',
      yLabel: 'v',
      xInteger: true,
      series: [
        {
          name: 'loss',
          points: [
            [1, 0.9],
            [2, 0.5],
            [3, 0.4],
          ],
        },
        {
          name: 'SRCC',
          points: [
            [1, 0.5],
            [2, 0.8],
            [3, 0.9],
          ],
        },
      ],
    });
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('>loss</text>');
    expect(svg).toContain('>SRCC</text>');
  });
});

describe('report', () => {
  const report: Report = {
    title: 'A & B',
    meta: ['seed 1'],
    sections: [
      {
        title: 'Numbers',
        paragraphs: ['x < y'],
        tables: [
          {
            caption: 'cap',
            table: {
              columns: [{ header: 'a|b' }, { header: 'v', align: 'right' }],
              rows: [
                ['p|q', '1.0'],
                ['r_1', '8.1 (7.9–8.6)'],
              ],
            },
            notes: ['r_1: 50% of it'],
            latex: true,
          },
        ],
        figures: [
          {
            name: 'bars',
            caption: 'bars',
            svg: barsSvg({ title: 'b', labels: ['m1', 'm2'], panels: [{ title: 'v', values: [2, 1] }] }),
          },
        ],
      },
    ],
  };

  it('markdown escapes pipes', () => {
    expect(renderMarkdown(report.sections[0].tables![0].table)).toBe(
      '| a\\|b | v |\n|---|---:|\n| p\\|q | 1.0 |\n| r_1 | 8.1 (7.9–8.6) |',
    );
    expect(renderReportMarkdown(report)).toContain('![bars](figures/bars.svg)');
    expect(renderReportMarkdown(report)).toContain('| r_1 | 8.1 (7.9–8.6) |\n\n- r_1: 50% of it\n');
  });

  it('HTML is one self-contained file: inline SVG, no script, no external reference', () => {
    const html = renderHtml(report);
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).toContain('<title>A &amp; B</title>');
    expect(html).toContain('<p>x &lt; y</p>');
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(html).not.toMatch(/<script|<link|<img|src=|href=|@import|url\((?!#)/);
  });

  it('HTML fits a 1280-px page: tables in their own scroll box, number cells break between parts only', () => {
    const html = renderHtml(report);
    expect(html).toContain('max-width:1100px');
    expect(html).toContain('.table-wrap{max-width:100%;overflow-x:auto}');
    expect(html).toContain('<div class="table-wrap"><table><caption>cap</caption>');
    expect(html).toContain(
      '<td>r_1</td><td class="r"><span class="nw">8.1</span> <span class="nw">(7.9–8.6)</span></td>',
    );
    expect(html).toContain('<ul class="notes"><li>r_1: 50% of it</li></ul>');
  });

  it('LaTeX: the marked tables as booktabs tables, specials escaped', () => {
    expect(renderReportLatex(report)).toBe(
      [
        '% A & B: results tables written by iqa-bench report (needs \\usepackage{booktabs}).',
        '',
        '\\begin{table}[t]',
        '\\centering',
        '\\caption{cap}',
        '\\begin{tabular}{lr}',
        '\\toprule',
        'a|b & v \\\\',
        '\\midrule',
        'p|q & 1.0 \\\\',
        'r\\_1 & 8.1 (7.9--8.6) \\\\',
        '\\bottomrule',
        '\\end{tabular}',
        '\\par\\smallskip\\footnotesize',
        'r\\_1: 50\\% of it\\par',
        '\\end{table}',
      ].join('\n'),
    );
    expect(latexText('a\\b {x} ~ ^ # $ & −1 †')).toBe(
      'a\\textbackslash{}b \\{x\\} \\textasciitilde{} \\textasciicircum{} \\# \\$ \\& $-$1 \\textdagger{}',
    );
  });

  it('writes html, md, svg and a PNG rasterised at twice the size', async () => {
    const dir = join(work, 'r1');
    const files = await writeReport(dir, report);
    expect(files).toEqual(['figures/bars.svg', 'figures/bars.png', 'report.md', 'report.tex', 'report.html']);
    expect(readdirSync(dir).sort()).toEqual(['figures', 'report.html', 'report.md', 'report.tex']);
    expect(readFileSync(join(dir, 'report.tex'), 'utf8')).toBe(`${renderReportLatex(report)}\n`);
    const svg = readFileSync(join(dir, 'figures/bars.svg'), 'utf8');
    const [w, h] = [Number(/width="(\d+)"/.exec(svg)?.[1]), Number(/height="(\d+)"/.exec(svg)?.[1])];
    const png = sharp(readFileSync(join(dir, 'figures/bars.png')));
    const meta = await png.metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 2 * w, 2 * h]);
    const { data, info } = await png.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) => [
      ...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3),
    ];
    expect(px(2, 2)).toEqual([255, 255, 255]); // background
    // The first bar (value 2, the panel's maximum) is filled with the first palette colour #1f77b4.
    const barY = 2 * (58 + 4 + 9);
    const barX = 2 * (80 + 20);
    expect(px(barX, barY)).toEqual([0x1f, 0x77, 0xb4]);
  });

  it('refuses a figure name that is not a file stem', async () => {
    const bad: Report = {
      ...report,
      sections: [{ title: 's', figures: [{ name: '../x', caption: '', svg: '<svg/>' }] }],
    };
    await expect(writeReport(join(work, 'r2'), bad)).rejects.toThrow(
      'report figure name "../x" is not a unique file stem',
    );
    expect(slug('../KADID-10k test')).toBe('kadid-10k-test');
  });
});
