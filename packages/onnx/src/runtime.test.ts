/**
 * openOnnxScorer with the real onnxruntime-node on the PyTorch reference's micro checkpoints: the same crops and
 * scores as @iqa-bench/model's scoreImage on TF.js (1e-4 per score, 1e-5 per fusion weight) at batch 1 and 8, crops
 * batched across images give the numbers of one image at a time, and every bad file or provider is a clear
 * OnnxModelError.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  extractCrops,
  scoreImage,
  type IqaModel,
  type NormalizedImage,
  type ScoreImageOptions,
} from '@iqa-bench/model';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXPORTER_VERSION,
  METADATA_KEYS,
  OnnxModelError,
  onnxRuntimeAvailable,
  openOnnxScorer,
  type OnnxScorer,
} from './index.js';
import {
  exportedFile,
  maxAbs,
  normalizedImage,
  referenceModel,
  spread,
  useWasm,
} from './__tests__/helpers.js';

const SCORE_TOL = 1e-4;
const ATTENTION_TOL = 1e-5;
const { onnx } = onnxProto;

beforeAll(useWasm);

/** The TF.js model's mean attention fusion weights over the crops scoreImage took. */
function tfjsFusion(model: IqaModel, image: NormalizedImage, origins: [number, number][]): number[] {
  const x = tf.tensor4d(extractCrops(image, origins, 224), [origins.length, 224, 224, 3]);
  const out = model.forward(x);
  const w = out.attention!.arraySync() as number[][];
  tf.dispose([x, out.score, out.attention!]);
  return [0, 1, 2, 3].map((k) => w.reduce((s, row) => s + row[k], 0) / w.length);
}

it('onnxRuntimeAvailable: onnxruntime-node is installed here (a devDependency)', async () => {
  expect(await onnxRuntimeAvailable()).toBe(true);
});

describe.each([
  ['micro-attention', true],
  ['hyperiqa-micro', false],
] as const)('the scorer against the TF.js model: %s', (name, attention) => {
  let model: IqaModel;
  let scorer: OnnxScorer;
  let remove: () => void;
  const image = normalizedImage(271, 243, 7);

  beforeAll(async () => {
    model = await referenceModel(name);
    const out = await exportedFile(model, { source: `${name}.pkl` });
    remove = out.remove;
    scorer = await openOnnxScorer(out.file, { intraOpThreads: 1 });
  });
  afterAll(async () => {
    await scorer.close();
    model.dispose();
    remove();
  });

  it('reads the config from the metadata', () => {
    expect(scorer.config).toEqual(model.config);
    expect(scorer.executionProviders).toEqual(['cpu']);
    expect(scorer.checkpointSha256).toBeUndefined();
  });

  it.each<[string, ScoreImageOptions]>([
    ['6 random crops, batch 1', { crops: 6, mode: 'random', seed: 11, batchSize: 1 }],
    ['6 random crops, batch 8', { crops: 6, mode: 'random', seed: 11, batchSize: 8 }],
    ['9 grid crops, batch 8 (a full batch and one more)', { crops: 9, mode: 'grid', batchSize: 8 }],
    ['center crop', {}],
  ])('%s', async (_what, options) => {
    const ref = await scoreImage(model, image, options);
    const got = await scorer.scoreImage(image, options);
    expect(got.origins).toEqual(ref.origins);
    expect(got.cropScores).toHaveLength(ref.cropScores.length);
    if (ref.cropScores.length > 1) expect(spread(ref.cropScores)).toBeGreaterThan(10 * SCORE_TOL);
    expect(maxAbs(got.cropScores, ref.cropScores)).toBeLessThan(SCORE_TOL);
    expect(Math.abs(got.score - ref.score)).toBeLessThan(SCORE_TOL);
    if (attention) {
      const w = tfjsFusion(model, image, ref.origins);
      expect(got.fusionWeights).toHaveLength(4);
      expect(maxAbs(got.fusionWeights!, w)).toBeLessThan(ATTENTION_TOL);
    } else {
      expect(got.fusionWeights).toBeUndefined();
    }
  });

  it('batches crops across images with the numbers of one image at a time, in input order', async () => {
    const items = [
      { image: normalizedImage(230, 250, 1), options: { crops: 3, mode: 'random' as const, seed: 'a' } },
      { image: normalizedImage(224, 224, 2) },
      { image: normalizedImage(300, 240, 3), options: { crops: 5, mode: 'grid' as const } },
      { image: normalizedImage(260, 260, 4), options: { crops: 4, mode: 'random' as const, seed: 9 } },
    ];
    const alone = [];
    for (const it of items) alone.push(await scorer.scoreImage(it.image, { ...it.options, batchSize: 1 }));
    const seen: [number, unknown][] = [];
    // 13 crops in batches of 8: the first batch holds crops of three images
    const together = await scorer.scoreImages(
      (async function* () {
        yield* items;
      })(),
      {
        batchSize: 8,
        onResult: (i, s) => seen.push([i, s]),
      },
    );
    expect(seen.map(([i]) => i)).toEqual([0, 1, 2, 3]);
    seen.forEach(([i, s]) => expect(s).toBe(together[i]));
    expect(together).toHaveLength(4);
    // A crop's numbers depend on the batch it ran in only through float32 rounding (a few ulps).
    for (let i = 0; i < items.length; i++) {
      expect(together[i].origins).toEqual(alone[i].origins);
      expect(maxAbs(together[i].cropScores, alone[i].cropScores)).toBeLessThan(1e-6);
      if (attention) expect(maxAbs(together[i].fusionWeights!, alone[i].fusionWeights!)).toBeLessThan(1e-6);
    }
    expect(spread(together.map((r) => r.score))).toBeGreaterThan(10 * SCORE_TOL);
  });

  it('names the image that cannot be cropped', async () => {
    await expect(
      scorer.scoreImages([{ image: normalizedImage(224, 224, 1) }, { image: normalizedImage(200, 300, 2) }]),
    ).rejects.toThrow('image 1: image 200x300 is smaller than the 224x224 crop');
    await expect(scorer.scoreImage({ width: 224, height: 224, data: new Float32Array(10) })).rejects.toThrow(
      'image data has 10 values, expected width·height·3 = 150528',
    );
    await expect(scorer.scoreImage(image, { batchSize: 0 })).rejects.toThrow(
      'batchSize must be a positive integer, got 0',
    );
    await expect(scorer.scoreImage(image, { mode: 'random', crops: 2 })).rejects.toThrow(
      "crop mode 'random' needs a seed",
    );
  });
});

