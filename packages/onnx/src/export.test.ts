import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  createModel,
  IqaModel,
  ParamStore,
  presetConfig,
  type FusionMode,
  type ModelConfig,
} from '@iqa-bench/model';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXPORTER_VERSION,
  exportOnnx,
  METADATA_KEYS,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  PRODUCER_NAME,
  PRODUCER_VERSION,
  writeOnnx,
} from './index.js';
import { useWasm } from './__tests__/helpers.js';

const { onnx } = onnxProto;
type Model = onnxProto.onnx.ModelProto;

function decode(bytes: Uint8Array): Model {
  return onnx.ModelProto.decode(bytes);
}

function dims(v: onnxProto.onnx.IValueInfoProto): (number | string)[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));
}

function graph(m: Model): onnxProto.onnx.GraphProto {
  return m.graph as onnxProto.onnx.GraphProto;
}

function metadata(m: Model): Record<string, string> {
  return Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
}

function opCounts(m: Model): Record<string, number> {
  const c: Record<string, number> = {};
  for (const n of graph(m).node) c[n.opType!] = (c[n.opType!] ?? 0) + 1;
  return c;
}

const SHA = 'ab'.repeat(32);
let micro: IqaModel;
beforeAll(async () => {
  await useWasm();
  micro = createModel('smart-iqa-micro', { seed: 2 });
});
afterAll(() => micro.dispose());

