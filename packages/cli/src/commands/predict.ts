import { readdir, stat } from 'node:fs/promises';
import { extname, join, relative, resolve } from 'node:path';
import type { ResizePresetName } from '@iqa-bench/data';
import { IMAGE_EXTENSIONS } from '@iqa-bench/scorer';
import { Command } from 'commander';
import type { Ctx } from '../context.js';
import { describeError, ExitCode } from '../errors.js';
import type { ModelLimitFlags } from '../model-limits.js';
import { modelLimitOptions, modelLimits } from '../model-limits.js';
import type { CommonFlags } from '../io.js';
import { writeFileAtomic } from '@iqa-bench/core/fs';
import { commonOptions, examples } from '../options.js';
import type { ScoreFlags, ScoreOutcome } from '../scoring.js';
import { openScorer, scoreMany, scoreOptions } from '../scoring.js';
import type { MapFiles, QualityMapFlags } from '../quality-map.js';
import { prepareQualityMaps, qualityMapOptions } from '../quality-map.js';
import { renderText } from '../table.js';
import { VERSION } from '../version.js';

interface PredictFlags extends CommonFlags, ScoreFlags, ModelLimitFlags, QualityMapFlags {
  checkpoint: string;
  csv?: boolean;
}

/** File extensions read from a folder (the formats @iqa-bench/data decodes). */
export { IMAGE_EXTENSIONS };

export const PREDICTIONS_SCHEMA = 'iqa-bench/predictions@1';

interface Prediction {
  path: string;
  score: number | null;
  patchScores: number[];
  error?: string;
  /** The quality map (`--map`), relative to the --out file's folder. */
  map?: MapFiles;
}

/** One input to score, or why a command-line input gives nothing to score (it is reported like an unreadable image). */
interface Input {
  path: string;
  error?: string;
}

/**
 * The images named on the command line: files as given, folders as their image files (sorted, not recursive). A
 * missing path or a folder without images is an input with an error: the others are still scored.
 */
async function collectImages(cwd: string, args: readonly string[]): Promise<Input[]> {
  const out: Input[] = [];
  for (const arg of args) {
    const abs = resolve(cwd, arg);
    let s;
    try {
      s = await stat(abs);
    } catch (err) {
      out.push({ path: arg, error: `${arg}: ${describeError(err).replace(`${abs}: `, '')}` });
      continue;
    }
    if (s.isDirectory()) {
      const names = (await readdir(abs))
        .filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()))
        .sort();
      if (names.length === 0)
        out.push({ path: arg, error: `${arg}: no images (${IMAGE_EXTENSIONS.join(', ')}) in this folder` });
      out.push(...names.map((n) => ({ path: join(arg, n) })));
    } else {
      out.push({ path: arg });
    }
  }
  return out;
}

