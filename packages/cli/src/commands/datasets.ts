import type { DatasetKeyInfo, IqaDataset, Split, VerifyReport } from '@iqa-bench/data';
import {
  datasetKeys,
  randomSplit,
  shippedSplit,
  splitManifest,
  verify,
  withValidation,
} from '@iqa-bench/data';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Ctx } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import type { CommonFlags } from '../io.js';
import { writeFileAtomic } from '@iqa-bench/core/fs';
import { commonOptions, examples, nonNegativeInt, positiveInt } from '../options.js';
import type { Table } from '../table.js';
import { num, renderText } from '../table.js';
import type { DatasetFlags } from './dataset-options.js';
import { datasetOptions, datasetSpecs, loadOptions, loadSpec, showPath, specKey } from './dataset-options.js';

type Flags = CommonFlags & DatasetFlags;

function sub(name: string, summary: string): Command {
  return new Command(name).summary(summary);
}

// ---------------------------------------------------------------------------------------------------------- verify

interface VerifyFlags extends Flags {
  decode: boolean;
  maxPixels?: number;
}

function verifyCommand(ctx: Ctx): Command {
  const cmd = sub('verify', 'list every problem of a dataset folder (exit 2 if any)').description(
    'Check a dataset folder and list every problem at once: missing or malformed metadata, missing columns, scores ' +
      'that are not numbers, listed images that do not exist, paths that escape the root, corrupt or truncated ' +
      'images and images over the pixel budget (decompression bombs). Exits with 2 if there is any problem.',
  );
  datasetOptions(cmd)
    .option('--no-decode', 'only check that the images exist (faster); default decodes every image')
    .option('--max-pixels <n>', 'refuse images with more pixels than this (default 100000000)', positiveInt);
  commonOptions(cmd, {});
  examples(cmd, [
    'iqa-bench datasets verify --dataset kadid10k=/data/kadid10k',
    'iqa-bench datasets verify --dataset koniq10k=/data/koniq --dataset spaq=/data/spaq --no-decode',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: VerifyFlags) => {
      const reports: (VerifyReport & { name: string })[] = [];
      for (const spec of datasetSpecs(flags)) {
        const progress = out.progress(`verify ${spec.name}`, 1);
        const r = await verify(await specKey(out, spec), out.path(spec.path), {
          ...loadOptions(flags),
          decode: flags.decode,
          ...(flags.maxPixels !== undefined ? { maxPixels: flags.maxPixels } : {}),
        });
        progress.stop();
        reports.push({ name: spec.name, ...r });
      }
      const json = reports.map((r) => ({
        name: r.name,
        key: r.key,
        root: r.root,
        images: r.images,
        decoded: r.decoded,
        ok: r.ok,
        problems: r.problems,
      }));
      await out.writeOut(json);
      out.result(json, () =>
        reports
          .map((r) => {
            const head = `${r.name} (${r.key}, ${r.root}): ${r.images} image(s) listed, ${r.decoded} decoded, ${
              r.ok ? 'no problems' : `${r.problems.length} problem(s)`
            }`;
            if (r.ok) return head;
            const table: Table = {
              columns: [
                { header: 'problem' },
                { header: 'file' },
                { header: 'row', align: 'right' },
                { header: 'what' },
              ],
              rows: r.problems.map((p) => [
                p.code,
                showPath(r.root, p.file),
                p.row === undefined ? '' : String(p.row),
                `${p.field !== undefined ? `"${p.field}": ` : ''}${p.message}; expected ${p.expected}`,
              ]),
            };
            return `${head}\n${renderText(table)}`;
          })
          .join('\n\n'),
      );
      return reports.every((r) => r.ok) ? ExitCode.ok : ExitCode.badInput;
    }),
  );
}

// ------------------------------------------------------------------------------------------------------------ info

function infoJson(name: string, ds: IqaDataset) {
  const scores = ds.images.map((i) => i.score);
  return {
    name,
    key: ds.key,
    root: ds.root,
    layout: ds.layout,
    images: ds.images.length,
    skipped: ds.skipped.length,
    referenceBased: ds.referenceBased,
    references: ds.referenceBased ? new Set(ds.images.map((i) => i.refId)).size : null,
    scale: ds.scale,
    observed:
      scores.length > 0
        ? {
            min: Math.min(...scores),
            max: Math.max(...scores),
            mean: scores.reduce((a, b) => a + b, 0) / scores.length,
          }
        : null,
    splits: Object.fromEntries(
      Object.entries(ds.splits).map(([k, s]) => [
        k,
        Object.fromEntries(Object.entries(s.parts).map(([p, ids]) => [p, ids.length])),
      ]),
    ),
    metadataFiles: ds.metadataFiles.map((f) => showPath(ds.root, f)),
  };
}

