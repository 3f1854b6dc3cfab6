/**
 * Swin's token orders as index arrays, so that every window partition, cyclic shift, window merge and patch merge of
 * the exported graph is one Gather with a constant index (or nothing at all).
 *
 * The residual stream of a Swin stage is held as [B, L, C] in some token order: `order[p]` is the raster index
 * (y·side + x) of the token at stream position p. LayerNorm, the MLP and the residual additions act on each token
 * alone, so only attention cares about the order: a block with shift s wants its windows' tokens contiguous,
 * in timm's order (windows row-major, tokens row-major inside a window, after rolling the map by -s). Moving the stream
 * from one block's order to the next is one Gather; nothing is moved back after attention.
 */

/** The raster index of every stream position when the stream holds the windows of a block with `shift`. */
export function windowOrder(side: number, window: number, shift: number): Int32Array {
  const order = new Int32Array(side * side);
  const per = side / window;
  let p = 0;
  for (let wy = 0; wy < per; wy++)
    for (let wx = 0; wx < per; wx++)
      for (let ny = 0; ny < window; ny++)
        for (let nx = 0; nx < window; nx++) {
          // torch.roll(x, -shift): rolled[r] = x[(r + shift) mod side]
          const y = (wy * window + ny + shift) % side;
          const x = (wx * window + nx + shift) % side;
          order[p++] = y * side + x;
        }
  return order;
}

/** The identity order (raster). */
export function rasterOrder(count: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => i);
}

/** position[raster] = stream position holding that raster token. */
export function inverse(order: Int32Array): Int32Array {
  const inv = new Int32Array(order.length).fill(-1);
  order.forEach((r, p) => {
    inv[r] = p;
  });
  return inv;
}

/** Gather indices that move a stream from order `from` to order `to` (null when they are the same). */
export function reorderIndices(from: Int32Array, to: Int32Array): Int32Array | null {
  const inv = inverse(from);
  const idx = Int32Array.from(to, (r) => inv[r]);
  return idx.every((v, i) => v === i) ? null : idx;
}

/**
 * Patch merging's gather: for every token of the merged (side/2)² map in order `to`, the stream positions (in order
 * `from`) of its four sources in timm's channel order x0 = (2y, 2x), x1 = (2y+1, 2x), x2 = (2y, 2x+1), x3 = (2y+1, 2x+1).
 * Shape [(side/2)², 4].
 */
export function mergeIndices(side: number, from: Int32Array, to: Int32Array): Int32Array {
  const inv = inverse(from);
  const half = side / 2;
  const idx = new Int32Array(half * half * 4);
  const offsets: [number, number][] = [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ];
  to.forEach((r, q) => {
    const y = Math.floor(r / half);
    const x = r % half;
    offsets.forEach(([dy, dx], k) => {
      idx[q * 4 + k] = inv[(2 * y + dy) * side + (2 * x + dx)];
    });
  });
  return idx;
}

/**
 * Average pooling with a `cell`×`cell` kernel and stride as a gather: for every cell of the pooled map (raster order)
 * the stream positions of its cell² tokens. Shape [(side/cell)², cell²]; the mean over the last axis is the pool.
 */
export function poolIndices(side: number, cell: number, from: Int32Array): Int32Array {
  const inv = inverse(from);
  const g = side / cell;
  const idx = new Int32Array(side * side);
  let i = 0;
  for (let cy = 0; cy < g; cy++)
    for (let cx = 0; cx < g; cx++)
      for (let y = 0; y < cell; y++)
        for (let x = 0; x < cell; x++) idx[i++] = inv[(cy * cell + y) * side + cx * cell + x];
  return idx;
}

/** True when `idx` is 0, 1, 2, … (a gather with it is a plain reshape). */
export function isIdentity(idx: Int32Array): boolean {
  return idx.every((v, i) => v === i);
}

/**
 * timm's relative_position_index for a window×window window: for tokens i, j (row-major), the row of the bias table,
 * (dy + w - 1)·(2w - 1) + (dx + w - 1) with dy = y_i - y_j, dx = x_i - x_j.
 */
export function relativePositionIndex(window: number): Int32Array {
  const n = window * window;
  const span = 2 * window - 1;
  const idx = new Int32Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const dy = Math.floor(i / window) - Math.floor(j / window);
      const dx = (i % window) - (j % window);
      idx[i * n + j] = (dy + window - 1) * span + (dx + window - 1);
    }
  return idx;
}

/**
 * The shifted-window mask of timm: in the rolled map, rows and columns fall into the regions [0, side-window),
 * [side-window, side-shift), [side-shift, side); two tokens of a window attend to each other only when they come from
 * the same region pair (0), else -100. [windows, N, N], windows and tokens row-major.
 */
export function shiftMask(side: number, window: number, shift: number): Float32Array {
  const region = (i: number): number => (i < side - window ? 0 : i < side - shift ? 1 : 2);
  const per = side / window;
  const n = window * window;
  const mask = new Float32Array(per * per * n * n);
  for (let w = 0; w < per * per; w++) {
    const wy = Math.floor(w / per);
    const wx = w % per;
    const label = Int32Array.from(
      { length: n },
      (_, t) => region(wy * window + Math.floor(t / window)) * 3 + region(wx * window + (t % window)),
    );
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) mask[(w * n + i) * n + j] = label[i] === label[j] ? 0 : -100;
  }
  return mask;
}
