/**
 * The package's entries (package.json `exports`): what each one exports at run time, that no name is exported by two
 * entries (./browser is by design a Node-free subset of the main and weights entries), and that the README's imports
 * and its "Entries" table name what the entries hold.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageEntries } from '../../../tools/testing/entries.js';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The runtime names of every entry. */
async function entries(): Promise<Map<string, string[]>> {
  return (await packageEntries(root, { fullNames: true })).names;
}

describe('package entries', () => {
  it('export these names', async () => {
    expect(Object.fromEntries(await entries())).toEqual({
      '@iqa-bench/model': [
        'BackendUnavailableError',
        'DEFAULT_MODEL_COST_LIMITS',
        'IqaModel',
        'ModelFileError',
        'PRESET_NAMES',
        'ParamStore',
        'ScoringPool',
        'createModel',
        'cropOrigins',
        'estimateModelCost',
        'extractCrops',
        'formatLoadReport',
        'isPresetName',
        'loadBackboneWeights',
        'loadCheckpoint',
        'loadTfjsModel',
        'presetConfig',
        'saveSafetensors',
        'saveTfjsModel',
        'scoreCropOrigins',
        'scoreImage',
        'selectBackend',
        'validateModelConfig',
        'wasmBinaryDir',
      ],
      '@iqa-bench/model/swin': [
        'SwinBackbone',
        'createSwinBackbone',
        'dropPathSchedule',
        'isTimmSwinStateDict',
        'swinStageGeometry',
        'timmSwinToBackbone',
        'validateSwinConfig',
      ],
      '@iqa-bench/model/resnet': [
        'RESNET_EXPANSION',
        'ResNetBackbone',
        'createResNetBackbone',
        'isTorchvisionResNetStateDict',
        'resnetParamCount',
        'resnetStageSizes',
        'torchvisionResNetToBackbone',
        'validateResNetConfig',
      ],
      '@iqa-bench/model/head': ['HyperHead', 'TARGET_NET_SCOPE'],
      '@iqa-bench/model/ops': [
        'GELU_GATE_KERNEL',
        'MODEL_COPY_KERNELS',
        'MODEL_FUSED_KERNELS',
        'NORMALIZE_KERNEL',
        'SLICE_ROWS_KERNEL',
        'WINDOW_ATTENTION_KERNEL',
        'WINDOW_PARTITION_KERNEL',
        'WINDOW_REVERSE_KERNEL',
        'adaptiveAvgPool2d',
        'avgPool2d',
        'batchNorm',
        'conv2d',
        'convOutSize',
        'dropPath',
        'dropout',
        'gelu',
        'globalAvgPool',
        'layerNorm',
        'linear',
        'matMul2d',
        'maxPool2d',
        'registerBatchNorm',
      ],
      '@iqa-bench/model/weights': [
        'DEFAULT_READ_LIMITS',
        'MODEL_CONFIG_BOUNDS',
        'STATE_DICT_WRAPPERS',
        'TFJS_FORMAT',
        'VIEW_BUDGET_FLOOR',
        'assignTfjsWeights',
        'checkModelConfig',
        'configFromMetadata',
        'configMetadata',
        'decodeTfjsArtifacts',
        'encodeTfjsModel',
        'exportStateDict',
        'inferConfig',
        'loadPretrainedBackbone',
        'loadStateDict',
        'mapPretrained',
        'modelFromTfjsArtifacts',
        'parseModelConfig',
        'parseSafetensors',
        'parseTfjsModelJSON',
        'parseWeights',
        'readSafetensors',
        'readTfjsFolder',
        'readWeights',
        'serializeSafetensors',
        'tfjsModelConfig',
        'writeSafetensors',
      ],
      '@iqa-bench/model/workers': ['ReplicaError', 'ReplicaPool', 'defineReplicaHandler', 'withTransfer'],
      '@iqa-bench/model/browser': [
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
      ],
    });
  });

  it('have one entry per name, and ./browser takes its names from the main and weights entries', async () => {
    const all = await entries();
    const owner = new Map<string, string>();
    for (const [entry, names] of all) {
      if (entry.endsWith('/browser')) continue;
      for (const n of names) {
        expect(owner.get(n), `${n} is exported by ${owner.get(n)} and ${entry}`).toBeUndefined();
        owner.set(n, entry);
      }
    }
    const browser = all.get('@iqa-bench/model/browser')!;
    expect(
      browser.filter((n) => !['@iqa-bench/model', '@iqa-bench/model/weights'].includes(owner.get(n)!)),
    ).toEqual([]);
  });

  it('hold what the README imports from them and lists in its "Entries" table', async () => {
    const all = await entries();
    const claims: [string, string][] = [];
    for (const m of readme.matchAll(/^import \{([^}]*)\} from '(@iqa-bench\/model[^']*)';$/gm)) {
      for (const name of m[1]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean))
        claims.push([m[2], name]);
    }
    const table = readme.slice(readme.indexOf('\n## Entries'));
    for (const row of table.matchAll(/^\| `(@iqa-bench\/model\/[a-z]+)` \| (.*) \|$/gm)) {
      for (const name of row[2].matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)) claims.push([row[1], name[1]]);
    }
    expect(claims.length).toBeGreaterThan(40);
    const missing = claims.filter(([entry, name]) => !all.get(entry)?.includes(name));
    expect(missing).toEqual([]);
  });
});
