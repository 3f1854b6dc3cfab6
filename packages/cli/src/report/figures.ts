import { axes, el, esc, f, PALETTE, svgDoc, text, textWidth } from './svg.js';

const W = 520;
const H = 380;
const BOX = { x0: 64, y0: 40, x1: W - 20, y1: H - 52 };

/** [min, max] of finite values; [0, 1] when there are none. */
function extent(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

export interface ScatterFigure {
  title: string;
  /** Predicted scores (x) and ground-truth MOS (y), same length. */
  x: readonly number[];
  y: readonly number[];
  xLabel?: string;
  yLabel?: string;
  /** The fitted mapping from prediction to MOS, drawn as a line over the x range. */
  curve?: (x: number) => number;
  /** A line of statistics under the title (e.g. "SRCC 0.91 · PLCC 0.93 · n 120"). */
  note?: string;
}

/** Predicted score against MOS, one dot per image, with the fitted logistic curve. */
export function scatterSvg(fig: ScatterFigure): string {
  const n = Math.min(fig.x.length, fig.y.length);
  const [xmin, xmax] = extent(fig.x.slice(0, n));
  const [ymin, ymax] = extent(fig.y.slice(0, n));
  const samples: [number, number][] = [];
  if (fig.curve && n > 0) {
    for (let i = 0; i <= 100; i++) {
      const x = xmin + ((xmax - xmin) * i) / 100;
      const y = fig.curve(x);
      if (Number.isFinite(y)) samples.push([x, y]);
    }
  }
  const { frame, svg: axesSvg } = axes(BOX, [xmin, xmax], [ymin, ymax], {
    x: fig.xLabel ?? 'predicted score',
    y: fig.yLabel ?? 'MOS',
  });
  // Clip the curve to the plot area (a fitted logistic may overshoot the data range).
  const yLo = frame.yTicks.lo;
  const yHi = frame.yTicks.hi;
  const dots: string[] = [];
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(fig.x[i]) || !Number.isFinite(fig.y[i])) continue;
    dots.push(el('circle', { cx: frame.sx(fig.x[i]), cy: frame.sy(fig.y[i]), r: 2.5 }));
  }
  const body = [axesSvg, el('g', { fill: PALETTE[0], 'fill-opacity': 0.45, stroke: 'none' }, dots)];
  if (samples.length > 1) {
    const pts = samples
      .map(([x, y]) => `${f(frame.sx(x))},${f(frame.sy(Math.min(yHi, Math.max(yLo, y))))}`)
      .join(' ');
    body.push(el('polyline', { points: pts, fill: 'none', stroke: PALETTE[3], 'stroke-width': 2 }));
  }
  body.push(text(BOX.x0, 16, fig.title, { 'font-size': 14, 'font-weight': 'bold' }));
  if (fig.note) body.push(text(BOX.x0, 32, fig.note, { fill: '#555555' }));
  if (samples.length > 1) {
    body.push(
      // On the title line, right-aligned: the statistics line below may run the full width.
      el('line', {
        x1: BOX.x1 - 86,
        y1: 11,
        x2: BOX.x1 - 66,
        y2: 11,
        stroke: PALETTE[3],
        'stroke-width': 2,
      }),
      text(BOX.x1, 15, 'logistic fit', { fill: '#333333', 'text-anchor': 'end' }),
    );
  }
  return svgDoc(W, H, fig.title, body);
}

export interface HeatmapFigure {
  title: string;
  rows: readonly string[];
  cols: readonly string[];
  /** values[row][col]; null is drawn grey with a dash. */
  values: readonly (readonly (number | null)[])[];
  /**
   * Colour scale domain (default 0…1); values outside are clamped. A domain reaching below 0 is diverging: blues above
   * 0, reds below (negative correlations are coloured, not shown as 0).
   */
  min?: number;
  max?: number;
  digits?: number;
}

