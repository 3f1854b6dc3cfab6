/**
 * The package's entries (package.json `exports`): the main entry holds the README's API, the subpaths the rest, each
 * name in one entry, and every function or constant the single entry used to export is still in one of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageEntries } from '../../../tools/testing/entries.js';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The runtime names of every entry. */
async function entries(): Promise<Map<string, string[]>> {
  return (await packageEntries(root, { fullNames: false })).names;
}

describe('package entries', () => {
  it('main: the functions of the README API table', async () => {
    const main = (await entries()).get('.')!;
    const table = readme.slice(readme.indexOf('\n## API'), readme.indexOf('\n## What is counted'));
    // The first column of every row names the functions and constants: `name(...)` or `NAME`.
    const firstCells = [...table.matchAll(/^\| (.*?) +\|/gm)].map((m) => m[1]);
    const documented = firstCells.flatMap((cell) =>
      [...cell.matchAll(/`([A-Za-z_]+)[(`]/g)].map((m) => m[1]),
    );
    expect([...new Set(documented)].sort()).toEqual(main);
  });

  it('subpaths: the rest, one entry per name, nothing lost', async () => {
    const all = await entries();
    expect([...all.keys()]).toEqual(['.', './kernels', './timing', './report']);
    const names = [...all.values()].flat();
    expect(names.length).toBe(new Set(names).size);
    // The 45 values of the single entry before the subpaths, less the model's kernel names (now the model's own) and
    // `quantile` (now @iqa-bench/metrics').
    const before = [
      'kernelCost',
      'countedKernelNames',
      'matMulDims',
      'registerKernelCost',
      'OP_CATEGORIES',
      'traceKernels',
      'isUserScope',
      'dataKeyOf',
      'countOps',
      'summarizeKernels',
      'scopePath',
      'UNATTRIBUTED',
      'ATTRIBUTION_METHODS',
      'countParameters',
      'MODULE_GROUPS',
      'moduleGroup',
      'parameterModule',
      'measureLatency',
      'measureThroughput',
      'measurePeakMemory',
      'timeForward',
      'latencyStats',
      'repeatBatch',
      'isOutOfMemoryError',
      'WASM_HEAP_LIMIT_BYTES',
      'describeEnvironment',
      'detectGpuName',
      'SCHEMA_VERSION',
      'complexityReportSchema',
      'validateComplexityReport',
      'complexityReportJsonSchema',
      'MODEL_REFERENCES',
      'REFERENCE_MODELS',
      'referenceFor',
      'analyzeModel',
      'makeReport',
      'mergeReports',
      'referenceChecks',
      'TOOL_VERSION',
      'toMarkdown',
      'toLatex',
      'latexEscape',
    ];
    expect(before).toHaveLength(42);
    // Added since, in ./timing: a timed series of any call and its throughput entry (the CLI's onnx timing uses them).
    const added = ['repeatTimed', 'throughputOf'];
    expect(names.sort()).toEqual([...before, ...added].sort());
  });
});
