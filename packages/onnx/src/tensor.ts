/** Plain float32 array helpers for preparing initializers. */

/** The [cols, rows] transpose of a row-major [rows, cols] matrix (a torch Linear weight [out, in] → [in, out]). */
export function transposed(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}