/** Blues: #f7fbff at 0 to #08306b at 1. */
function blue(t: number): string {
  const a = [247, 251, 255];
  const b = [8, 48, 107];
  const c = a.map((v, i) => Math.round(v + (b[i] - v) * t));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** Reds: #fff5f0 at 0 to #67000d at 1. */
function red(t: number): string {
  const a = [255, 245, 240];
  const b = [103, 0, 13];
  const c = a.map((v, i) => Math.round(v + (b[i] - v) * t));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * A value's colour and its strength (0…1, for the text colour): blues from lo to hi; with lo < 0 < hi, blues by v / hi
 * above 0 and reds by v / lo below.
 */
function heatColor(v: number, lo: number, hi: number): { fill: string; t: number } {
  if (lo < 0 && hi > 0) {
    const t = v >= 0 ? Math.min(1, v / hi) : Math.min(1, v / lo);
    return { fill: v >= 0 ? blue(t) : red(t), t };
  }
  const t = Math.min(1, Math.max(0, (v - lo) / (hi - lo || 1)));
  return { fill: blue(t), t };
}

/** A matrix of values (e.g. SRCC per test dataset and model) as coloured, labelled cells. */
export function heatmapSvg(fig: HeatmapFigure): string {
  const lo = fig.min ?? 0;
  const hi = fig.max ?? 1;
  const digits = fig.digits ?? 3;
  const cellW = Math.max(64, ...fig.cols.map((c) => textWidth(c) + 12));
  const cellH = 30;
  const left = Math.max(60, ...fig.rows.map((r) => textWidth(r) + 16));
  const top = 56;
  const width = left + cellW * fig.cols.length + 90;
  const height = top + cellH * fig.rows.length + 20;
  const cells: string[] = [];
  fig.rows.forEach((_, r) =>
    fig.cols.forEach((_c, c) => {
      const v = fig.values[r]?.[c] ?? null;
      const x = left + c * cellW;
      const y = top + r * cellH;
      const { fill, t } = v === null ? { fill: '#eeeeee', t: 0 } : heatColor(v, lo, hi);
      cells.push(el('rect', { x, y, width: cellW, height: cellH, fill, stroke: '#ffffff' }));
      cells.push(
        text(x + cellW / 2, y + cellH / 2 + 4, v === null ? '–' : v.toFixed(digits), {
          'text-anchor': 'middle',
          fill: t > 0.55 ? '#ffffff' : '#111111',
        }),
      );
    }),
  );
  const labels = [
    ...fig.cols.map((c, i) => text(left + i * cellW + cellW / 2, top - 8, c, { 'text-anchor': 'middle' })),
    ...fig.rows.map((r, i) => text(left - 8, top + i * cellH + cellH / 2 + 4, r, { 'text-anchor': 'end' })),
  ];
  // Colour bar.
  const barX = left + cellW * fig.cols.length + 24;
  const barH = Math.max(60, cellH * fig.rows.length);
  // Top of the bar = hi, bottom = lo.
  const stops = [0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1].map((o) =>
    el('stop', { offset: o, 'stop-color': heatColor(hi - o * (hi - lo), lo, hi).fill }),
  );
  const legend = [
    el('defs', {}, el('linearGradient', { id: 'heat', x1: 0, y1: 0, x2: 0, y2: 1 }, stops)),
    el('rect', { x: barX, y: top, width: 12, height: barH, fill: 'url(#heat)', stroke: '#999999' }),
    text(barX + 16, top + 8, hi.toFixed(2), { 'font-size': 10 }),
    text(barX + 16, top + barH, lo.toFixed(2), { 'font-size': 10 }),
    ...(lo < 0 && hi > 0
      ? [text(barX + 16, top + (barH * hi) / (hi - lo) + 4, '0.00', { 'font-size': 10 })]
      : []),
  ];
  return svgDoc(width, height, fig.title, [
    text(8, 18, fig.title, { 'font-size': 14, 'font-weight': 'bold' }),
    el('g', {}, cells),
    el('g', { fill: '#222222' }, labels),
    ...legend,
  ]);
}

export interface LineSeries {
  name: string;
  points: readonly (readonly [number, number])[];
}

export interface LineFigure {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Ticks on whole numbers only (epochs). */
  xInteger?: boolean;
  series: readonly LineSeries[];
}

/** Curves over epochs (training loss, validation SRCC, …), one colour per series, with a legend. */
export function lineSvg(fig: LineFigure): string {
  const all = fig.series
    .flatMap((s) => s.points)
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const { frame, svg: axesSvg } = axes(BOX, extent(all.map(([x]) => x)), extent(all.map(([, y]) => y)), {
    x: fig.xLabel,
    y: fig.yLabel,
    xInteger: fig.xInteger ?? false,
  });
  const lines = fig.series.map((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const poly = pts.map(([x, y]) => `${f(frame.sx(x))},${f(frame.sy(y))}`).join(' ');
    const marks =
      pts.length <= 60 ? pts.map(([x, y]) => el('circle', { cx: frame.sx(x), cy: frame.sy(y), r: 2.5 })) : [];
    return el('g', { stroke: color, fill: color }, [
      pts.length > 1 ? el('polyline', { points: poly, fill: 'none', 'stroke-width': 2 }) : '',
      ...marks,
    ]);
  });
  // Legend: one row above the plot, entries left to right.
  let lx = BOX.x0;
  const legend = fig.series.map((s, i) => {
    const x = lx;
    lx += 28 + textWidth(s.name);
    return [
      el('line', {
        x1: x,
        y1: 29,
        x2: x + 16,
        y2: 29,
        stroke: PALETTE[i % PALETTE.length],
        'stroke-width': 2,
      }),
      text(x + 20, 33, s.name, { fill: '#222222' }),
    ].join('');
  });
  return svgDoc(W, H, fig.title, [
    axesSvg,
    ...lines,
    el('g', {}, legend),
    text(BOX.x0, 16, fig.title, { 'font-size': 14, 'font-weight': 'bold' }),
  ]);
}

export interface BarPanel {
  title: string;
  /** One value per label; null leaves the bar out. */
  values: readonly (number | null)[];
  digits?: number;
}

export interface BarFigure {
  title: string;
  labels: readonly string[];
  panels: readonly BarPanel[];
}

/** Horizontal bars, one panel per quantity (parameters, GMACs, latency…), the labels shared on the left. */
export function barsSvg(fig: BarFigure): string {
  const left = Math.max(80, ...fig.labels.map((l) => textWidth(l) + 16));
  const panelW = 190;
  const rowH = 26;
  const top = 58;
  const width = left + panelW * fig.panels.length + 12;
  const height = top + rowH * fig.labels.length + 16;
  const body: string[] = [text(8, 20, fig.title, { 'font-size': 14, 'font-weight': 'bold' })];
  fig.labels.forEach((l, i) =>
    body.push(text(left - 8, top + i * rowH + rowH / 2 + 4, l, { 'text-anchor': 'end' })),
  );
  fig.panels.forEach((p, k) => {
    const x0 = left + k * panelW;
    const maxV = Math.max(0, ...p.values.filter((v): v is number => v !== null && Number.isFinite(v)));
    const span = panelW - 70;
    body.push(text(x0 + 4, top - 12, p.title, { 'font-weight': 'bold' }));
    body.push(
      el('line', { x1: x0, y1: top - 4, x2: x0, y2: top + rowH * fig.labels.length, stroke: '#444444' }),
    );
    p.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      const w = maxV > 0 ? (Math.max(0, v) / maxV) * span : 0;
      const y = top + i * rowH + 4;
      body.push(el('rect', { x: x0, y, width: w, height: rowH - 8, fill: PALETTE[k % PALETTE.length] }));
      body.push(
        text(x0 + w + 4, y + rowH / 2, v.toFixed(p.digits ?? 2), { fill: '#222222', 'font-size': 11 }),
      );
    });
  });
  return svgDoc(width, height, fig.title, body);
}

/** Escapes text for the HTML report (the same rules as SVG text). */
export { esc };