describe('the ModelProto', () => {
  it('declares opset, IR version, producer, input and outputs, and the metadata', () => {
    const m = decode(exportOnnx(micro, { checkpointSha256: SHA, source: 'micro.pkl' }));
    expect(Number(m.irVersion)).toBe(ONNX_IR_VERSION);
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', ONNX_OPSET]]);
    expect(ONNX_OPSET).toBeGreaterThanOrEqual(17);
    expect(m.producerName).toBe('@iqa-bench/onnx');
    expect(PRODUCER_NAME).toBe('@iqa-bench/onnx');
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(m.producerVersion).toBe(pkg.version);
    expect(PRODUCER_VERSION).toBe(pkg.version);
    const g = graph(m);
    expect(g.input.map((i) => [i.name, dims(i), i.type?.tensorType?.elemType])).toEqual([
      ['image', ['batch', 3, 224, 224], onnx.TensorProto.DataType.FLOAT],
    ]);
    expect(g.output.map((o) => [o.name, dims(o)])).toEqual([
      ['score', ['batch']],
      ['fusion_weights', ['batch', 4]],
    ]);
    const meta = metadata(m);
    expect(Object.keys(meta).sort()).toEqual(Object.values(METADATA_KEYS).sort());
    expect(meta['iqa-bench.checkpoint_sha256']).toBe(SHA);
    expect(JSON.parse(meta['iqa-bench.model_config'])).toEqual(presetConfig('smart-iqa-micro'));
    expect(meta['iqa-bench.exporter']).toBe(EXPORTER_VERSION);
    expect(meta['iqa-bench.input']).toMatch(/^image: float32 \[batch, 3, 224, 224\], NCHW, RGB/);
    expect(meta['iqa-bench.input']).not.toMatch(/\n/);
    expect(meta['iqa-bench.source']).toBe('micro.pkl');
  });

  it('without a checkpoint hash or source, those keys are absent; single fusion has only the score output', () => {
    const model = createModel({ ...presetConfig('smart-iqa-micro'), fusion: 'single' }, { seed: 1 });
    try {
      const m = decode(exportOnnx(model));
      expect(metadata(m)[METADATA_KEYS.checkpointSha256]).toBeUndefined();
      expect(metadata(m)[METADATA_KEYS.source]).toBeUndefined();
      expect(graph(m).output.map((o) => o.name)).toEqual(['score']);
    } finally {
      model.dispose();
    }
  });

  it('is the same bytes every time (a content hash of it is stable)', () => {
    const a = exportOnnx(micro, { checkpointSha256: SHA });
    const b = exportOnnx(micro, { checkpointSha256: SHA });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('Swin: LayerNormalization, exact Gelu, one Gather per window move, four Transposes per block', () => {
    const m = decode(exportOnnx(micro));
    const c = opCounts(m);
    const blocks = 8; // depths [2, 2, 2, 2]
    // per block: 2 LayerNormalization; + patch_embed.norm + 3 patch-merging norms
    expect(c.LayerNormalization).toBe(2 * blocks + 4);
    expect(c.Gelu).toBe(blocks);
    for (const n of graph(m).node.filter((x) => x.opType === 'Gelu'))
      expect((n.attribute ?? []).find((a) => a.name === 'approximate')).toBeUndefined();
    expect(c.Erf).toBeUndefined();
    expect(c.Tanh).toBeUndefined();
    expect(c.Softmax).toBe(blocks + 1); // + the attention fusion
    // attention: q, kᵀ, v into their head layouts and the heads merged; + patch embedding into windows + hyper_in
    expect(c.Transpose).toBe(4 * blocks + 2);
    expect(c.Split).toBe(3); // the head's (generators, their linears, fusion weights): no q/k/v split in the blocks
    // window moves: the patch embedding's raster tokens into stage 0's windows (1), into the shifted block of stages
    // 0-2 (3) and the patch merges (3), each straight into the next block's windows. Head pooling gathers aside.
    const moves = graph(m).node.filter((n) => n.opType === 'Gather' && /windows|downsample/.test(n.name!));
    expect(moves).toHaveLength(1 + 3 + 3);
    // the patch embedding's one Transpose moves the channel axis only (NCHW → NHWC)
    const embed = graph(m).node.find((n) => n.opType === 'Transpose' && n.name!.startsWith('patch_embed'));
    expect(embed?.attribute?.find((a) => a.name === 'perm')?.ints?.map(Number)).toEqual([0, 2, 3, 1]);
    // no float64 or float16 anywhere; every initializer is float32 or int64
    for (const t of graph(m).initializer)
      expect([onnx.TensorProto.DataType.FLOAT, onnx.TensorProto.DataType.INT64]).toContain(t.dataType);
  });

  it('ResNet: every BatchNorm folded into its Conv', () => {
    const cfg: ModelConfig = {
      ...presetConfig('hyperiqa-resnet50'),
      backbone: { kind: 'resnet', layers: [2, 1, 1, 1], baseWidth: 4, imgSize: 224 },
      head: presetConfig('smart-iqa-micro').head,
    };
    const model = createModel(cfg, { seed: 3 });
    try {
      const c = opCounts(decode(exportOnnx(model)));
      expect(c.BatchNormalization).toBeUndefined();
      // stem + 5 blocks × 3 + 4 downsamples (layer1.0 widens 4 → 16) + LDA 1×1 × 3 + conv1 × 3 + generators
      expect(c.Conv).toBe(1 + 15 + 4 + 3 + 3 + 1);
    } finally {
      model.dispose();
    }
  });
});

/** sha256 of the graph's structure (operators, wiring, attributes, initializer names and shapes; not the values). */
function fingerprint(m: Model): string {
  const g = graph(m);
  const text = JSON.stringify({
    opset: m.opsetImport,
    nodes: g.node.map((n) => [n.opType, n.domain, n.input, n.output, n.attribute]),
    initializers: g.initializer.map((t) => [t.name, (t.dims ?? []).map(Number), t.dataType]),
    io: [g.input, g.output],
  });
  return createHash('sha256').update(text).digest('hex');
}

it('EXPORTER_VERSION names the graph: a changed graph needs a new version (the cache key of exported models)', () => {
  // When this fails because the exporter's graph changed on purpose: bump EXPORTER_VERSION and put the new hashes here.
  const expected: Record<string, [string, string]> = {
    'iqa-bench-onnx/2': [
      '8f93fc2e01b74b70efe24b3b15cafe575511fb09391c113e544b4e00c83d12e9',
      'b61fa5af2083e3e7c5d78270e9ce7082576ed9ec0d64a28114f980e1c6fdc8b9',
    ],
  };
  const resnet = createModel(
    {
      ...presetConfig('hyperiqa-resnet50'),
      fusion: 'attention',
      backbone: { kind: 'resnet', layers: [1, 1, 2, 1], baseWidth: 4, imgSize: 224 },
      head: presetConfig('smart-iqa-micro').head,
    },
    { seed: 1, randomInit: false },
  );
  try {
    const got: [string, string] = [
      fingerprint(decode(exportOnnx(micro))),
      fingerprint(decode(exportOnnx(resnet))),
    ];
    expect(got).toEqual(expected[EXPORTER_VERSION]);
  } finally {
    resnet.dispose();
  }
});

describe('bad input', () => {
  it('an unsupported config names the field', () => {
    const bad = (patch: Partial<ModelConfig>): IqaModel =>
      new IqaModel({ ...micro.config, ...patch } as ModelConfig, micro.params, micro.backbone, micro.head);
    expect(() => exportOnnx(bad({ fusion: 'sum' as FusionMode }))).toThrow(
      /exportOnnx: fusion 'sum' is not supported \(expected single, concat or attention\)/,
    );
    expect(() =>
      exportOnnx(
        bad({ backbone: { ...micro.config.backbone, kind: 'vit' } as unknown as ModelConfig['backbone'] }),
      ),
    ).toThrow(/exportOnnx: backbone.kind 'vit' is not supported/);
    expect(() => exportOnnx(bad({ head: { ...micro.config.head, featureSize: 5 } }))).toThrow(/featureSize/);
  });

  it('a model with a missing parameter: one error naming it', () => {
    const store = new ParamStore();
    const dropped = 'swin.backbone.layers_1.blocks.0.attn.qkv.weight';
    for (const e of micro.params.list())
      if (e.name !== dropped)
        store.add(e.name, tf.clone(e.variable), { layout: e.layout, trainable: e.trainable });
    const model = new IqaModel(micro.config, store, micro.backbone, micro.head);
    try {
      expect(() => exportOnnx(model, { source: 'x.pkl' })).toThrow(
        "exportOnnx (x.pkl): the model's parameters do not fit its config; missing 1 parameter(s): " +
          `${dropped} [96,32]`,
      );
    } finally {
      store.dispose();
    }
  });

  it('parameters of another size: every mis-shaped one named', () => {
    const cfg = presetConfig('smart-iqa-micro');
    if (cfg.backbone.kind !== 'swin') throw new Error('smart-iqa-micro is a Swin preset');
    const other = createModel(
      { ...cfg, backbone: { ...cfg.backbone, embedDim: 8 } },
      { seed: 1, randomInit: false },
    );
    try {
      const model = new IqaModel(micro.config, other.params, micro.backbone, micro.head);
      expect(() => exportOnnx(model)).toThrow(
        /mis-shaped: swin\.backbone\.patch_embed\.proj\.weight \(model float32\[8,3,4,4\], expected float32\[16,3,4,4\]\)/,
      );
    } finally {
      other.dispose();
    }
  });

  it('a checkpoint hash that is not a sha256', () => {
    expect(() => exportOnnx(micro, { checkpointSha256: 'abc' })).toThrow(
      /checkpointSha256 must be 64 lowercase hex digits/,
    );
  });
});

describe('writeOnnx', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'onnx-write-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes exactly the exported bytes', async () => {
    const path = join(dir, 'sub', 'micro.onnx');
    const n = await writeOnnx(path, micro, { checkpointSha256: SHA });
    const bytes = readFileSync(path);
    expect(n).toBe(bytes.byteLength);
    expect(bytes.equals(Buffer.from(exportOnnx(micro, { checkpointSha256: SHA })))).toBe(true);
  });

  it('a failing export leaves the previous file as it was and no temporary file', async () => {
    const path = join(dir, 'keep.onnx');
    writeFileSync(path, 'previous');
    const bad = new IqaModel(
      { ...micro.config, fusion: 'sum' as FusionMode },
      micro.params,
      micro.backbone,
      micro.head,
    );
    await expect(writeOnnx(path, bad)).rejects.toThrow(/fusion 'sum'/);
    expect(readFileSync(path, 'utf8')).toBe('previous');
    expect(readdirSync(dir).filter((f) => f.includes('keep'))).toEqual(['keep.onnx']);
  });

  it('a path that cannot be written names it; nothing is left behind', async () => {
    const blocker = join(dir, 'file');
    writeFileSync(blocker, 'x');
    const path = join(blocker, 'model.onnx');
    await expect(writeOnnx(path, micro)).rejects.toThrow(/model\.onnx/);
    expect(existsSync(path)).toBe(false);
  });
});
