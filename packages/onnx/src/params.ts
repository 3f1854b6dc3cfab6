/**
 * The model's parameters by PyTorch name and layout (from @iqa-bench/model's exportStateDict), read with the shape the
 * exporter expects. A missing or mis-shaped parameter is recorded rather than thrown at once, so that one error names
 * every problem.
 */
import type { StateDict } from '@iqa-bench/model/weights';

export class ParamReader {
  private readonly missing: string[] = [];
  private readonly misshaped: string[] = [];
  private readonly used = new Set<string>();

  constructor(private readonly sd: StateDict) {}

  /** float32 values of `name` in PyTorch layout, expected to have `shape`. */
  get(name: string, shape: readonly number[]): Float32Array {
    const n = shape.reduce((a, b) => a * b, 1);
    const t = this.sd.get(name);
    this.used.add(name);
    if (!t) {
      this.missing.push(`${name} [${shape.join(',')}]`);
      return new Float32Array(n);
    }
    if (t.dtype !== 'float32' || t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      this.misshaped.push(
        `${name} (model ${t.dtype}[${t.shape.join(',')}], expected float32[${shape.join(',')}])`,
      );
      return new Float32Array(n);
    }
    return t.data as Float32Array;
  }

  /** Throws one error naming every missing or mis-shaped parameter, if any. */
  check(what: string): void {
    if (this.missing.length === 0 && this.misshaped.length === 0) return;
    const parts: string[] = [];
    if (this.missing.length)
      parts.push(`missing ${this.missing.length} parameter(s): ${this.missing.join(', ')}`);
    if (this.misshaped.length) parts.push(`mis-shaped: ${this.misshaped.join(', ')}`);
    throw new Error(`${what}: the model's parameters do not fit its config; ${parts.join('; ')}`);
  }
}
