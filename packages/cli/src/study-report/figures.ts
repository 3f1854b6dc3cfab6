/**
 * The study report's figure kinds, drawn with the single-run report's SVG primitives: dual SRCC/PLCC bars with error
 * bars per variant, a sensitivity curve over a swept field, accuracy against model size. Deterministic like them.
 */
import { axes, el, f, niceTicks, PALETTE, svgDoc, text, textWidth, tickLabel } from '../report/svg.js';

/** A median with the ends of its error bar. */
export interface Whisker {
  median: number | null;
  low: number | null;
  high: number | null;
}

export interface DualBarFigure {
  title: string;
  /** One group per variant. */
  labels: readonly string[];
  /** Series shown side by side in each group (SRCC, PLCC). */
  series: readonly { name: string; values: readonly Whisker[] }[];
  /** Shown in place of a group's bars when it has no value (e.g. "no finished run"). */
  emptyLabel?: string;
  yLabel: string;
}

function finite(values: readonly (number | null)[]): number[] {
  return values.filter((v): v is number => v !== null && Number.isFinite(v));
}

/** Grouped vertical bars (median) with error bars (low–high), a legend above; empty groups say so. */
export function dualBarsSvg(fig: DualBarFigure): string {
  const groupW = Math.max(54, 22 * fig.series.length + 18);
  const labelRoom = Math.min(140, Math.max(30, ...fig.labels.map((l) => textWidth(l, 11) * 0.72 + 10)));
  const x0 = 64;
  const width = Math.max(360, x0 + groupW * fig.labels.length + 24);
  const height = 300 + labelRoom;
  const box = { x0, y0: 48, x1: width - 20, y1: 300 - 20 };
  const all = fig.series.flatMap((s) => finite(s.values.flatMap((w) => [w.median, w.low, w.high])));
  const lo = all.length > 0 ? Math.min(...all) : 0;
  const hi = all.length > 0 ? Math.max(...all) : 1;
  const yt = niceTicks(lo - (hi - lo) * 0.3, hi, { count: 6 });
  const sy = (v: number) => box.y1 - ((v - yt.lo) / (yt.hi - yt.lo)) * (box.y1 - box.y0);
  const body: string[] = [];
  const grid = yt.ticks.map((t) => el('line', { x1: box.x0, y1: sy(t), x2: box.x1, y2: sy(t) }));
  body.push(el('g', { stroke: '#e5e5e5', 'stroke-width': 1 }, grid));
  body.push(
    el(
      'g',
      { fill: '#333333' },
      yt.ticks.map((t) => text(box.x0 - 6, sy(t) + 4, tickLabel(t, yt.step), { 'text-anchor': 'end' })),
    ),
  );
  const barW = (groupW - 14) / Math.max(1, fig.series.length);
  fig.labels.forEach((label, g) => {
    const gx = box.x0 + 8 + g * groupW;
    const cx = gx + (groupW - 14) / 2;
    const empty = fig.series.every((s) => s.values[g]?.median === null || s.values[g]?.median === undefined);
    if (empty) {
      body.push(
        text(cx, box.y1 - 8, fig.emptyLabel ?? 'n/a', {
          'text-anchor': 'start',
          fill: '#b00020',
          'font-size': 10,
          transform: `rotate(-90 ${f(cx)} ${f(box.y1 - 8)})`,
        }),
      );
    }
    fig.series.forEach((s, k) => {
      const w = s.values[g];
      if (w === undefined || w.median === null) return;
      const x = gx + k * barW;
      const top = sy(w.median);
      body.push(
        el('rect', {
          x,
          y: Math.min(top, box.y1),
          width: barW - 2,
          height: Math.abs(box.y1 - top),
          fill: PALETTE[k % PALETTE.length],
        }),
      );
      if (w.low !== null && w.high !== null) {
        const mx = x + (barW - 2) / 2;
        body.push(
          el('g', { stroke: '#222222', 'stroke-width': 1.2 }, [
            el('line', { x1: mx, y1: sy(w.low), x2: mx, y2: sy(w.high) }),
            el('line', { x1: mx - 3, y1: sy(w.low), x2: mx + 3, y2: sy(w.low) }),
            el('line', { x1: mx - 3, y1: sy(w.high), x2: mx + 3, y2: sy(w.high) }),
          ]),
        );
      }
    });
    body.push(
      text(cx, box.y1 + 14, label, {
        'text-anchor': 'end',
        'font-size': 11,
        transform: `rotate(-45 ${f(cx)} ${f(box.y1 + 14)})`,
        fill: empty ? '#b00020' : '#222222',
      }),
    );
  });
  body.push(
    el('rect', {
      x: box.x0,
      y: box.y0,
      width: box.x1 - box.x0,
      height: box.y1 - box.y0,
      fill: 'none',
      stroke: '#444444',
    }),
  );
  body.push(
    text(0, 0, fig.yLabel, {
      transform: `translate(${f(box.x0 - 44)} ${f((box.y0 + box.y1) / 2)}) rotate(-90)`,
      'text-anchor': 'middle',
      fill: '#222222',
    }),
  );
  let lx = box.x0;
  for (const [k, s] of fig.series.entries()) {
    body.push(el('rect', { x: lx, y: 28, width: 12, height: 10, fill: PALETTE[k % PALETTE.length] }));
    body.push(text(lx + 16, 37, s.name, { fill: '#222222' }));
    lx += 30 + textWidth(s.name);
  }
  body.push(
    text(lx + 6, 37, 'bars: median over seeds · error bars: min–max', { fill: '#555555', 'font-size': 11 }),
  );
  body.push(text(box.x0, 18, fig.title, { 'font-size': 14, 'font-weight': 'bold' }));
  return svgDoc(width, height, fig.title, body);
}

