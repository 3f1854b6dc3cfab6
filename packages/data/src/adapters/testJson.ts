/** The original project's cross-dataset folders: `<name>_test.json` (`[{image, score}]`) with the images beside it. */
import {
  baseName,
  checkRows,
  readJsonList,
  type AdapterContext,
  type AdapterResult,
  type RawRow,
} from './common.js';
import type { ScoreDirection } from '../types.js';

/**
 * Reads `file` (e.g. `spaq_test.json`) from the root; images are looked up by base name in the root, as the
 * original's `JSONTestDataset` does. The score scale is not documented, so the range is the observed min/max
 * (override with `scoreRange`).
 */
export async function readTestJson(
  ctx: AdapterContext,
  file: string,
  direction: ScoreDirection,
  refOf?: (name: string) => string | undefined,
): Promise<AdapterResult> {
  const full = ctx.at(file);
  const entries = await readJsonList(ctx, full);
  const rows: RawRow[] = entries.map((e) => {
    const name = baseName(e.name);
    const ref = refOf?.(name);
    return {
      id: name,
      name,
      dirs: [ctx.root],
      scoreText: e.score,
      ...(ref !== undefined ? { refId: ref } : {}),
      file: full,
      row: e.row,
      field: 'score',
    };
  });
  const images = await checkRows(ctx, rows);
  return {
    layout: 'test-json',
    scale: { name: 'score', direction, published: null },
    images,
    referenceBased: refOf !== undefined,
    splits: {},
  };
}
