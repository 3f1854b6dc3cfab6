import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadBackboneWeights,
  loadCheckpoint,
  loadTfjsModel,
  saveSafetensors,
  saveTfjsModel,
} from './checkpoint.js';
import type { ModelConfig } from './config.js';
import { createModel } from './model.js';
import type { ParamStore } from './params.js';
import { fixture } from './weights/__tests__/fixtures.js';
import { exportStateDict } from './weights/load.js';
import { modelFromTfjsArtifacts } from './browser.js';
import { encodeTfjsModel } from './weights/tfjs-format.js';
import { readWeights } from './weights/read.js';
import { readSafetensors } from './weights/safetensors.js';
import type { StateDict } from './weights/state-dict.js';

/** Bit-exact equality of two models' parameters. */
function sameParams(a: ParamStore, b: ParamStore): boolean {
  if (a.names().join() !== b.names().join()) return false;
  return a.names().every((n) => {
    const x = a.get(n).dataSync();
    const y = b.get(n).dataSync();
    return Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(
      Buffer.from(y.buffer, y.byteOffset, y.byteLength),
    );
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'iqa-ckpt-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sameTensors(a: StateDict, b: StateDict): string[] {
  const diffs: string[] = [];
  if ([...a.keys()].join() !== [...b.keys()].join()) diffs.push('key order');
  for (const [k, t] of a) {
    const u = b.get(k);
    if (
      !u ||
      u.dtype !== t.dtype ||
      u.shape.join() !== t.shape.join() ||
      !Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength).equals(
        Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      )
    ) {
      diffs.push(k);
    }
  }
  return diffs;
}

describe('loadCheckpoint', () => {
  it.each(['hypernet-swin-attention.pkl', 'hypernet-swin-concat.pkl', 'hypernet-swin-single.pkl'])(
    '%s (torch.save zip, cuda:0): infers, builds and loads strictly; the model exports the same tensors',
    async (name) => {
      const { model, config, configSource, report, format, wrapper } = await loadCheckpoint(fixture(name));
      try {
        expect(config).toEqual(JSON.parse(readFileSync(fixture(`${name}.config.json`), 'utf8')));
        expect([configSource, format, wrapper]).toEqual(['inferred', 'torch-zip', null]);
        expect(report.missing.length + report.unexpected.length + report.mismatched.length).toBe(0);
        const original = (await readWeights(fixture(name))).stateDict;
        expect(sameTensors(exportStateDict(model.params), original)).toEqual([]);
        const score = tf.tidy(() => model.predict(tf.zeros([1, 224, 224, 3])));
        expect(score.shape).toEqual([1]);
        expect(Number.isFinite(score.dataSync()[0])).toBe(true);
        score.dispose();
      } finally {
        model.dispose();
      }
    },
  );

  it('hypernet-resnet.legacy.pkl (legacy torch.save, like SSL92 koniq_pretrained.pkl): ResNet with BN statistics', async () => {
    const { model, config, format, report } = await loadCheckpoint(fixture('hypernet-resnet.legacy.pkl'));
    try {
      expect(format).toBe('torch-legacy');
      expect(config).toEqual(
        JSON.parse(readFileSync(fixture('hypernet-resnet.legacy.pkl.config.json'), 'utf8')),
      );
      expect(report.loaded).toContain('res.layer3.1.bn2.num_batches_tracked');
      const original = (await readWeights(fixture('hypernet-resnet.legacy.pkl'))).stateDict;
      expect(sameTensors(exportStateDict(model.params), original)).toEqual([]);
    } finally {
      model.dispose();
    }
  });

  it('strict by default: names the problems and builds nothing; non-strict returns the report', async () => {
    // A SMART checkpoint whose attention MLP is missing but conv1 expects the multi-scale input: the given config
    // (attention) does not match.
    const config = JSON.parse(
      readFileSync(fixture('hypernet-swin-concat.pkl.config.json'), 'utf8'),
    ) as ModelConfig;
    const withAttention: ModelConfig = {
      ...config,
      fusion: 'attention',
      head: { ...config.head, attentionHidden: 4 },
    };
    const before = tf.memory().numTensors;
    await expect(
      loadCheckpoint(fixture('hypernet-swin-concat.pkl'), { config: withAttention }),
    ).rejects.toThrow(
      /hypernet-swin-concat\.pkl: the weights do not match the model:\n\d+ tensors loaded\n4 missing from the weights: multiscale_attention\.attention_net\.0\.weight, multiscale_attention\.attention_net\.0\.bias, multiscale_attention\.attention_net\.3\.weight, multiscale_attention\.attention_net\.3\.bias/,
    );
    expect(tf.memory().numTensors).toBe(before);
    const loose = await loadCheckpoint(fixture('hypernet-swin-concat.pkl'), {
      config: withAttention,
      strict: false,
    });
    expect(loose.report.missing).toHaveLength(4);
    expect(loose.configSource).toBe('given');
    loose.model.dispose();
  });

  it('refuses a backbone-only file with a pointer to loadBackboneWeights', async () => {
    await expect(loadCheckpoint(fixture('timm-swin-micro.pth'))).rejects.toThrow(
      /timm-swin ImageNet backbone, not a HyperNet checkpoint.*loadBackboneWeights/,
    );
  });
});

describe('saveSafetensors', () => {
  it('writes the PyTorch state dict with the config in the metadata; the file alone rebuilds the model', async () => {
    const model = createModel('smart-iqa-micro', { seed: 3 });
    const path = join(tmp, 'micro.safetensors');
    try {
      await saveSafetensors(path, model.params, model.config);
      const file = await readSafetensors(path);
      expect(file.metadata.format).toBe('pt');
      expect(JSON.parse(file.metadata.iqa_bench_config)).toEqual(model.config);
      expect(sameTensors(file.tensors, exportStateDict(model.params))).toEqual([]);
      const back = await loadCheckpoint(path, { backend: 'cpu' });
      expect(back.backend?.name).toBe('cpu');
      expect(back.configSource).toBe('metadata');
      expect(back.config).toEqual(model.config); // rates included
      expect(sameParams(back.model.params, model.params)).toBe(true);
      back.model.dispose();
    } finally {
      model.dispose();
    }
  });
});

describe('TensorFlow.js weights format', () => {
  it('round-trips model.json + group1-shard1of1.bin (a model under 4 MiB: one shard, as before sharding)', async () => {
    const model = createModel('smart-iqa-micro', { seed: 4 });
    const dir = join(tmp, 'tfjs');
    try {
      const { bytes } = await saveTfjsModel(dir, model.params, model.config);
      expect(readdirSync(dir).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
      expect(bytes).toBe(model.params.count().total * 4);
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
        format: string;
        weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
        userDefinedMetadata: { iqaBench: { config: ModelConfig } };
      };
      expect(json.format).toBe('iqa-bench-hypernet');
      expect(json.weightsManifest[0].paths).toEqual(['group1-shard1of1.bin']);
      expect(json.weightsManifest[0].weights.map((w) => w.name)).toEqual(model.params.names());
      expect(json.userDefinedMetadata.iqaBench.config).toEqual(model.config);
      const back = await loadTfjsModel(dir);
      expect(sameParams(back.model.params, model.params)).toBe(true);
      back.model.dispose();
    } finally {
      model.dispose();
    }
  });

  it("cuts the weight data into 4 MiB shards named as tfjs' converter names them", async () => {
    // smart-iqa-tiny: 28.3M float32 parameters (113 MB); only the shard layout is looked at.
    const tiny = createModel('smart-iqa-tiny', { seed: 1, randomInit: false });
    try {
      const { modelJSON, weightData, shards } = await encodeTfjsModel(tiny.params, tiny.config);
      const n = Math.ceil(weightData.byteLength / 4194304);
      expect(n).toBeGreaterThan(20);
      expect(modelJSON.weightsManifest[0].paths).toEqual(
        Array.from({ length: n }, (_, i) => `group1-shard${i + 1}of${n}.bin`),
      );
      expect(shards.slice(0, -1).every((b) => b.byteLength === 4194304)).toBe(true);
      expect(shards.reduce((s, b) => s + b.byteLength, 0)).toBe(weightData.byteLength);
    } finally {
      tiny.dispose();
    }
  });

  it('round-trips shards that cut through weights, through the folder reader and the HTTP loader', async () => {
    const model = createModel('smart-iqa-micro', { seed: 6 });
    const dir = join(tmp, 'tfjs-sharded');
    try {
      // 1,000,003 bytes: an odd size, so shard boundaries fall inside weights.
      const saved = await saveTfjsModel(dir, model.params, model.config, { shardBytes: 1_000_003 });
      const n = Math.ceil(saved.bytes / 1_000_003);
      expect(n).toBe(3);
      const names = Array.from({ length: n }, (_, i) => `group1-shard${i + 1}of${n}.bin`);
      expect(readdirSync(dir).sort()).toEqual([...names, 'model.json']);
      expect(saved.shards).toEqual(names.map((f) => join(dir, f)));
      expect(names.map((f) => readFileSync(join(dir, f)).length)).toEqual([
        1_000_003,
        1_000_003,
        saved.bytes - 2_000_006,
      ]);
      const back = await loadTfjsModel(dir);
      expect(sameParams(back.model.params, model.params)).toBe(true);
      back.model.dispose();
      const fetchFunc = async (input: string | URL | Request): Promise<Response> =>
        new Response(readFileSync(join(dir, String(input).replace('https://example.org/s/', ''))));
      const handler = tf.io.http('https://example.org/s/model.json', { fetchFunc });
      if (!handler.load) throw new Error('tf.io.http handler cannot load');
      const again = modelFromTfjsArtifacts(await handler.load());
      expect(sameParams(again.model.params, model.params)).toBe(true);
      again.model.dispose();
    } finally {
      model.dispose();
    }
  }, 30_000);

  it("is what tfjs's own HTTP loader (as in a browser) reads", async () => {
    const model = createModel('smart-iqa-micro', { seed: 9 });
    const dir = join(tmp, 'tfjs-http');
    try {
      await saveTfjsModel(dir, model.params, model.config);
      // Serve the folder to tf.io.http through its fetch hook: the request URLs are the ones a browser would fetch.
      const urls: string[] = [];
      const fetchFunc = async (input: string | URL | Request): Promise<Response> => {
        const url = String(input);
        urls.push(url);
        return new Response(readFileSync(join(dir, url.replace('https://example.org/m/', ''))));
      };
      const handler = tf.io.http('https://example.org/m/model.json', { fetchFunc });
      if (!handler.load) throw new Error('tf.io.http handler cannot load');
      const artifacts = await handler.load();
      expect(urls).toEqual([
        'https://example.org/m/model.json',
        'https://example.org/m/group1-shard1of1.bin',
      ]);
      // The browser entry builds the model from the artifacts; scores equal the original model's.
      const { model: again, config, report } = modelFromTfjsArtifacts(artifacts);
      expect(config).toEqual(model.config);
      expect(report.loaded).toHaveLength(model.params.names().length);
      expect(sameParams(again.params, model.params)).toBe(true);
      const x = tf.randomUniform([2, 224, 224, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
      const [a, b] = [model, again].map((m) => m.forward(x));
      expect(Array.from(b.score.dataSync())).toEqual(Array.from(a.score.dataSync()));
      tf.dispose([x, a.score, a.attention, b.score, b.attention].filter((t) => t !== null));
      again.dispose();
    } finally {
      model.dispose();
    }
  }, 30_000);

  it('refuses weight paths outside the model folder and size mismatches', async () => {
    const model = createModel('smart-iqa-micro', { seed: 5 });
    const dir = join(tmp, 'tfjs-bad');
    try {
      await saveTfjsModel(dir, model.params, model.config);
    } finally {
      model.dispose();
    }
    const jsonPath = join(dir, 'model.json');
    const good = readFileSync(jsonPath, 'utf8');
    writeFileSync(jsonPath, good.replace('"group1-shard1of1.bin"', '"../group1-shard1of1.bin"'));
    await expect(loadTfjsModel(dir)).rejects.toThrow(
      /weight path "\.\.\/group1-shard1of1\.bin" must be a file name next to model\.json/,
    );
    writeFileSync(jsonPath, good);
    const shard = join(dir, 'group1-shard1of1.bin');
    writeFileSync(shard, readFileSync(shard).subarray(0, 100));
    await expect(loadTfjsModel(dir)).rejects.toThrow(
      /the weight data has 100 bytes, the manifest describes \d+/,
    );
  });
});

describe('loadBackboneWeights (ImageNet weights as the starting point)', () => {
  const config = (): ModelConfig => ({
    ...(JSON.parse(readFileSync(fixture('hypernet-swin-attention.pkl.config.json'), 'utf8')) as ModelConfig),
    backbone: {
      kind: 'swin',
      embedDim: 2,
      depths: [2, 2, 2, 2],
      numHeads: [1, 1, 2, 2],
      windowSize: 7,
      patchSize: 4,
      imgSize: 224,
      mlpRatio: 4,
    },
  });

  it.each([
    ['timm-swin-micro.pth', 'timm-swin-micro.pth'],
    ['timm-swin-micro.safetensors', 'timm-swin-micro.pth'],
  ])('%s: loads every backbone tensor, leaves the head as initialised', async (name, source) => {
    const model = createModel(config(), { seed: 6 });
    try {
      const head = exportStateDict(model.params).get('fc1w_conv.weight');
      const r = await loadBackboneWeights(model, fixture(name));
      expect(r.kind).toBe('timm-swin');
      expect(r.dropped).toEqual(['norm.weight', 'norm.bias', 'head.fc.weight', 'head.fc.bias']);
      const sd = exportStateDict(model.params);
      const timm = (await readWeights(fixture(source))).stateDict;
      expect(r.loaded).toHaveLength(timm.size - 4);
      for (const [k, t] of timm) {
        if (/^(norm|head)\./.test(k)) continue;
        const mine = sd.get(`swin.backbone.${k.replace(/^layers\.(\d)\./, 'layers_$1.')}`);
        expect(mine?.data, k).toEqual(t.data);
      }
      expect(sd.get('fc1w_conv.weight')?.data).toEqual(head?.data);
    } finally {
      model.dispose();
    }
  });

  it('maps the old timm / Microsoft layout ({model: sd}, downsample at the end of stages 0-2, buffers)', async () => {
    const model = createModel(config(), { seed: 7 });
    try {
      const r = await loadBackboneWeights(model, fixture('timm-swin-micro-old.pth'));
      expect(r.dropped.filter((k) => k.endsWith('relative_position_index'))).toHaveLength(8);
      expect(r.dropped.filter((k) => k.endsWith('attn_mask'))).toEqual([
        'layers.0.blocks.1.attn_mask',
        'layers.1.blocks.1.attn_mask',
        'layers.2.blocks.1.attn_mask',
      ]);
      const old = (await readWeights(fixture('timm-swin-micro-old.pth'))).stateDict;
      const sd = exportStateDict(model.params);
      expect(sd.get('swin.backbone.layers_1.downsample.reduction.weight')?.data).toEqual(
        old.get('layers.0.downsample.reduction.weight')?.data,
      );
      expect(sd.get('swin.backbone.layers_3.downsample.norm.bias')?.data).toEqual(
        old.get('layers.2.downsample.norm.bias')?.data,
      );
    } finally {
      model.dispose();
    }
  });

  it('torchvision ResNet (no num_batches_tracked, fc dropped) into a HyperIQA ResNet', async () => {
    const cfg = JSON.parse(
      readFileSync(fixture('hypernet-resnet.legacy.pkl.config.json'), 'utf8'),
    ) as ModelConfig;
    const model = createModel(
      { ...cfg, backbone: { kind: 'resnet', layers: [1, 1, 1, 1], baseWidth: 2, imgSize: 224 } },
      { seed: 11 },
    );
    try {
      const r = await loadBackboneWeights(model, fixture('torchvision-resnet-micro.pth'));
      expect(r.kind).toBe('torchvision-resnet');
      expect(r.dropped).toEqual(['fc.weight', 'fc.bias']);
      const tv = (await readWeights(fixture('torchvision-resnet-micro.pth'))).stateDict;
      expect(r.loaded).toHaveLength(tv.size - 2);
      const sd = exportStateDict(model.params);
      for (const [k, t] of tv) if (!k.startsWith('fc.')) expect(sd.get(`res.${k}`)?.data, k).toEqual(t.data);
      expect(sd.get('res.bn1.num_batches_tracked')?.data).toEqual(new BigInt64Array([0n]));
    } finally {
      model.dispose();
    }
  });

  it('names the tensors that do not fit a different backbone', async () => {
    const model = createModel('smart-iqa-micro', { seed: 8 });
    const path = join(tmp, 'timm.pth');
    copyFileSync(fixture('timm-swin-micro.pth'), path);
    try {
      await expect(loadBackboneWeights(model, path)).rejects.toThrow(
        /timm\.pth \(timm-swin backbone\): the weights do not match the model:\n.*mis-shaped or mis-typed: swin\.backbone\.patch_embed\.proj\.weight \(model float\[16,3,4,4\], weights float32\[2,3,4,4\]\)/s,
      );
    } finally {
      model.dispose();
    }
  });
});
