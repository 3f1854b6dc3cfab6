/**
 * Hand-written SVG: small, no external assets, deterministic (same input, same bytes). Coordinates are rounded to
 * 0.01 px and attributes come in a fixed order.
 */

export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
/** Tableau-10, the palette series and points use. */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

/** A coordinate or length: at most two decimals, no trailing zeros, never "-0". */
export function f(n: number): string {
  const r = Math.round(n * 100) / 100;
  return Object.is(r, -0) || r === 0 ? '0' : String(r);
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

type Attr = string | number | undefined;

/** An element; numeric attributes go through `f`, undefined ones are left out. */
export function el(
  name: string,
  attrs: Record<string, Attr>,
  children: string | readonly string[] = '',
): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? f(v) : esc(v as string)}"`)
    .join('');
  const body = typeof children === 'string' ? children : children.join('');
  return body === '' ? `<${name}${a}/>` : `<${name}${a}>${body}</${name}>`;
}

export function text(x: number, y: number, s: string, attrs: Record<string, Attr> = {}): string {
  return el('text', { x, y, ...attrs }, esc(s));
}

/** The outer element, with a white background so PNGs rasterised from it are not transparent. */
export function svgDoc(width: number, height: number, title: string, body: readonly string[]): string {
  return el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      width,
      height,
      viewBox: `0 0 ${f(width)} ${f(height)}`,
      'font-family': FONT,
      'font-size': 12,
      role: 'img',
      'aria-label': title,
    },
    [el('title', {}, esc(title)), el('rect', { width, height, fill: '#ffffff' }), ...body],
  );
}

/** Approximate width of `s` in px at `size` (DejaVu Sans averages ~0.6 em per character). */
export function textWidth(s: string, size = 12): number {
  return [...s].length * size * 0.6;
}

/**
 * Axis domain and ticks for data in [min, max]: the domain is the data range padded by `pad` of its span on each side,
 * the ticks the multiples of a "nice" step (1, 2, 2.5 or 5 × 10^k) inside it, about `count` of them.
 */
export function niceTicks(
  min: number,
  max: number,
  options: { count?: number; pad?: number; integer?: boolean } = {},
): { ticks: number[]; lo: number; hi: number; step: number } {
  const { count = 5, pad = 0.04, integer = false } = options;
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) return niceTicks(0, 1, options);
  if (min === max) {
    const d = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    min -= d;
    max += d;
  }
  const span = max - min;
  const lo = min - span * pad;
  const hi = max + span * pad;
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const nice = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw * 0.999) ?? 10 * mag;
  const step = integer ? Math.max(1, Math.round(nice)) : nice;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(k * step + 0); // + 0 turns -0 into 0
  return { ticks, lo, hi, step };
}

/** A tick label: as many decimals as the step needs. */
export function tickLabel(v: number, step: number): string {
  let decimals = 0;
  while (decimals < 6 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6)
    decimals++;
  const s = v.toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/**
 * Ticks of a log axis for positive data in [min, max]: the domain [lo, hi] and the ticks are log10 values (the domain
 * padded by a twentieth of a decade, at least one decade wide), ticks on the decades, with 2× and 5× added when it
 * spans less than a decade and a half.
 */
export function logTicks(
  min: number,
  max: number,
): { ticks: number[]; lo: number; hi: number; step: number } {
  if (!(min > 0) || !(max >= min) || !Number.isFinite(max)) return logTicks(1, 10);
  let lo = Math.log10(min);
  let hi = Math.log10(max);
  if (hi - lo < 1) {
    const mid = (lo + hi) / 2;
    lo = mid - 0.5;
    hi = mid + 0.5;
  }
  lo -= 0.05;
  hi += 0.05;
  const ticks: number[] = [];
  const fine = hi - lo < 1.5;
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    for (const m of fine ? [1, 2, 5] : [1]) {
      const t = k + Math.log10(m);
      if (t >= lo - 1e-9 && t <= hi + 1e-9) ticks.push(t);
    }
  }
  return { ticks, lo, hi, step: 1 };
}

/** A log-axis tick label: the power of ten it stands for, `1e-7`, `5e-6`, `100`. */
export function logTickLabel(t: number): string {
  const v = 10 ** t;
  const k = Math.floor(t + 1e-9);
  const m = Math.round(v / 10 ** k);
  if (k >= 0 && k <= 4) return String(m * 10 ** k);
  return `${m}e${k}`;
}

export interface Frame {
  /** Plot area in px. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  sx: (v: number) => number;
  sy: (v: number) => number;
  xTicks: ReturnType<typeof niceTicks>;
  yTicks: ReturnType<typeof niceTicks>;
}

/**
 * Axes with ticks, grid lines and axis labels around a plot area (x on a log scale with `xLog`; the frame's `sx` then
 * takes the value itself, its `xTicks` are log10 values). Returns the frame and its SVG.
 */
export function axes(
  box: { x0: number; y0: number; x1: number; y1: number },
  xRange: [number, number],
  yRange: [number, number],
  labels: { x: string; y: string; xInteger?: boolean; xLog?: boolean },
): { frame: Frame; svg: string } {
  const xLog = labels.xLog === true;
  const xTicks = xLog
    ? logTicks(xRange[0], xRange[1])
    : niceTicks(xRange[0], xRange[1], { integer: labels.xInteger ?? false });
  const yTicks = niceTicks(yRange[0], yRange[1], { count: 6 });
  const toX = (v: number) => (xLog ? Math.log10(v) : v);
  const sx = (v: number) => box.x0 + ((toX(v) - xTicks.lo) / (xTicks.hi - xTicks.lo)) * (box.x1 - box.x0);
  const sy = (v: number) => box.y1 - ((v - yTicks.lo) / (yTicks.hi - yTicks.lo)) * (box.y1 - box.y0);
  const parts: string[] = [];
  const grid: string[] = [];
  for (const t of xTicks.ticks) {
    const x = sx(xLog ? 10 ** t : t);
    grid.push(el('line', { x1: x, y1: box.y0, x2: x, y2: box.y1 }));
    parts.push(
      text(x, box.y1 + 16, xLog ? logTickLabel(t) : tickLabel(t, xTicks.step), { 'text-anchor': 'middle' }),
    );
  }
  for (const t of yTicks.ticks) {
    const y = sy(t);
    grid.push(el('line', { x1: box.x0, y1: y, x2: box.x1, y2: y }));
    parts.push(text(box.x0 - 6, y + 4, tickLabel(t, yTicks.step), { 'text-anchor': 'end' }));
  }
  const svg = [
    el('g', { stroke: '#e5e5e5', 'stroke-width': 1 }, grid),
    el('rect', {
      x: box.x0,
      y: box.y0,
      width: box.x1 - box.x0,
      height: box.y1 - box.y0,
      fill: 'none',
      stroke: '#444444',
    }),
    el('g', { fill: '#333333' }, parts),
    text((box.x0 + box.x1) / 2, box.y1 + 36, labels.x, { 'text-anchor': 'middle', fill: '#222222' }),
    text(0, 0, labels.y, {
      transform: `translate(${f(box.x0 - 44)} ${f((box.y0 + box.y1) / 2)}) rotate(-90)`,
      'text-anchor': 'middle',
      fill: '#222222',
    }),
  ].join('');
  return { frame: { ...box, sx, sy, xTicks, yTicks }, svg };
}
