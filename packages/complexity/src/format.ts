/**
 * Markdown and LaTeX complexity tables (one row per model, several models side by side), like the original's
 * `TABLE_COMPLEXITY.tex`, but with MACs and FLOPs kept apart and the measurement conditions stated under the table.
 */
import type { ComplexityReport, ModelComplexity } from './schema.js';

export interface TableOptions {
  /** Which op count the GMACs / GFLOPs columns show: the whole model (default) or the HyperNet alone. */
  ops?: 'whole' | 'hypernet';
  /** Throughput columns (default: every batch size present in the reports). */
  throughputBatchSizes?: number[];
  /** Decimal places of GMACs / GFLOPs (default 2). */
  gDigits?: number;
}

interface Row {
  model: ModelComplexity;
  /** Index of the report's environment in the footnotes. */
  env: number;
}

function rows(reports: ComplexityReport | readonly ComplexityReport[]): {
  rows: Row[];
  envs: ComplexityReport[];
} {
  const list = Array.isArray(reports)
    ? (reports as readonly ComplexityReport[])
    : [reports as ComplexityReport];
  if (list.length === 0) throw new Error('complexity table: no reports');
  return { rows: list.flatMap((r, env) => r.models.map((model) => ({ model, env }))), envs: [...list] };
}

function opsOf(m: ModelComplexity, which: 'whole' | 'hypernet') {
  if (which === 'hypernet') {
    if (m.ops.hypernet === null)
      throw new Error(`complexity table: model '${m.name}' has no HyperNet-only op count`);
    return m.ops.hypernet;
  }
  return m.ops.whole;
}

function batchSizes(list: Row[], options: TableOptions): number[] {
  if (options.throughputBatchSizes) return options.throughputBatchSizes;
  const set = new Set<number>();
  for (const r of list) for (const e of r.model.throughput?.entries ?? []) set.add(e.batchSize);
  return [...set].sort((a, b) => a - b);
}

const millions = (n: number): string => (n / 1e6).toFixed(2);
const giga = (n: number, digits: number): string => (n / 1e9).toFixed(digits);
const mebibytes = (n: number): string => (n / 2 ** 20).toFixed(0);
const ms = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const ips = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

function throughputCell(m: ModelComplexity, bs: number): string {
  const e = m.throughput?.entries.find((x) => x.batchSize === bs);
  if (!e) return '–';
  if (e.status === 'ok' && e.imagesPerSecond !== undefined) return ips(e.imagesPerSecond);
  return e.status === 'out-of-memory' ? 'OOM' : 'skip';
}

function environmentLine(r: ComplexityReport): string {
  const e = r.environment;
  const threads = e.threads === null ? '' : ` (${e.threads} thread${e.threads === 1 ? '' : 's'})`;
  const device = e.gpu ? `GPU ${e.gpu}, CPU ${e.cpu.model}` : `CPU ${e.cpu.model}`;
  return `backend ${e.backend}${threads}, tfjs ${e.tfjsVersion}, ${device}, Node ${e.node}; @iqa-bench/complexity ${r.tool.version}`;
}

function timingScopes(list: Row[]): string {
  const scopes = new Set(
    list.flatMap((r) => [r.model.latency?.scope, r.model.throughput?.scope]).filter(Boolean),
  );
  if (scopes.size === 0) return 'not measured';
  return [...scopes]
    .map((s) => (s === 'whole' ? 'whole model (HyperNet + TargetNet)' : 'HyperNet only'))
    .join(' / ');
}

function inputSizes(list: Row[]): string {
  const sides = [...new Set(list.map((r) => `${r.model.inputShape[1]}x${r.model.inputShape[2]}`))];
  return sides.join(' / ');
}

function latencyBatch(list: Row[]): string {
  const sizes = new Set(list.map((r) => r.model.latency?.stats.batchSize).filter((b) => b !== undefined));
  return sizes.size === 0 ? '1' : [...sizes].join('/');
}