export interface CurveSeries {
  name: string;
  /** x, median, low, high (low/high null: no error bar). */
  points: readonly { x: number; y: number | null; low: number | null; high: number | null; label?: string }[];
}

export interface WhiskerPlotFigure {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  /** Join a series' points with a line (a sweep) or leave them as labelled points (sizes). */
  lines: boolean;
  series: readonly CurveSeries[];
  /** A horizontal reference line (the baseline's median), labelled. */
  reference?: { y: number; label: string };
  note?: string;
}

/** Points with error bars over a numeric x (a sensitivity curve, accuracy vs complexity), log x where asked. */
export function whiskerPlotSvg(fig: WhiskerPlotFigure): string {
  const W = 560;
  const H = 400;
  const box = { x0: 64, y0: 52, x1: W - 24, y1: H - 52 };
  const pts = fig.series.flatMap((s) => s.points);
  const xs = pts.map((p) => p.x).filter((x) => Number.isFinite(x) && (!fig.xLog || x > 0));
  const ys = finite([...pts.flatMap((p) => [p.y, p.low, p.high]), fig.reference?.y ?? null]);
  const xr: [number, number] = xs.length > 0 ? [Math.min(...xs), Math.max(...xs)] : [1, 10];
  const yr: [number, number] = ys.length > 0 ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  const { frame, svg } = axes(box, xr, yr, { x: fig.xLabel, y: fig.yLabel, xLog: fig.xLog ?? false });
  const body: string[] = [svg];
  if (fig.reference) {
    const y = frame.sy(fig.reference.y);
    body.push(
      el('line', { x1: box.x0, y1: y, x2: box.x1, y2: y, stroke: '#7f7f7f', 'stroke-dasharray': '5 4' }),
      text(box.x1 - 4, y + 14, fig.reference.label, {
        'text-anchor': 'end',
        fill: '#555555',
        'font-size': 11,
      }),
    );
  }
  fig.series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    const shown = s.points.filter((p) => p.y !== null && Number.isFinite(p.x) && (!fig.xLog || p.x > 0));
    const parts: string[] = [];
    if (fig.lines && shown.length > 1) {
      const poly = shown.map((p) => `${f(frame.sx(p.x))},${f(frame.sy(p.y as number))}`).join(' ');
      parts.push(el('polyline', { points: poly, fill: 'none', 'stroke-width': 2 }));
    }
    for (const p of shown) {
      const cx = frame.sx(p.x);
      if (p.low !== null && p.high !== null) {
        parts.push(
          el('line', { x1: cx, y1: frame.sy(p.low), x2: cx, y2: frame.sy(p.high), 'stroke-width': 1.2 }),
          el('line', {
            x1: cx - 4,
            y1: frame.sy(p.low),
            x2: cx + 4,
            y2: frame.sy(p.low),
            'stroke-width': 1.2,
          }),
          el('line', {
            x1: cx - 4,
            y1: frame.sy(p.high),
            x2: cx + 4,
            y2: frame.sy(p.high),
            'stroke-width': 1.2,
          }),
        );
      }
      parts.push(el('circle', { cx, cy: frame.sy(p.y as number), r: 3.5 }));
      if (p.label) {
        // left of the point when the label would leave the plot on the right
        const right = cx + 7 + textWidth(p.label, 11) <= box.x1;
        parts.push(
          text(right ? cx + 7 : cx - 7, frame.sy(p.y as number) - 6, p.label, {
            stroke: 'none',
            'font-size': 11,
            'text-anchor': right ? 'start' : 'end',
          }),
        );
      }
    }
    body.push(el('g', { stroke: color, fill: color }, parts));
  });
  let lx = box.x0;
  for (const [k, s] of fig.series.entries()) {
    body.push(
      el('line', {
        x1: lx,
        y1: 41,
        x2: lx + 16,
        y2: 41,
        stroke: PALETTE[k % PALETTE.length],
        'stroke-width': 2,
      }),
    );
    body.push(text(lx + 20, 45, s.name, { fill: '#222222' }));
    lx += 30 + textWidth(s.name);
  }
  if (fig.note) body.push(text(lx + 6, 45, fig.note, { fill: '#555555', 'font-size': 11 }));
  body.push(text(box.x0, 18, fig.title, { 'font-size': 14, 'font-weight': 'bold' }));
  return svgDoc(W, H, fig.title, body);
}
