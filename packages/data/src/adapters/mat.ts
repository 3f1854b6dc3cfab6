/** Reading a MAT-file variable inside an adapter, with problems that name the file and the variable. */
import { readBounded } from '../io/paths.js';
import { MatFormatError, matNumbers, matStrings, readMat, type MatValue } from '../io/mat.js';
import type { AdapterContext } from './common.js';

export async function readMatFile(ctx: AdapterContext, file: string): Promise<Map<string, MatValue>> {
  const buf = await ctx.read(file, () => readBounded(file, ctx.limits.maxBytes, 'MAT-file'));
  try {
    return readMat(buf, { maxInflatedBytes: ctx.limits.maxBytes });
  } catch (e) {
    if (e instanceof MatFormatError) {
      ctx.fatal({
        code: 'bad-metadata',
        file,
        field: e.variable,
        message: e.message,
        expected: 'a MATLAB 5 (v6/v7) MAT-file',
      });
    }
    throw e;
  }
}

export function numbersOf(
  ctx: AdapterContext,
  file: string,
  vars: Map<string, MatValue>,
  name: string,
): Float64Array {
  const v = matNumbers(vars, name);
  if (typeof v === 'string')
    ctx.fatal({
      code: 'missing-column',
      file,
      field: name,
      message: v,
      expected: `a numeric variable "${name}"`,
    });
  return v;
}

export function stringsOf(
  ctx: AdapterContext,
  file: string,
  vars: Map<string, MatValue>,
  name: string,
): string[] {
  const v = matStrings(vars, name);
  if (typeof v === 'string')
    ctx.fatal({
      code: 'missing-column',
      file,
      field: name,
      message: v,
      expected: `a cell array of strings "${name}"`,
    });
  return v;
}