/** A Markdown table of the models in `reports`, with the conditions as a note below it. */
export function toMarkdown(
  reports: ComplexityReport | readonly ComplexityReport[],
  options: TableOptions = {},
): string {
  const { rows: list, envs } = rows(reports);
  const which = options.ops ?? 'whole';
  const digits = options.gDigits ?? 2;
  const sizes = batchSizes(list, options);
  const multiEnv = envs.length > 1;
  const header = [
    'Model',
    'Params (M)',
    'GMACs',
    'GFLOPs',
    `Latency bs${latencyBatch(list)} (ms, mean ± std)`,
    'median / p95 (ms)',
    'peak MiB',
    ...sizes.map((b) => `img/s @${b}`),
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
  ];
  for (const { model: m, env } of list) {
    const o = opsOf(m, which);
    const l = m.latency?.stats;
    const cells = [
      multiEnv ? `${m.name} [${env + 1}]` : m.name,
      millions(m.params.total),
      giga(o.macs, digits),
      giga(o.flops, digits),
      l ? `${ms(l.meanMs)} ± ${ms(l.stdMs)}` : '–',
      l ? `${ms(l.medianMs)} / ${ms(l.p95Ms)}` : '–',
      mebibytes(o.memory.peakBytes),
      ...sizes.map((b) => throughputCell(m, b)),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const notes = [
    '',
    `Input ${inputSizes(list)}; MACs/FLOPs of ${which === 'whole' ? 'the whole model (HyperNet + TargetNet)' : 'the HyperNet only'}, ` +
      'counted from the executed tfjs kernels (FLOPs = 2 x MACs + non-MAC work). ' +
      `Timing: ${timingScopes(list)}, throughput with one image repeated to the batch size. Parameters exclude buffers. ` +
      'Peak MiB: most live tensor memory during one batch-1 forward, weights included.',
    ...envs.map((r, i) => (multiEnv ? `[${i + 1}] ${environmentLine(r)}` : environmentLine(r))),
  ];
  return `${lines.join('\n')}\n${notes.join('\n')}\n`;
}

/** Escapes LaTeX special characters in text cells. */
export function latexEscape(text: string): string {
  return text.replace(/[\\{}$&#^_%~]/g, (c) =>
    c === '\\'
      ? '\\textbackslash{}'
      : c === '~'
        ? '\\textasciitilde{}'
        : c === '^'
          ? '\\textasciicircum{}'
          : `\\${c}`,
  );
}

/** A LaTeX (booktabs) table of the models in `reports`, with the conditions in the caption. */
export function toLatex(
  reports: ComplexityReport | readonly ComplexityReport[],
  options: TableOptions & { caption?: string; label?: string } = {},
): string {
  const { rows: list, envs } = rows(reports);
  const which = options.ops ?? 'whole';
  const digits = options.gDigits ?? 2;
  const sizes = batchSizes(list, options);
  const cols = `l${'r'.repeat(4 + sizes.length)}`;
  const head = ['Model', 'Params (M)', 'GMACs', 'GFLOPs', 'Latency (ms)', ...sizes.map((b) => `img/s @${b}`)];
  const body = list.map(({ model: m }) => {
    const o = opsOf(m, which);
    const l = m.latency?.stats;
    return [
      latexEscape(m.name),
      millions(m.params.total),
      giga(o.macs, digits),
      giga(o.flops, digits),
      l ? `$${ms(l.meanMs)} \\pm ${ms(l.stdMs)}$` : '--',
      ...sizes.map((b) => throughputCell(m, b).replace('–', '--')),
    ].join(' & ');
  });
  const caption =
    options.caption ??
    `Model complexity at ${inputSizes(list).replace(/x/g, '$\\times$')}. MACs/FLOPs of ${which === 'whole' ? 'the whole model (HyperNet + TargetNet)' : 'the HyperNet only'} ` +
      `counted from the executed kernels (FLOPs = 2$\\times$MACs + non-MAC work); parameters exclude buffers; ` +
      `latency at batch ${latencyBatch(list)}, timing ${timingScopes(list)}. ` +
      envs.map((r) => latexEscape(environmentLine(r))).join('; ') +
      '.';
  return [
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{${caption}}`,
    `\\label{${options.label ?? 'tab:complexity'}}`,
    `\\begin{tabular}{${cols}}`,
    '\\toprule',
    `${head.map(latexEscape).join(' & ')} \\\\`,
    '\\midrule',
    ...body.map((b) => `${b} \\\\`),
    '\\bottomrule',
    '\\end{tabular}',
    '\\end{table}',
    '',
  ].join('\n');
}
