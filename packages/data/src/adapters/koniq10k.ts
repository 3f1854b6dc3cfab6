/**
 * KonIQ-10k. Three layouts:
 * - `official`: `koniq10k_scores_and_distributions.csv` (image_name, c1..c5, c_total, MOS, SD, MOS_zscore) and/or
 *   `koniq10k_distributions_sets.csv` (image_name, c1..c5, c_total, MOS, SD, set; its MOS is the 0–100 scale),
 *   images in `1024x768/` or `512x384/`; the `set` column gives the official split (training/validation/test).
 * - `seed-json`: the original project's `koniq_train.json` / `koniq_test.json` (`[{image, score}]`, only the base
 *   name of `image` is used) with `train/` and `test/`; labels come from the scores CSV's `MOS_zscore` when it is
 *   there (as the original reads them), else from the JSON `score`.
 * - `test-json`: the original's `koniq-test/` folder: `koniq_test.json` with the images beside it.
 */
import { promises as fs } from 'node:fs';
import { exists } from '../io/paths.js';
import { readCsv, type Table } from '../io/table.js';
import {
  baseName,
  checkRows,
  joinInsideOrFatal,
  readJsonList,
  type Adapter,
  type AdapterContext,
  type AdapterInfo,
  type AdapterResult,
  type RawRow,
} from './common.js';
import { readTestJson } from './testJson.js';

const SCORES = 'koniq10k_scores_and_distributions.csv';
const SETS = 'koniq10k_distributions_sets.csv';
const SET_PARTS: Record<string, string> = { training: 'train', validation: 'val', test: 'test' };

export const koniq10kInfo: AdapterInfo = {
  title: 'KonIQ-10k',
  aliases: [],
  scale: { name: 'MOS_zscore', direction: 'higher-better', published: [1, 100] },
  referenceBased: false,
  layouts: [
    {
      name: 'seed-json',
      reads: "the original's koniq_train.json + koniq_test.json with train/ and test/",
      markers: [['koniq_train.json']],
    },
    {
      name: 'official',
      reads: `${SCORES} and/or ${SETS}, images in 1024x768/ or 512x384/`,
      markers: [[SCORES], [SETS]],
    },
    {
      name: 'test-json',
      reads: "the original's koniq_test.json, images beside it",
      markers: [['koniq_test.json']],
    },
  ],
  pyiqa: { name: 'KonIQ10k', folder: 'koniq10k', images: ['512x384', '1024x768'], fullReference: false },
};

/** The published range of a KonIQ-10k label: `MOS` is the 1–5 rating, `MOS_zscore` (and the sets file's MOS) 0–100. */
function koniqRange(label: string): [number, number] | null {
  return label === 'MOS' ? [1, 5] : koniq10kInfo.scale.published;
}

export const koniq10k: Adapter = async (ctx: AdapterContext) => {
  const has = {
    scores: await exists(ctx.at(SCORES)),
    sets: await exists(ctx.at(SETS)),
    train: await exists(ctx.at('koniq_train.json')),
    test: await exists(ctx.at('koniq_test.json')),
  };
  const label = ctx.options.label ?? 'MOS_zscore';
  if (label !== 'MOS_zscore' && label !== 'MOS') {
    ctx.fatal({
      code: 'bad-option',
      file: ctx.root,
      field: 'label',
      message: `label ${JSON.stringify(label)}`,
      expected: '"MOS_zscore" or "MOS"',
    });
  }
  const forced = ctx.options.layout;
  if (forced === 'json' || (forced === undefined && (has.train || (has.test && !has.scores && !has.sets)))) {
    if (has.train) return seedJson(ctx, label, has.scores);
    if (has.test) return readTestJson(ctx, 'koniq_test.json', 'higher-better');
    ctx.fatal({
      code: 'missing-metadata',
      file: ctx.at('koniq_train.json'),
      message: 'neither koniq_train.json nor koniq_test.json found',
      expected: 'the original project JSON split files',
    });
  }
  if (!has.scores && !has.sets) {
    ctx.fatal({
      code: 'missing-metadata',
      file: ctx.at(SCORES),
      message: `no KonIQ-10k metadata (${SCORES} or ${SETS}) in the folder`,
      expected: `${SCORES} and/or ${SETS} (or koniq_train.json/koniq_test.json)`,
    });
  }
  return official(ctx, label, has.scores, has.sets);
};

async function imageFolder(ctx: AdapterContext): Promise<string> {
  const candidates = ctx.options.imageDir !== undefined ? [ctx.options.imageDir] : ['1024x768', '512x384'];
  for (const c of candidates) {
    if (await exists(ctx.at(c))) return joinInsideOrFatal(ctx, ctx.root, c);
  }
  if (ctx.options.imageDir === undefined) {
    // A resized copy in another <W>x<H>/ folder (e.g. the synthetic data) is accepted when it is the only one.
    const sized = (await fs.readdir(ctx.root, { withFileTypes: true })).filter(
      (e) => e.isDirectory() && /^\d+x\d+$/.test(e.name),
    );
    if (sized.length === 1) return ctx.at(sized[0].name);
  }
  ctx.fatal({
    code: 'missing-image',
    file: ctx.at(candidates[0]),
    message: `no image folder ${candidates.map((c) => c + '/').join(' or ')}`,
    expected:
      'the KonIQ-10k image folder (1024x768/ or 512x384/, a single other <W>x<H>/ folder, or option imageDir)',
  });
}

