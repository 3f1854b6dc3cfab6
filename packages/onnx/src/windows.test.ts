import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  inverse,
  mergeIndices,
  poolIndices,
  rasterOrder,
  relativePositionIndex,
  reorderIndices,
  shiftMask,
  windowOrder,
} from './windows.js';

// Goldens from tools/onnx/make_window_fixtures.py: timm's arithmetic (np.roll, window_partition, slice masks) in numpy.
interface Case {
  side: number;
  window: number;
  shift: number;
  order0: number[];
  orderShift: number[];
  mask: number[];
  mergeSources: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/windows.json', import.meta.url), 'utf8')) as {
  cases: Case[];
  relativePositionIndex: Record<string, number[]>;
};

describe.each(fixture.cases)('side $side, window $window, shift $shift', (c) => {
  it('window orders equal timm roll + window_partition', () => {
    expect(Array.from(windowOrder(c.side, c.window, 0))).toEqual(c.order0);
    expect(Array.from(windowOrder(c.side, c.window, c.shift))).toEqual(c.orderShift);
  });

  it('the shift mask equals timm attn_mask', () => {
    expect(Array.from(shiftMask(c.side, c.window, c.shift))).toEqual(c.mask);
  });

  it('one gather moves the stream between block orders', () => {
    const from = windowOrder(c.side, c.window, 0);
    const to = windowOrder(c.side, c.window, c.shift);
    const idx = reorderIndices(from, to)!;
    // stream holds raster ids in `from` order; gathering with idx gives them in `to` order
    expect(Array.from(idx, (p) => from[p])).toEqual(c.orderShift);
    expect(reorderIndices(to, to)).toBeNull();
  });

  it('patch merging gathers timm x0..x3 from any stream order, into any next order', () => {
    const from = windowOrder(c.side, c.window, c.shift);
    const half = c.side / 2;
    const to = Int32Array.from({ length: half * half }, (_, i) => half * half - 1 - i); // reversed raster
    const idx = mergeIndices(c.side, from, to);
    const got = Array.from(idx, (p) => from[p]);
    const want = Array.from(to).flatMap((r) => c.mergeSources.slice(r * 4, r * 4 + 4));
    expect(got).toEqual(want);
  });
});

it('relative position index equals timm', () => {
  for (const [ws, idx] of Object.entries(fixture.relativePositionIndex))
    expect(Array.from(relativePositionIndex(Number(ws)))).toEqual(idx);
});

it('pool indices list each cell of the raster map, from a permuted stream', () => {
  const order = windowOrder(8, 4, 2);
  const idx = poolIndices(8, 2, order);
  const cells = Array.from(idx, (p) => order[p]);
  // cell c = (cy, cx) of the 4×4 pooled map holds the rasters (2cy + y)·8 + 2cx + x
  expect(cells.slice(0, 4)).toEqual([0, 1, 8, 9]);
  expect(cells.slice(4 * 1, 4 * 2)).toEqual([2, 3, 10, 11]);
  expect(cells.slice(4 * 5, 4 * 6)).toEqual([18, 19, 26, 27]);
  expect(inverse(rasterOrder(5))).toEqual(rasterOrder(5));
});