function infoCommand(ctx: Ctx): Command {
  const cmd = sub('info', 'counts, score scale and direction, shipped splits');
  datasetOptions(cmd);
  commonOptions(cmd, {});
  examples(cmd, [
    'iqa-bench datasets info --dataset koniq10k=/data/koniq10k',
    'iqa-bench datasets info --dataset agiqa3k=/data/agiqa --label mos_align --json',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: Flags) => {
      const infos: ReturnType<typeof infoJson>[] = [];
      for (const spec of datasetSpecs(flags))
        infos.push(infoJson(spec.name, await loadSpec(out, spec, flags)));
      await out.writeOut(infos);
      out.result(infos, () =>
        infos
          .map((i) => {
            const rows: [string, string][] = [
              ['dataset', `${i.name} (${i.key}, ${i.layout} layout)`],
              ['root', i.root],
              ['images', `${i.images}${i.skipped ? ` (${i.skipped} skipped)` : ''}`],
              ['references', i.references === null ? '– (not reference-based)' : String(i.references)],
              [
                'score',
                `${i.scale.name}, ${i.scale.direction}, range [${i.scale.range.join(', ')}] (${i.scale.rangeSource})`,
              ],
              [
                'observed',
                i.observed
                  ? `min ${num(i.observed.min)}, max ${num(i.observed.max)}, mean ${num(i.observed.mean)}`
                  : '–',
              ],
              [
                'splits',
                Object.entries(i.splits)
                  .map(
                    ([k, parts]) =>
                      `${k}: ${Object.entries(parts)
                        .map(([p, n]) => `${p} ${n}`)
                        .join(', ')}`,
                  )
                  .join('; ') || '– (none shipped; use datasets split)',
              ],
              ['metadata', i.metadataFiles.join(', ')],
            ];
            return renderText({ columns: [{ header: 'field' }, { header: 'value' }], rows });
          })
          .join('\n\n'),
      );
    }),
  );
}

// ------------------------------------------------------------------------------------------------------------ list

interface ListJson {
  name: string;
  key: string;
  scale: IqaDataset['scale'];
  images: { id: string; score: number; normScore: number; refId?: string; path: string }[];
}

function listCommand(ctx: Ctx): Command {
  const cmd = sub('list', 'every image with its native-scale score');
  datasetOptions(cmd);
  commonOptions(cmd, {});
  examples(cmd, [
    'iqa-bench datasets list --dataset kadid10k=/data/kadid10k',
    'iqa-bench datasets list --dataset livec=/data/livec --json > livec.json',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: Flags) => {
      const lists: ListJson[] = [];
      for (const spec of datasetSpecs(flags)) {
        const ds = await loadSpec(out, spec, flags);
        lists.push({
          name: spec.name,
          key: ds.key,
          scale: ds.scale,
          images: ds.images.map((im) => ({
            id: im.id,
            score: im.score,
            normScore: im.normScore,
            ...(im.refId !== undefined ? { refId: im.refId } : {}),
            path: showPath(ds.root, im.path),
          })),
        });
      }
      await out.writeOut(lists);
      out.result(lists, () =>
        lists
          .map((l) => {
            const refs = l.images.some((i) => i.refId !== undefined);
            return renderText({
              columns: [
                { header: 'image' },
                { header: `${l.scale.name} (${l.scale.direction})`, align: 'right' },
                { header: 'normalised', align: 'right' },
                ...(refs ? [{ header: 'reference' }] : []),
                ...(lists.length > 1 ? [{ header: 'dataset' }] : []),
              ],
              rows: l.images.map((i) => [
                i.id,
                String(i.score),
                num(i.normScore),
                ...(refs ? [i.refId ?? ''] : []),
                ...(lists.length > 1 ? [l.name] : []),
              ]),
            });
          })
          .join('\n\n'),
      );
    }),
  );
}

// ----------------------------------------------------------------------------------------------------------- split

interface SplitFlags extends Flags {
  seed: string;
  ratios?: Record<string, number>;
  round: number;
  shipped?: string;
  val?: number;
  selectOn: 'val' | 'test';
}

function parseRatios(value: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of value.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*([0-9.]+)\s*$/.exec(part);
    if (m === null || !Number.isFinite(Number(m[2]))) {
      throw new InvalidArgumentError('expected part=ratio pairs, e.g. train=0.8,test=0.2.');
    }
    out[m[1]] = Number(m[2]);
  }
  return out;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('expected a number between 0 and 1.');
  return n;
}