async function official(
  ctx: AdapterContext,
  label: string,
  hasScores: boolean,
  hasSets: boolean,
): Promise<AdapterResult> {
  const dir = await imageFolder(ctx);
  const limits = ctx.limits;
  const scores: Table | null = hasScores
    ? await ctx.read(ctx.at(SCORES), () => readCsv(ctx.at(SCORES), limits, SCORES))
    : null;
  const sets: Table | null = hasSets
    ? await ctx.read(ctx.at(SETS), () => readCsv(ctx.at(SETS), limits, SETS))
    : null;
  if (label === 'MOS' && !scores) {
    ctx.fatal({
      code: 'missing-metadata',
      file: ctx.at(SCORES),
      message: 'label "MOS" (1–5) needs the scores file',
      expected: `${SCORES} (the sets file's MOS column is on the 0–100 scale; use label "MOS_zscore")`,
    });
  }
  const parts: Record<string, string[]> = { train: [], val: [], test: [] };
  const rows: RawRow[] = [];
  if (sets) {
    const nameCol = ctx.column(sets, 'image_name');
    const setCol = ctx.column(sets, 'set');
    const mosCol = scores ? -1 : ctx.column(sets, 'MOS');
    for (const r of sets.rows) {
      const name = r.cells[nameCol] ?? '';
      const part = SET_PARTS[(r.cells[setCol] ?? '').trim()];
      if (part === undefined) {
        ctx.report({
          code: 'bad-metadata',
          file: sets.file,
          row: r.row,
          field: 'set',
          imageId: name,
          message: `set ${JSON.stringify(r.cells[setCol] ?? null)}`,
          expected: '"training", "validation" or "test"',
        });
      } else {
        parts[part].push(name);
      }
      if (!scores)
        rows.push({
          id: name,
          name,
          dirs: [dir],
          scoreText: r.cells[mosCol],
          file: sets.file,
          row: r.row,
          field: 'MOS',
        });
    }
  }
  if (scores) {
    const nameCol = ctx.column(scores, 'image_name');
    const labelCol = ctx.column(scores, label);
    for (const r of scores.rows) {
      const name = r.cells[nameCol] ?? '';
      rows.push({
        id: name,
        name,
        dirs: [dir],
        scoreText: r.cells[labelCol],
        file: scores.file,
        row: r.row,
        field: label,
      });
    }
  }
  const images = await checkRows(ctx, rows);
  return {
    layout: 'official',
    scale: { ...koniq10kInfo.scale, name: label, published: koniqRange(label) },
    images,
    referenceBased: false,
    splits: sets ? { official: parts } : {},
  };
}

async function seedJson(ctx: AdapterContext, label: string, hasScores: boolean): Promise<AdapterResult> {
  const trainFile = ctx.at('koniq_train.json');
  const testFile = ctx.at('koniq_test.json');
  const train = await readJsonList(ctx, trainFile);
  const test = (await exists(testFile)) ? await readJsonList(ctx, testFile) : [];
  let labels: Map<string, { text: string | undefined; row: number }> | null = null;
  let scoresFile = '';
  if (hasScores) {
    const t = await ctx.read(ctx.at(SCORES), () => readCsv(ctx.at(SCORES), ctx.limits, SCORES));
    scoresFile = t.file;
    const nameCol = ctx.column(t, 'image_name');
    const labelCol = ctx.column(t, label);
    labels = new Map(t.rows.map((r) => [r.cells[nameCol] ?? '', { text: r.cells[labelCol], row: r.row }]));
  }
  const trainDir = ctx.at('train');
  const testDir = ctx.at('test');
  const rows: RawRow[] = [];
  const parts: Record<string, string[]> = { train: [], test: [] };
  const add = (entries: typeof train, file: string, part: 'train' | 'test'): void => {
    for (const e of entries) {
      const name = baseName(e.name);
      parts[part].push(name);
      const dirs = part === 'train' ? [trainDir, testDir] : [testDir, trainDir];
      if (labels) {
        const l = labels.get(name);
        if (!l) {
          ctx.report({
            code: 'bad-metadata',
            file,
            row: e.row,
            field: 'image',
            imageId: name,
            message: `${JSON.stringify(name)} is not in ${SCORES}`,
            expected: `every listed image to have a row in ${SCORES}`,
          });
          continue;
        }
        rows.push({ id: name, name, dirs, scoreText: l.text, file: scoresFile, row: l.row, field: label });
      } else {
        rows.push({ id: name, name, dirs, scoreText: e.score, file, row: e.row, field: 'score' });
      }
    }
  };
  add(train, trainFile, 'train');
  add(test, testFile, 'test');
  const images = await checkRows(ctx, rows);
  return {
    layout: 'seed-json',
    scale: labels
      ? { ...koniq10kInfo.scale, name: label, published: koniqRange(label) }
      : { name: 'score', direction: 'higher-better', published: null },
    images,
    referenceBased: false,
    splits: { 'seed-json': parts },
  };
}