/** `--out` of predict: JSON or CSV, said by the extension. */
const OUT_EXTENSIONS = ['.json', '.csv'];

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function predictionsCsv(rows: readonly Prediction[]): string {
  const lines = ['path,score,patch_scores,error'];
  for (const r of rows) {
    lines.push(
      [
        csvField(r.path),
        r.score === null ? '' : String(r.score),
        r.patchScores.join(';'),
        csvField(r.error ?? ''),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

export function predictCommand(ctx: Ctx): Command {
  const cmd = new Command('predict')
    .summary('score images (files or folders) with a checkpoint')
    .description(
      'Score images with a model: every image is decoded (JPEG, PNG, BMP, TIFF; no EXIF rotation, as PIL), ' +
        'preprocessed, cut into --patches crops, and scored as the mean of its crop scores (eval mode). Prints each ' +
        "image's path, score and patch scores. A folder contributes its image files (sorted, not recursive). An image " +
        'that cannot be read, a missing file and a folder without images are reported and the others are still ' +
        'scored; the exit code is then 2.',
    )
    .argument('<image|folder...>', 'image files and folders')
    .requiredOption(
      '--checkpoint <file>',
      'the model: .safetensors, PyTorch .pkl/.pth (read safely), a TF.js model folder, or an ONNX model (.onnx: --runtime onnx)',
    )
    .option('--csv', 'print CSV (path,score,patch_scores,error) instead of the table');
  scoreOptions(cmd, 'seed');
  qualityMapOptions(cmd);
  modelLimitOptions(cmd);
  commonOptions(cmd, {
    out: 'also write the predictions to <file>: <file>.json (JSON) or <file>.csv (CSV), atomically',
  });
  examples(cmd, [
    'iqa-bench predict --checkpoint koniq.safetensors photo.jpg',
    'iqa-bench predict --checkpoint koniq_pretrained.pkl --patches 25 --crop random --seed 1 photos/ --csv > scores.csv',
    'iqa-bench predict --checkpoint model/ --preprocess none img1.png img2.png --json',
    'iqa-bench predict --checkpoint koniq.safetensors --map maps/ --map-crops 25 --out scores.json photos/',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: PredictFlags, args: string[]) => {
      out.checkOutExtension(OUT_EXTENSIONS);
      const inputs = await collectImages(out.io.cwd, args);
      const files = inputs.filter((i) => i.error === undefined).map((i) => i.path);
      const opened = await openScorer(out, flags, flags.checkpoint, modelLimits(flags));
      const preset: ResizePresetName = flags.preprocess ?? 'seed';
      const jobs = files.map((file) => ({
        path: out.path(file),
        id: relative(out.io.cwd, out.path(file)) || file,
        preset,
      }));
      const maps = await prepareQualityMaps(out, flags, jobs);
      let outcomes: ScoreOutcome[];
      let mapFiles: (MapFiles | undefined)[] | undefined;
      try {
        outcomes = await scoreMany(out, opened.scorer, jobs, 'predict');
        mapFiles = await maps?.write(opened.scorer, outcomes);
      } finally {
        await opened.scorer.close();
      }
      const rows: Prediction[] = [];
      let k = 0;
      for (const input of inputs) {
        const file = input.path;
        const o = input.error === undefined ? outcomes[k++] : undefined;
        if (o?.score) {
          const map = mapFiles?.[k - 1];
          rows.push({
            path: file,
            score: o.score.score,
            patchScores: o.score.cropScores,
            ...(map ? { map } : {}),
          });
          continue;
        }
        let error = input.error;
        if (error === undefined) {
          const msg = describeError(o?.error);
          const abs = jobs[k - 1].path;
          // Name the image as the user typed it.
          error = msg.includes(abs)
            ? msg.split(abs).join(file)
            : msg.includes(file)
              ? msg
              : `${file}: ${msg}`;
        }
        out.io.stderr.write(`iqa-bench: error: ${error}\n`);
        rows.push({ path: file, score: null, patchScores: [], error });
      }
      const json = {
        schema: PREDICTIONS_SCHEMA,
        producer: `@iqa-bench/cli ${VERSION}`,
        checkpoint: flags.checkpoint,
        model: opened.description,
        settings: {
          patches: flags.patches,
          crop: flags.crop,
          preprocess: preset,
          seed: flags.seed,
          runtime: opened.runtime,
          backend: opened.backend,
          ...maps?.settings,
        },
        images: rows,
      };
      if (flags.out !== undefined) {
        const csv = flags.out.toLowerCase().endsWith('.csv');
        await writeFileAtomic(
          out.path(flags.out),
          csv ? predictionsCsv(rows) : `${JSON.stringify(json, null, 2)}\n`,
        );
        out.log(`wrote ${flags.out} (${csv ? 'CSV' : 'JSON'}, ${rows.length} image(s))`);
      }
      if (flags.csv && !flags.json) out.io.stdout.write(predictionsCsv(rows));
      else {
        out.result(json, () =>
          renderText({
            columns: [{ header: 'image' }, { header: 'score', align: 'right' }, { header: 'patch scores' }],
            rows: rows.map((r) => [
              r.path,
              r.score === null ? 'ERROR' : r.score.toFixed(4),
              // The path is in the first column: the error without it.
              r.error !== undefined
                ? r.error.startsWith(`${r.path}: `)
                  ? r.error.slice(r.path.length + 2)
                  : r.error
                : r.patchScores.map((p) => p.toFixed(4)).join(' '),
            ]),
          }),
        );
      }
      return rows.some((r) => r.error !== undefined) ? ExitCode.badInput : ExitCode.ok;
    }),
  );
}
