/**
 * Model files whose fields were mutated (TF.js folders, configs stored in or inferred from checkpoints): every one is
 * refused with a ModelFileError naming the file and the field, before a tensor is made or a model is built.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, loadTfjsModel, saveTfjsModel } from '../checkpoint.js';
import type { ModelConfig } from '../config.js';
import { createModel } from '../model.js';
import { presetConfig } from '../presets.js';
import { configMetadata } from './config-json.js';
import { ModelFileError } from './errors.js';
import { exportStateDict } from './load.js';
import { serializeSafetensors } from './safetensors.js';
import type { StateDict } from './state-dict.js';
import { decodeTfjsArtifacts, modelFromTfjsArtifacts } from './tfjs-format.js';

type Json = Record<string, unknown>;
interface ModelJson {
  format: string;
  weightsManifest: { paths: unknown; weights: unknown }[];
  userDefinedMetadata: { iqaBench: { config: ModelConfig; layout: string } };
}

const tmp = mkdtempSync(join(tmpdir(), 'iqa-untrusted-'));
const good = join(tmp, 'good');
let goodJson: ModelJson;
let microState: StateDict;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const model = createModel('smart-iqa-micro', { seed: 2 });
  try {
    await saveTfjsModel(good, model.params, model.config);
    microState = exportStateDict(model.params);
  } finally {
    model.dispose();
  }
  goodJson = JSON.parse(readFileSync(join(good, 'model.json'), 'utf8')) as ModelJson;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A copy of the good folder whose model.json is `edit(copy of the good model.json)` (or raw text). */
function folder(edit: (j: ModelJson) => unknown): string {
  const dir = join(tmp, `case${n++}`);
  cpSync(good, dir, { recursive: true });
  const out = edit(structuredClone(goodJson));
  writeFileSync(join(dir, 'model.json'), typeof out === 'string' ? out : JSON.stringify(out));
  return dir;
}

/** The ModelFileError a load rejects with; checks that it came before any tensor was made, and quickly. */
async function refusal(load: () => Promise<unknown>): Promise<ModelFileError> {
  const tensors = tf.memory().numTensors;
  const t0 = performance.now();
  const err = await load().then(
    () => null,
    (e: unknown) => e,
  );
  expect(performance.now() - t0).toBeLessThan(1000);
  expect(err).toBeInstanceOf(ModelFileError);
  expect(tf.memory().numTensors).toBe(tensors);
  return err as ModelFileError;
}

const withConfig = (j: ModelJson, backbone: Json): ModelJson => {
  j.userDefinedMetadata.iqaBench.config = {
    ...j.userDefinedMetadata.iqaBench.config,
    backbone: { ...j.userDefinedMetadata.iqaBench.config.backbone, ...backbone } as ModelConfig['backbone'],
  };
  return j;
};

