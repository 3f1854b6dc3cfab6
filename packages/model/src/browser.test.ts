import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as browser from './browser.js';

const here = dirname(fileURLToPath(import.meta.url));
const core = join(here, '..', '..', 'core', 'src');

/** Every module reachable from `entry` (relative imports, .js → .ts) and every bare specifier they import. */
function importGraph(entry: string): { modules: string[]; external: string[] } {
  const modules = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string): void => {
    if (modules.has(file)) return;
    modules.add(file);
    const src = readFileSync(file, 'utf8');
    // Static imports and re-exports (`import type` erases at build time and is skipped), and dynamic imports.
    const re =
      /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
    for (const m of src.matchAll(re)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      // The ground floor's modules are walked too: they must be Node-free as well.
      else if (spec.startsWith('@iqa-bench/core/'))
        visit(join(core, `${spec.slice('@iqa-bench/core/'.length)}.ts`));
      else external.add(spec);
    }
  };
  visit(join(here, entry));
  return {
    modules: [...modules].map((f) => relative(here, f)).sort(),
    external: [...external].sort(),
  };
}

describe('@iqa-bench/model/browser', () => {
  it('has no Node import anywhere in its module graph', () => {
    const { modules, external } = importGraph('browser.ts');
    expect(external).toEqual(['@tensorflow/tfjs', 'seedrandom', 'yaml', 'zod']);
    expect(modules).toContain('weights/tfjs-format.ts');
    expect(modules).toContain('swin/backbone.ts');
    expect(modules).not.toContain('checkpoint.ts');
    expect(modules).not.toContain('backend.ts');
  });

  it('the graph walk sees Node imports where there are some', () => {
    expect(importGraph('checkpoint.ts').external).toEqual(
      expect.arrayContaining(['node:fs/promises', 'node:path', '@tensorflow/tfjs-backend-wasm']),
    );
  });

  it('exports what a browser needs to load an exported model and score', () => {
    expect(Object.keys(browser).sort()).toEqual([
      'DEFAULT_MODEL_COST_LIMITS',
      'IqaModel',
      'MODEL_CONFIG_BOUNDS',
      'ModelFileError',
      'PRESET_NAMES',
      'TFJS_FORMAT',
      'assignTfjsWeights',
      'checkModelConfig',
      'createModel',
      'cropOrigins',
      'decodeTfjsArtifacts',
      'estimateModelCost',
      'extractCrops',
      'formatLoadReport',
      'isPresetName',
      'modelFromTfjsArtifacts',
      'parseModelConfig',
      'parseTfjsModelJSON',
      'presetConfig',
      'scoreImage',
      'tfjsModelConfig',
      'validateModelConfig',
    ]);
  });
});