function splitCommand(ctx: Ctx): Command {
  const cmd = sub(
    'split',
    'write a split manifest (seeded random, or a split the dataset ships)',
  ).description(
    'Write a split manifest: a seeded random split (reference-disjoint for kadid10k, live, csiq, tid2013; identical ' +
      'on every machine) or a split the dataset ships (--shipped official), optionally with a validation part carved ' +
      'from training for honest model selection. The manifest names the exact split a result used.',
  );
  datasetOptions(cmd)
    .requiredOption('--out <file>', 'the manifest file to write (JSON, atomically)')
    .option('--seed <s>', 'split seed', '0')
    .option('--ratios <part=r,…>', 'part ratios summing to 1 (default train=0.8,test=0.2)', parseRatios)
    .option(
      '--round <n>',
      'round of the repeated-split protocol (each round is an independent draw)',
      nonNegativeInt,
      0,
    )
    .option('--shipped <name>', 'use a split the dataset ships instead (e.g. official, seed-json)')
    .option('--val <fraction>', 'carve a validation part of this share of train', fraction)
    .addOption(
      new Option(
        '--select-on <part>',
        "with --val: 'val' (carved from train) or 'test' (the original's selection on test)",
      )
        .choices(['val', 'test'])
        .default('val'),
    );
  commonOptions(cmd, false).option('--json', 'print the manifest as JSON on stdout');
  examples(cmd, [
    'iqa-bench datasets split --dataset kadid10k=/data/kadid10k --seed 1 --out kadid-split.json',
    'iqa-bench datasets split --dataset livec=/data/livec --ratios train=0.7,val=0.1,test=0.2 --round 3 --out r3.json',
    'iqa-bench datasets split --dataset koniq10k=/data/koniq --shipped official --out koniq-official.json',
    'iqa-bench datasets split --dataset kadid10k=/data/pyiqa --split-file meta_info/kadid10k_seed123.pkl --shipped kadid10k_seed123.pkl#1 --out s1.json',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: SplitFlags) => {
      const [spec] = datasetSpecs(flags, 'one');
      const ds = await loadSpec(out, spec, flags);
      let split: Split = flags.shipped
        ? shippedSplit(ds, flags.shipped)
        : randomSplit(ds, {
            seed: flags.seed,
            round: flags.round,
            ...(flags.ratios ? { ratios: flags.ratios } : {}),
          });
      if (flags.val !== undefined || flags.selectOn === 'test') {
        if ('val' in split.parts) throw new CliError('--val: the split already has a val part');
        split = withValidation(split, ds, {
          selection: flags.selectOn === 'test' ? 'test' : 'validation',
          ...(flags.val !== undefined ? { fraction: flags.val } : {}),
          seed: flags.seed,
        });
      }
      for (const w of split.warnings ?? []) out.warn(w);
      const manifest = splitManifest(split);
      await writeFileAtomic(out.path(flags.out as string), `${JSON.stringify(manifest, null, 1)}\n`);
      out.log(`wrote ${flags.out}`);
      out.result(manifest, () =>
        [
          renderText({
            columns: [{ header: 'part' }, { header: 'images', align: 'right' }],
            rows: Object.entries(manifest.counts).map(([p, n]) => [p, String(n)]),
          }),
          '',
          `${manifest.method} split of ${spec.name}${manifest.seed !== null ? `, seed ${manifest.seed}, round ${manifest.round}` : ''}; ${manifest.hash}`,
        ].join('\n'),
      );
    }),
  );
}

// ------------------------------------------------------------------------------------------------------------ keys

function scaleText(k: DatasetKeyInfo): string {
  if (k.scale.range === null) return 'the --label column (--direction)';
  return `${k.scale.name} [${k.scale.range.join(', ')}], ${k.scale.direction}`;
}

function keysCommand(ctx: Ctx): Command {
  const cmd = sub('keys', 'dataset keys with their expected layouts and score scales').description(
    'List the dataset keys --dataset takes, with the spellings also accepted, the score (column, published range, ' +
      'direction) and the layouts read, one line per layout with the files that identify it (a folder given without ' +
      'a key is recognised by them).',
  );
  commonOptions(cmd, false).option('--json', 'print the keys as JSON on stdout');
  examples(cmd, ['iqa-bench datasets keys', 'iqa-bench datasets keys --json']);
  return cmd.action(
    ctx.action(async (out) => {
      const keys = datasetKeys();
      const rows: string[][] = [];
      for (const k of keys) {
        // the dataset column: the title, then the other spellings accepted on the next line
        const names = [k.title, ...(k.aliases.length > 0 ? [`(also ${k.aliases.join(', ')})`] : [])];
        const lines = Math.max(k.layouts.length, names.length);
        for (let i = 0; i < lines; i++) {
          const l = k.layouts[i];
          rows.push([
            i === 0 ? k.key : '',
            names[i] ?? '',
            i === 0 ? scaleText(k) : '',
            l?.name ?? '',
            l?.reads ?? '',
          ]);
        }
      }
      out.result(keys, () =>
        renderText({
          columns: [
            { header: 'key' },
            { header: 'dataset' },
            { header: 'score' },
            { header: 'layout' },
            { header: 'reads' },
          ],
          rows,
        }),
      );
    }),
  );
}

export function datasetsCommand(ctx: Ctx): Command {
  const cmd = new Command('datasets')
    .summary('verify, describe, list and split dataset folders; list the keys')
    .description(
      'Dataset folders as published (no renaming or converting). Keys: koniq10k, spaq, kadid10k, agiqa3k, livec, live, csiq, tid2013, csv (iqa-bench datasets keys lists their layouts).',
    )
    .addCommand(keysCommand(ctx))
    .addCommand(verifyCommand(ctx))
    .addCommand(infoCommand(ctx))
    .addCommand(listCommand(ctx))
    .addCommand(splitCommand(ctx));
  examples(cmd, [
    'iqa-bench datasets verify --dataset kadid10k=/data/kadid10k',
    'iqa-bench datasets info --dataset koniq10k=/data/koniq10k',
  ]);
  return cmd;
}
