import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importGraph } from '../../../tools/testing/import-graph.js';
import * as browser from './browser.js';

const here = dirname(fileURLToPath(import.meta.url));
describe('@iqa-bench/model/browser', () => {
  it('has no Node import anywhere in its module graph', () => {
    const { modules, external } = importGraph(here, 'browser.ts');
    expect(external).toEqual(['@tensorflow/tfjs', 'seedrandom', 'yaml', 'zod']);
    expect(modules).toContain('weights/tfjs-format.ts');
    expect(modules).toContain('swin/backbone.ts');
    expect(modules).not.toContain('checkpoint.ts');
    expect(modules).not.toContain('backend.ts');
  });

  it('the graph walk sees Node imports where there are some', () => {
    expect(importGraph(here, 'checkpoint.ts').external).toEqual(
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
      'scoreCropOrigins',
      'scoreImage',
      'tfjsModelConfig',
      'validateModelConfig',
    ]);
  });
});
