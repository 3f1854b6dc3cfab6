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
import { CliError } from '../errors.js';
import { readJsonFile } from '../json-file.js';
import { complexitySection, resultSections, trainingSection } from '../report/sections.js';
import { readTrainingRun } from '../training.js';
import { VERSION } from '../version.js';

interface ReportFlags extends CommonFlags {
  result?: string[];
  run?: string[];
  complexity?: string[];
  title: string;
  png: boolean;
}

export function reportCommand(ctx: Ctx): Command {
  const cmd = new Command('report')
    .summary('write an HTML report with figures (SVG/PNG) and Markdown tables from result files')
    .description(
      'Write a self-contained report.html (inline SVG, no external assets), report.md (the tables in Markdown) and ' +
        'figures/*.svg + *.png into the --out folder: the per-dataset table, the heatmap of correlations, and ' +
        'predicted-vs-MOS scatter plots for results that kept their per-image predictions; training curves of runs; ' +
        'complexity tables and bars.',
    )
    .option(
      '--result <file>',
      'a result file (cross-dataset / eval --out, a summary.json); repeatable',
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
    .requiredOption('--out <dir>', 'the folder to write the report into')
    .option('--title <text>', 'the report title', 'iqa-bench report')
    .option('--no-png', 'write SVG figures only');
  commonOptions(cmd, false).option('--json', 'print the list of files written as JSON');
  examples(cmd, [
    'iqa-bench report --result cross.json --out report/',
    'iqa-bench report --result tiny.json --result base.json --title "SMART-IQA cross-dataset" --out report/',
    'iqa-bench report --run runs/koniq-tiny --result cross.json --out report/',
  ]);
  return cmd.action(
    ctx.action(async (out, flags: ReportFlags) => {
      const files = flags.result ?? [];
      const results: NamedResult[] = [];
      for (const file of files) {
        results.push({
          label: basename(file, extname(file)),
          result: await readResult(out.path(file), file),
        });
      }
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
      const report: Report = {
        title: flags.title,
        meta: [`@iqa-bench/cli ${VERSION}`, ...results.map((r) => `${r.label}: ${r.result.file}`)],
        sections: [...resultSections(results), ...training, ...complexity],
      };
      if (report.sections.length === 0) {
        out.warn('nothing to report: give at least one --result or --run');
      }
      const dir = out.path(flags.out as string);
      const written = await writeReport(dir, report, { png: flags.png });
      out.log(`wrote ${written.length} files to ${flags.out}`);
      out.result({ dir, files: written }, () =>
        written.map((f) => `${flags.out}/${f}`.replace(/\/+/g, '/')).join('\n'),
      );
    }),
  );
}