describe('bad files and providers', () => {
  let dir: string;
  let good: string;
  let bytes: Uint8Array;
  let remove: () => void;

  beforeAll(async () => {
    const model = await referenceModel('micro-attention');
    const out = await exportedFile(model, { checkpointSha256: 'ab'.repeat(32) });
    model.dispose();
    ({ dir, remove } = out);
    good = out.file;
    bytes = readFileSync(good);
  });
  afterAll(() => remove());

  const graph = (m: onnxProto.onnx.ModelProto): onnxProto.onnx.GraphProto =>
    m.graph as onnxProto.onnx.GraphProto;

  /** Writes a variant of the good model, edited as a decoded ModelProto. */
  function variant(name: string, edit: (m: onnxProto.onnx.ModelProto) => void): string {
    const m = onnx.ModelProto.decode(bytes);
    edit(m);
    const file = join(dir, name);
    writeFileSync(file, onnx.ModelProto.encode(m).finish());
    return file;
  }

  async function openError(file: string, options = {}): Promise<OnnxModelError> {
    try {
      const s = await openOnnxScorer(file, options);
      await s.close();
    } catch (err) {
      expect(err).toBeInstanceOf(OnnxModelError);
      return err as OnnxModelError;
    }
    throw new Error(`${file} opened`);
  }

  it('the good file opens and carries the checkpoint hash', async () => {
    const s = await openOnnxScorer(good);
    expect(s.checkpointSha256).toBe('ab'.repeat(32));
    await s.close();
    await expect(s.scoreImage(normalizedImage(224, 224, 1))).rejects.toThrow('the scorer is closed');
  });

  it('a truncated file', async () => {
    for (const cut of [1000, Math.floor(bytes.length / 2), bytes.length - 10]) {
      const file = join(dir, `truncated-${cut}.onnx`);
      writeFileSync(file, bytes.subarray(0, cut));
      const err = await openError(file);
      expect(err.file).toBe(file);
      expect(err.message).toMatch(new RegExp(`^${file}: .*(truncated|corrupt)`));
    }
  });

  it('an empty file, random bytes, a missing file', async () => {
    const empty = join(dir, 'empty.onnx');
    writeFileSync(empty, '');
    expect((await openError(empty)).message).toBe(`${empty}: the file is empty, expected an ONNX model`);
    const noise = join(dir, 'noise.onnx');
    writeFileSync(
      noise,
      new Uint8Array(4096).map((_, i) => (i * 193 + 7) % 256),
    );
    expect((await openError(noise)).message).toMatch(/noise\.onnx: .*(not a readable ONNX model|no graph)/);
    const missing = join(dir, 'missing.onnx');
    const err = await openError(missing);
    expect(err.file).toBe(missing);
    expect(err.message).toContain('not found');
  });

  it('an ONNX model of another exporter (no metadata)', async () => {
    const file = variant('other.onnx', (m) => {
      m.metadataProps = [];
      m.producerName = 'pytorch';
    });
    const err = await openError(file);
    expect(err.file).toBe(file);
    expect(err.message).toBe(
      `${file}: has no '${METADATA_KEYS.modelConfig}' metadata (producer 'pytorch'): expected a model exported by ` +
        '@iqa-bench/onnx (exportOnnx / `iqa-bench convert`), or the file is truncated',
    );
  });

  it('a wrong input name, shape or element type', async () => {
    const renamed = variant('input-name.onnx', (m) => {
      graph(m).input[0].name = 'pixel_values';
    });
    expect((await openError(renamed)).message).toBe(
      `${renamed}: has input(s) 'pixel_values' [batch, 3, 224, 224], expected one float32 input 'image' ` +
        '[batch, 3, 224, 224]',
    );
    const shape = variant('input-shape.onnx', (m) => {
      graph(m).input[0].type!.tensorType!.shape!.dim![2] = { dimValue: 112 };
      graph(m).input[0].type!.tensorType!.shape!.dim![3] = { dimValue: 112 };
    });
    expect((await openError(shape)).message).toBe(
      `${shape}: input 'image' is [batch, 3, 112, 112] of element type 1, expected one float32 input 'image' ` +
        '[batch, 3, 224, 224]',
    );
    const fixed = variant('input-fixed-batch.onnx', (m) => {
      graph(m).input[0].type!.tensorType!.shape!.dim![0] = { dimValue: 1 };
    });
    expect((await openError(fixed)).message).toContain("input 'image' is [1, 3, 224, 224]");
    const half = variant('input-fp16.onnx', (m) => {
      graph(m).input[0].type!.tensorType!.elemType = onnx.TensorProto.DataType.FLOAT16;
    });
    expect((await openError(half)).message).toContain('of element type 10, expected one float32 input');
  });

  it('wrong outputs', async () => {
    const missing = variant('no-fusion.onnx', (m) => {
      graph(m).output = graph(m).output.slice(0, 1);
    });
    expect((await openError(missing)).message).toBe(
      `${missing}: has output(s) 'score' [batch], expected 'score' [batch] and 'fusion_weights' [batch, 4] ` +
        '(attention fusion)',
    );
    const renamed = variant('renamed-output.onnx', (m) => {
      graph(m).output[0].name = 'logits';
    });
    expect((await openError(renamed)).message).toContain("has output(s) 'logits' [batch], 'fusion_weights'");
  });

  it('metadata that is not ours', async () => {
    const bad = variant('bad-config.onnx', (m) => {
      for (const p of m.metadataProps) if (p.key === METADATA_KEYS.modelConfig) p.value = '{"arch": "vit"}';
    });
    const err = await openError(bad);
    expect(err.message).toMatch(new RegExp(`^${bad}: metadata 'iqa-bench.model_config': .*arch`));
    const exporter = variant('bad-exporter.onnx', (m) => {
      for (const p of m.metadataProps) if (p.key === METADATA_KEYS.exporter) p.value = 'someone-else';
    });
    expect((await openError(exporter)).message).toBe(
      `${exporter}: metadata '${METADATA_KEYS.exporter}' is 'someone-else', expected 'iqa-bench-onnx/<n>'`,
    );
    expect(EXPORTER_VERSION).toMatch(/^iqa-bench-onnx\/\d+$/);
  });

  it('an execution provider that is not installed or does not exist', async () => {
    // onnxruntime-node knows CUDA on linux-x64, but its binaries come from the install script that is not run here
    const cuda = await openError(good, { executionProviders: ['cuda', 'cpu'] });
    expect(cuda.provider).toBe('cuda');
    expect(cuda.file).toBeUndefined();
    expect(cuda.message).toMatch(
      /^execution provider 'cuda' could not be used: .*Failed to load shared library/,
    );
    expect(cuda.message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
    const nonsense = await openError(good, { executionProviders: ['rocket'] });
    expect(nonsense.provider).toBe('rocket');
    expect(nonsense.message).toMatch(
      /^execution provider 'rocket' is not one onnxruntime-node \S+ has on this platform \(expected one of cpu, /,
    );
    // WebGPU is in onnxruntime-node's build; without a GPU adapter it fails to start and the error says so
    const webgpu = await openOnnxScorer(good, { executionProviders: ['webgpu'] }).then(
      async (s) => {
        await s.close();
        return null;
      },
      (e: unknown) => e,
    );
    if (webgpu !== null) {
      expect(webgpu).toBeInstanceOf(OnnxModelError);
      expect((webgpu as OnnxModelError).provider).toBe('webgpu');
    }
    await expect(openOnnxScorer(good, { executionProviders: [] })).rejects.toThrow('non-empty list');
    await expect(openOnnxScorer(good, { intraOpThreads: 0 })).rejects.toThrow(
      'intraOpThreads must be a positive integer, got 0',
    );
  });
});