describe('TF.js model folders: model.json is validated before a shard is read or a model built', () => {
  const cfg = 'userDefinedMetadata.iqaBench.config';
  // Before: "g.paths is not iterable", "Cannot read properties of null", a raw ENOENT, allocation RangeErrors from
  // inside tfjs, or the heap exhausted (SIGABRT).
  it.each<[string, (j: ModelJson) => unknown, string, RegExp]>([
    [
      'weightsManifest: [1]',
      (j) => ({ ...j, weightsManifest: [1] }),
      'weightsManifest[0]',
      /expected object, received number, got 1$/,
    ],
    [
      'weightsManifest: [null]',
      (j) => ({ ...j, weightsManifest: [null] }),
      'weightsManifest[0]',
      /expected object, received null, got null$/,
    ],
    [
      'a null weights entry',
      (j) => (((j.weightsManifest[0].weights as unknown[])[3] = null), j),
      'weightsManifest[0].weights[3]',
      /expected object, received null/,
    ],
    [
      'weights: null',
      (j) => ((j.weightsManifest[0].weights = null), j),
      'weightsManifest[0].weights',
      /expected array, received null/,
    ],
    [
      'paths: null',
      (j) => ((j.weightsManifest[0].paths = null), j),
      'weightsManifest[0].paths',
      /expected array, received null/,
    ],
    [
      'weightsManifest missing',
      (j) => ({ ...j, weightsManifest: undefined }),
      'weightsManifest',
      /expected array, received undefined$/,
    ],
    [
      'a float16 weight',
      (j) => (((j.weightsManifest[0].weights as Json[])[0].dtype = 'float16'), j),
      'weightsManifest[0].weights[0].dtype',
      /expected one of "float32"\|"int32", got "float16"/,
    ],
    [
      'a quantized weight',
      (j) => (((j.weightsManifest[0].weights as Json[])[0].quantization = { dtype: 'uint8' }), j),
      'weightsManifest[0].weights[0].quantization',
      /Unrecognized key: "quantization"/,
    ],
    [
      'a negative dimension',
      (j) => (((j.weightsManifest[0].weights as Json[])[0].shape = [-1, 16]), j),
      'weightsManifest[0].weights[0].shape[0]',
      /expected number to be >=0, got -1/,
    ],
    [
      'a dimension of 2^40',
      (j) => (((j.weightsManifest[0].weights as Json[])[0].shape = [2 ** 40]), j),
      'weightsManifest[0].weights[0].shape[0]',
      /expected number to be <=2147483647/,
    ],
    [
      'a weight named __proto__',
      (j) => (((j.weightsManifest[0].weights as Json[])[2].name = '__proto__'), j),
      'weightsManifest[0].weights[2].name',
      /reserved weight name/,
    ],
    [
      'a weight listed twice',
      (j) => (
        ((j.weightsManifest[0].weights as Json[])[1].name = (j.weightsManifest[0].weights as Json[])[0].name),
        j
      ),
      'weightsManifest[0].weights[1]',
      /weight 'swin\.backbone\.patch_embed\.proj\.weight' is listed twice/,
    ],
    [
      'an absolute shard path',
      (j) => ((j.weightsManifest[0].paths = ['/etc/passwd']), j),
      'weightsManifest[0].paths[0]',
      /weight path "\/etc\/passwd" must be a file name next to model\.json/,
    ],
    [
      'another format',
      (j) => ({ ...j, format: 'layers-model' }),
      'format',
      /expected "iqa-bench-hypernet", got "layers-model"/,
    ],
    ['a graph topology', (j) => ({ ...j, modelTopology: { node: [] } }), 'modelTopology', /expected null/],
    [
      'windowSize: 4096',
      (j) => withConfig(j, { windowSize: 4096 }),
      `${cfg}.backbone.windowSize`,
      /Too big: expected number to be <=64, got 4096$/,
    ],
    [
      'embedDim: 4096',
      (j) => withConfig(j, { embedDim: 4096 }),
      `${cfg}.backbone.embedDim`,
      /Too big: expected number to be <=1024, got 4096$/,
    ],
    [
      'depths: [100000, 2, 2, 2]',
      (j) => withConfig(j, { depths: [100000, 2, 2, 2] }),
      `${cfg}.backbone.depths[0]`,
      /Too big: expected number to be <=64, got 100000$/,
    ],
    [
      'windowSize: 56 (in bounds, 480 GB of one-hot)',
      (j) => withConfig(j, { windowSize: 56 }),
      cfg,
      /over the limit maxModelBytes = 4\.0 GiB; if the file is trusted, raise the limit/,
    ],
    [
      'heads that do not divide the width',
      (j) => withConfig(j, { numHeads: [3, 2, 4, 8] }),
      cfg,
      /Swin config: stage 0: dim 16 is not divisible by 3 heads$/,
    ],
  ])('%s', async (_, edit, field, detail) => {
    const dir = folder(edit);
    const err = await refusal(() => loadTfjsModel(dir));
    const jsonPath = join(dir, 'model.json');
    expect(err).toMatchObject({ file: jsonPath, field });
    expect(err.message.startsWith(`${jsonPath}: `)).toBe(true);
    expect(err.message).toContain(field);
    expect(err.message).toMatch(detail);
  });

  it('a missing shard is named, with its manifest entry', async () => {
    const dir = folder((j) => j);
    rmSync(join(dir, 'group1-shard1of1.bin'));
    const err = await refusal(() => loadTfjsModel(dir));
    expect(err).toMatchObject({ file: join(dir, 'model.json'), field: 'weightsManifest[0].paths[0]' });
    expect(err.message).toBe(
      `${join(dir, 'model.json')}: weightsManifest[0].paths[0]: weight shard 'group1-shard1of1.bin' is missing ` +
        `(${join(dir, 'group1-shard1of1.bin')})`,
    );
  });

  it('a shard that is a symbolic link out of the folder is refused; one inside it is read', async () => {
    const outside = folder((j) => j);
    const dir = folder((j) => ((j.weightsManifest[0].paths = ['link.bin']), j));
    symlinkSync(join(outside, 'group1-shard1of1.bin'), join(dir, 'link.bin'));
    const err = await refusal(() => loadTfjsModel(dir));
    expect(err.field).toBe('weightsManifest[0].paths[0]');
    expect(err.message).toMatch(/weight shard 'link\.bin' leads out of the model folder/);
    rmSync(join(dir, 'link.bin'));
    symlinkSync('group1-shard1of1.bin', join(dir, 'link.bin'));
    const back = await loadTfjsModel(dir);
    expect(back.report.loaded).toHaveLength(158);
    back.model.dispose();
  });

  it('shard sizes are compared with the manifest before a shard is read', async () => {
    const dir = folder((j) => (((j.weightsManifest[0].weights as Json[])[0].shape = [4, 4, 3, 17]), j));
    const err = await refusal(() => loadTfjsModel(dir));
    expect(err.field).toBe('weightsManifest[0]');
    expect(err.message).toMatch(
      /the weight data has 2390172 bytes, the manifest describes 2390364 \(shards: group1-shard1of1\.bin\)$/,
    );
  });

  it('model.json that is not JSON, or absent, names the file', async () => {
    const dir = folder(() => '{"format": ');
    expect((await refusal(() => loadTfjsModel(dir))).message).toMatch(/model\.json: not valid UTF-8 JSON/);
    rmSync(join(dir, 'model.json'));
    const err = await refusal(() => loadTfjsModel(dir));
    expect(err.file).toBe(join(dir, 'model.json'));
    expect(err.message).toMatch(/model\.json: no such file or folder/);
  });

  it('the cost limit is the caller’s to lower or raise', async () => {
    const err = await refusal(() => loadTfjsModel(good, { limits: { maxModelBytes: 2 ** 20 } }));
    expect(err).toMatchObject({ field: cfg, limit: 'maxModelBytes' });
    const ok = await loadTfjsModel(good, { limits: { maxModelBytes: 2 ** 26 } });
    expect(ok.config).toEqual(presetConfig('smart-iqa-micro'));
    ok.model.dispose();
  });
});

