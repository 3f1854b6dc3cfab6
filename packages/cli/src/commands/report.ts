import { existsSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { Command } from 'commander';
import type { Ctx } from '../context.js';
import type { CommonFlags } from '../io.js';
import { collect, commonOptions, examples } from '../options.js';
import { readResult } from '../result.js';
import type { Report, Section } from '../report/report.js';
import { writeReport } from '../report/report.js';
import type { NamedResult } from '../report/sections.js';
import type { ComplexityReport } from '@iqa-bench/complexity';
import { CliError, ExitCode } from '../errors.js';
import { readJsonFile } from '../json-file.js';
import { complexitySection, resultSections, trainingSection } from '../report/sections.js';
import { mapsSection, readPredictionMaps } from '../report/maps.js';
import { readTrainingRun } from '../training.js';
import { shortName } from '../scoring.js';
import { VERSION } from '../version.js';

/** A `--result` as given: `[<label>=]<file>`. */
interface ResultArg {
  label?: string;
  file: string;
}

/**
 * `--result <label>=<file>` or `--result <file>`. A value that names an existing file is a file even with a `=` in it;
 * otherwise the text before the first `=` is the label (no path separators in it).
 */
export function parseResultArg(value: string, exists: (file: string) => boolean): ResultArg {
  const i = value.indexOf('=');
  if (i <= 0 || exists(value)) return { file: value };
  const label = value.slice(0, i).trim();
  if (/[\\/]/.test(label)) return { file: value };
  const file = value.slice(i + 1);
  if (label === '' || file === '')
    throw new CliError(`--result ${value}: expected <label>=<file> or <file>`, ExitCode.badInput, {
      flag: '--result',
    });
  return { label, file };
}

/**
 * Labels for results: the given ones; else the checkpoint's short name, else the file's stem. Default labels that
 * collide (`a/cross.json`, `b/cross.json`) name as much of their files' paths as tells them apart
 * (`tiny (a/cross)`, `tiny (b/cross)`); two given labels alike are an error.
 */
export function uniqueLabels(items: readonly { given?: string; fallback: string; file: string }[]): string[] {
  const given = items.map((i) => i.given).filter((l): l is string => l !== undefined);
  const twice = given.find((l, i) => given.indexOf(l) !== i);
  if (twice !== undefined)
    throw new CliError(`--result: the label "${twice}" is given twice`, ExitCode.badInput, {
      flag: '--result',
    });
  const labels = items.map((i) => i.given ?? i.fallback);
  const groups = new Map<string, number[]>();
  labels.forEach((l, k) => groups.set(l, [...(groups.get(l) ?? []), k]));
  for (const [label, members] of groups) {
    const defaults = members.filter((k) => items[k].given === undefined);
    if (members.length < 2 || defaults.length === 0) continue;
    const paths = defaults.map((k) =>
      items[k].file
        .replace(/\.json$/i, '')
        .split(/[\\/]+/)
        .filter((p) => p !== '' && p !== '.'),
    );
    const longest = Math.max(...paths.map((p) => p.length));
    let n = 1;
    const tail = (p: string[]) => p.slice(-n).join('/');
    while (n < longest && new Set(paths.map(tail)).size < paths.length) n++;
    defaults.forEach((k, j) => {
      const where = tail(paths[j]);
      // A file-stem label grows into its path (`a/cross`); a checkpoint name keeps the path aside.
      labels[k] = where === label || where.endsWith(`/${label}`) ? where : `${label} (${where})`;
    });
  }
  // Whatever still collides (the same file twice) is numbered.
  labels.forEach((l, k) => {
    if (labels.indexOf(l) !== k) labels[k] = `${l} #${k + 1}`;
  });
  return labels;
}

/** Truncates a settings value for the report line. */
function shown(v: unknown): string | undefined {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return v.length > 160 ? `${v.slice(0, 160)}…` : v;
  return undefined;
}

/**
 * The evaluation settings of a result file, one line (`patches 20, crop center, preprocessing seed, seed 0, backend
 * wasm; model …; @iqa-bench/cli 0.1.0`); undefined when the file records none. Only plain values are shown.
 */
export function settingsLine(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const o = json as Record<string, unknown>;
  const st = (typeof o.settings === 'object' && o.settings !== null ? o.settings : {}) as Record<
    string,
    unknown
  >;
  const parts: string[] = [];
  const names: [string, string][] = [
    ['patches', 'patches'],
    ['crop', 'crop'],
    ['preprocess', 'preprocessing'],
    ['seed', 'seed'],
    ['backend', 'backend'],
  ];
  for (const [key, name] of names) {
    const v = st[key];
    if (key === 'preprocess' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      // Per dataset: `seed`, or `seed (kadid10k, spaq), none (live)`.
      const byPreset = new Map<string, string[]>();
      for (const [d, p] of Object.entries(v as Record<string, unknown>).slice(0, 50))
        byPreset.set(shown(p) ?? '?', [...(byPreset.get(shown(p) ?? '?') ?? []), d]);
      const per = [...byPreset].map(([p, ds]) => (byPreset.size === 1 ? p : `${p} (${ds.join(', ')})`));
      if (per.length > 0) parts.push(`${name} ${per.join(', ')}`);
      continue;
    }
    const text = shown(v);
    if (text !== undefined) parts.push(`${name} ${text}`);
  }
  // The model description ends in the architecture (`…, architecture from the file: smart-iqa, Swin (…), …`).
  const model =
    typeof st.model === 'string' ? shown(st.model.slice(st.model.lastIndexOf(': ') + 1).trim()) : undefined;
  const extra = [model !== undefined ? `model ${model}` : undefined, shown(o.producer)].filter(
    (x): x is string => x !== undefined,
  );
  const line = [parts.join(', '), ...extra].filter((x) => x !== '').join('; ');
  return line === '' ? undefined : line;
}

interface ReportFlags extends CommonFlags {
  result?: string[];
  run?: string[];
  complexity?: string[];
  predictions?: string[];
  title: string;
  png: boolean;
}

export function reportCommand(ctx: Ctx): Command {
  const cmd = new Command('report')
    .summary('write an HTML report with figures (SVG/PNG) and Markdown tables from result files')
    .description(
      'Write a self-contained report.html (inline SVG, no external assets; fits a 1280-px screen), report.md (the ' +
        'tables in Markdown), report.tex (the results tables in LaTeX, booktabs) and figures/*.svg + *.png into the ' +
        '--out folder: the per-dataset table with the evaluation settings and notes, the heatmap of correlations, and ' +
        'predicted-vs-MOS scatter plots for results that kept their per-image predictions; training curves of runs; ' +
        'complexity tables and bars; the quality maps of the lowest- and highest-scored images of a predict --out file.',
    )
    .option(
      '--result <[label=]file>',
      "a result file (cross-dataset / eval --out, a summary.json), labelled <label> (default: its checkpoint's short name, else the file name); repeatable",
      collect,
    )
    .option(
      '--run <dir>',
      'a training run folder (metrics.jsonl, summary.json): curves and results; repeatable',
      collect,
    )
    .option(
      '--complexity <file>',
      'a complexity report (iqa-bench complexity --out): table and bars; repeatable',
      collect,
    )
    .option(
      '--predictions <file>',
      'a predict --out JSON file: the quality maps (predict --map) of its lowest- and highest-scored images; repeatable',
      collect,
    )
    .requiredOption('--out <dir>', 'the folder to write the report into')
    .option('--title <text>', 'the report title', 'iqa-bench report')
    .option('--no-png', 'write SVG figures only');
  commonOptions(cmd, false).option('--json', 'print the list of files written as JSON');
  examples(cmd, [
    'iqa-bench report --result cross.json --out report/',
    'iqa-bench report --result tiny=runs/tiny/cross.json --result base=runs/base/cross.json --title "SMART-IQA cross-dataset" --out report/',
    'iqa-bench report --run runs/koniq-tiny --result cross.json --out report/',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: ReportFlags) => {
      const given = [flags.result, flags.run, flags.complexity, flags.predictions];
      if (given.every((g) => (g ?? []).length === 0))
        throw new CliError(
          'nothing to report: give at least one --result, --run, --complexity or --predictions',
        );
      const args = (flags.result ?? []).map((v) => parseResultArg(v, (f) => existsSync(out.path(f))));
      const loadedResults = [];
      for (const a of args) {
        const result = await readResult(out.path(a.file), a.file);
        // The settings are not part of what check compares: read from the same (already validated) file.
        const json = await readJsonFile(out.path(a.file), a.file);
        loadedResults.push({ ...a, result, settings: settingsLine(json) });
      }
      const labels = uniqueLabels(
        loadedResults.map((r) => ({
          ...(r.label !== undefined ? { given: r.label } : {}),
          fallback: r.result.checkpoint ? shortName(r.result.checkpoint) : basename(r.file, extname(r.file)),
          file: r.file,
        })),
      );
      const results: NamedResult[] = loadedResults.map((r, i) => ({
        label: labels[i],
        result: r.result,
        ...(r.settings !== undefined ? { settings: r.settings } : {}),
      }));
      const training: Section[] = [];
      for (const dir of flags.run ?? []) {
        const label = basename(dir.replace(/[\\/]+$/, '')) || dir;
        training.push(trainingSection(label, await readTrainingRun(out.path(dir), dir)));
        const summary = join(out.path(dir), 'summary.json');
        if (existsSync(summary))
          results.push({ label, result: await readResult(summary, join(dir, 'summary.json')) });
      }
      const complexity: Section[] = [];
      if (flags.complexity && flags.complexity.length > 0) {
        const { validateComplexityReport } = await import('@iqa-bench/complexity');
        for (const file of flags.complexity) {
          const json = await readJsonFile(out.path(file), file);
          let parsed: ComplexityReport;
          try {
            parsed = validateComplexityReport(json, file);
          } catch (err) {
            throw new CliError((err as Error).message);
          }
          complexity.push(complexitySection(parsed, complexity.length));
        }
      }
      const maps: Section[] = [];
      for (const file of flags.predictions ?? []) {
        const m = await readPredictionMaps(out.path(file), file);
        const label = m.checkpoint !== undefined ? shortName(m.checkpoint) : basename(file, extname(file));
        maps.push(mapsSection(label, m, maps.length));
      }
      const report: Report = {
        title: flags.title,
        meta: [
          `@iqa-bench/cli ${VERSION}`,
          ...results.map(
            (r) =>
              `${r.label}: ${r.result.file}${r.result.checkpoint ? ` (checkpoint ${r.result.checkpoint})` : ''}`,
          ),
        ],
        sections: [...resultSections(results), ...training, ...complexity, ...maps],
      };
      const dir = out.path(flags.out as string);
      const written = await writeReport(dir, report, { png: flags.png });
      out.log(`wrote ${written.length} files to ${flags.out}`);
      out.result({ dir, files: written }, () =>
        written.map((f) => `${flags.out}/${f}`.replace(/\/+/g, '/')).join('\n'),
      );
    }),
  );
}
