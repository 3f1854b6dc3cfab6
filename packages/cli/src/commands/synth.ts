import { readdir } from 'node:fs/promises';
import { generateSynthetic } from '@iqa-bench/data';
import { CliError } from '../errors.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Ctx } from '../context.js';
import type { CommonFlags } from '../io.js';
import { commonOptions, examples, positiveInt } from '../options.js';
import { renderText } from '../table.js';

interface SynthFlags extends CommonFlags {
  layout: 'kadid10k' | 'koniq10k';
  seed: string;
  refs?: number;
  size?: [number, number];
  raters?: number;
  force?: boolean;
}

/** `512x384` → [512, 384]. */
export function imageSize(value: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(value.trim());
  if (m === null || Number(m[1]) < 16 || Number(m[2]) < 16)
    throw new InvalidArgumentError('expected WIDTHxHEIGHT, at least 16x16, e.g. 512x384.');
  return [Number(m[1]), Number(m[2])];
}

export function synthCommand(ctx: Ctx): Command {
  const cmd = new Command('synth')
    .summary('write a deterministic synthetic IQA dataset in the layout of a real one')
    .description(
      'Write a small synthetic IQA dataset to --out in the exact layout of KADID-10k (dmos.csv + images/) or ' +
        'KonIQ-10k (the two metadata CSVs + 512x384/): procedural reference scenes distorted by blur, noise, JPEG, ' +
        'contrast and colour changes at 5 levels, with a MOS that falls with severity plus seeded rater noise. ' +
        'The same seed gives the same bytes. Read it back with --dataset <layout>=<dir>.',
    )
    .addOption(
      new Option('--layout <layout>', 'the layout to write')
        .choices(['kadid10k', 'koniq10k'])
        .makeOptionMandatory(),
    )
    .requiredOption('--out <dir>', 'the folder to write (created; must be empty unless --force)')
    .option('--seed <s>', 'generator seed', '0')
    .option(
      '--refs <n>',
      "number of reference scenes, 25 distorted images each (default: @iqa-bench/data's generator default)",
      positiveInt,
    )
    .option(
      '--size <WxH>',
      "image size, at least 224x224 for 224 crops with --preprocess none (default: the generator's; 512x384 is KADID-10k's size)",
      imageSize,
    )
    .option(
      '--raters <n>',
      'simulated raters per image (default 40 for kadid10k, 60 for koniq10k)',
      positiveInt,
    )
    .option('--force', 'write into a non-empty folder (files of the same names are replaced)');
  commonOptions(cmd, false).option('--json', 'print a summary as JSON on stdout');
  examples(cmd, [
    'iqa-bench synth --layout kadid10k --out synth-kadid --seed 1',
    'iqa-bench synth --layout koniq10k --out synth-koniq --seed 2 --refs 4 --size 320x240',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: SynthFlags) => {
      const dir = out.path(flags.out as string);
      const existing = await readdir(dir).catch(() => [] as string[]);
      if (existing.length > 0 && !flags.force) {
        throw new CliError(
          `--out ${flags.out}: the folder is not empty; choose an empty one or pass --force`,
        );
      }
      const result = await generateSynthetic({
        layout: flags.layout,
        out: dir,
        seed: flags.seed,
        ...(flags.refs !== undefined ? { refs: flags.refs } : {}),
        ...(flags.size !== undefined ? { width: flags.size[0], height: flags.size[1] } : {}),
        ...(flags.raters !== undefined ? { raters: flags.raters } : {}),
        ...(flags.force ? { overwrite: true } : {}),
      });
      const scores = result.images.map((i) => i.score);
      const summary = {
        layout: result.layout,
        root: result.root,
        seed: flags.seed,
        images: result.images.length,
        references: new Set(result.images.map((i) => i.ref)).size,
        scoreRange: [Math.min(...scores), Math.max(...scores)],
        files: result.files.length,
        hash: result.hash,
      };
      out.result(summary, () =>
        renderText({
          columns: [{ header: 'field' }, { header: 'value' }],
          rows: [
            ['layout', summary.layout],
            ['folder', summary.root],
            ['seed', summary.seed],
            ['images', `${summary.images} (${summary.references} reference scenes)`],
            ['scores', `${summary.scoreRange[0]} … ${summary.scoreRange[1]}`],
            ['files', String(summary.files)],
            ['hash', summary.hash],
          ],
        }),
      );
    }),
  );
}