describe('TF.js artifacts (the browser path) are validated the same way', () => {
  const artifacts = (j: ModelJson, weightSpecs: unknown): tf.io.ModelArtifacts =>
    ({
      format: j.format,
      userDefinedMetadata: j.userDefinedMetadata,
      weightSpecs,
      weightData: readFileSync(join(good, 'group1-shard1of1.bin')).buffer,
    }) as unknown as tf.io.ModelArtifacts;

  it('refuses a null weight spec and an over-cost config, naming the field, before a tensor is made', () => {
    const specs = structuredClone(goodJson.weightsManifest[0].weights) as unknown[];
    specs[5] = null;
    const tensors = tf.memory().numTensors;
    expect(() => decodeTfjsArtifacts(artifacts(goodJson, specs), 'm/model.json')).toThrow(
      /^m\/model\.json: field 'weightSpecs\[5\]': Invalid input: expected object, received null, got null$/,
    );
    const wide = withConfig(structuredClone(goodJson), { windowSize: 56 });
    let err: unknown;
    try {
      modelFromTfjsArtifacts(artifacts(wide, goodJson.weightsManifest[0].weights), 'm/model.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err).toMatchObject({
      file: 'm/model.json',
      field: 'userDefinedMetadata.iqaBench.config',
      limit: 'maxModelBytes',
    });
    expect(tf.memory().numTensors).toBe(tensors);
  });
});

describe('loadCheckpoint checks the config (stored or inferred) before building', () => {
  it('a config in safetensors metadata: out of bounds or over cost', async () => {
    const wide = {
      ...presetConfig('smart-iqa-micro'),
      backbone: { ...presetConfig('smart-iqa-micro').backbone, windowSize: 56 },
    };
    const path = join(tmp, 'wide-meta.safetensors');
    writeFileSync(path, serializeSafetensors(microState, configMetadata(wide as ModelConfig)));
    const err = await refusal(() => loadCheckpoint(path));
    expect(err).toMatchObject({ file: `${path} (metadata 'iqa_bench_config')`, limit: 'maxModelBytes' });
  });

  it('an architecture inferred from shapes: a 111^2-row relative-position table means a 56 x 56 window', async () => {
    const sd: StateDict = new Map(microState);
    // Only stage 0 block 0's table is read for the window size.
    sd.set('swin.backbone.layers_0.blocks.0.attn.relative_position_bias_table', {
      dtype: 'float32',
      shape: [111 * 111, 1],
      data: new Float32Array(111 * 111),
    });
    const path = join(tmp, 'wide-inferred.safetensors');
    writeFileSync(path, serializeSafetensors(sd));
    const err = await refusal(() => loadCheckpoint(path));
    expect(err).toMatchObject({
      file: `${path} (inferred architecture)`,
      field: 'model config',
      limit: 'maxModelBytes',
    });
    expect(err.message).toMatch(/the model would need about \d+\.\d GiB/);
  });
});
