/**
 * Weights and checkpoints through @iqa-bench/model: torch.save zip and legacy files and safetensors (loadCheckpoint),
 * TensorFlow.js folders (loadTfjsModel). Seeds are the package's checkpoint fixtures plus tiny HyperNet models built
 * from the fixtures' configs and written by the fuzzer's torch writer, the package's safetensors writer and its
 * TensorFlow.js encoder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Model from '@iqa-bench/model';
import type * as Weights from '@iqa-bench/model/weights';
import { mutateBytes, mutateBytesN } from '../mutate/bytes.js';
import { interestingValue, jsonText, mutateValue } from '../mutate/json.js';
import {
  contiguousStride,
  DTYPE_BYTES,
  mutatePickle,
  py,
  scanPickle,
  torchLegacy,
  torchZip,
  type Py,
  type StorageSpec,
  type TensorSpec,
  type TorchDType,
  type TorchSpec,
} from '../mutate/pickle.js';
import { mutateEntries, mutateZipStructure, readZip, writeZip } from '../mutate/zip.js';
import { repoPath } from '../paths.js';
import type { Rng } from '../rng.js';
import type { FormatSpec, FuzzCase, JsonValue, Seed } from '../types.js';

let model: typeof Model;

const CHECKPOINTS = 'packages/model/fixtures/checkpoints';
const enc = new TextEncoder();
const dec = new TextDecoder();

/** The tiny HyperNet configs the checkpoint fixtures were made with (ResNet and Swin, three fusions). */
function fixtureConfigs(): [string, Model.ModelConfig][] {
  return readdirSync(repoPath(CHECKPOINTS))
    .filter((f) => f.endsWith('.config.json'))
    .sort()
    .map((f) => [
      f.replace(/\.pkl\.config\.json$|\.config\.json$/, ''),
      JSON.parse(readFileSync(repoPath(CHECKPOINTS, f), 'utf8')) as Model.ModelConfig,
    ]);
}

interface TinyModel {
  name: string;
  config: Model.ModelConfig;
  sd: Weights.StateDict;
  tfjs: { modelJSON: unknown; weightData: ArrayBuffer };
}

let tiny: Promise<TinyModel[]> | undefined;

/** The state dicts and TensorFlow.js encodings of the tiny models (built once per child). */
function tinyModels(): Promise<TinyModel[]> {
  tiny ??= buildTinyModels();
  return tiny;
}

async function buildTinyModels(): Promise<TinyModel[]> {
  const m = await import('@iqa-bench/model');
  const w = await import('@iqa-bench/model/weights');
  const out = [];
  for (const [name, config] of fixtureConfigs()) {
    const built = m.createModel(config, { seed: 1, randomInit: true });
    try {
      out.push({
        name,
        config,
        sd: w.exportStateDict(built.params),
        tfjs: await w.encodeTfjsModel(built.params, config),
      });
    } finally {
      built.dispose();
    }
  }
  return out;
}

function bytesOf(t: Weights.TensorData): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
}

/** A state dict as a torch spec: one storage per tensor, or (`shared`) every tensor a view into one storage. */
function specOf(sd: Weights.StateDict, variant: number): TorchSpec {
  const storages: StorageSpec[] = [];
  const tensors: TensorSpec[] = [];
  if (variant === 1) {
    const parts: Uint8Array[] = [];
    let offset = 0;
    for (const [name, t] of sd) {
      tensors.push({ name, storage: '0', offset, shape: t.shape, stride: contiguousStride(t.shape) });
      parts.push(bytesOf(t));
      offset += t.data.length;
    }
    const data = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
    storages.push({ key: '0', dtype: 'float32', numel: offset, data, location: 'cpu' });
  } else {
    let i = 0;
    for (const [name, t] of sd) {
      const key = String(i++);
      storages.push({
        key,
        dtype: t.dtype as TorchDType,
        numel: t.data.length,
        data: bytesOf(t),
        location: variant === 3 ? 'cuda:0' : 'cpu',
      });
      tensors.push({
        name,
        storage: key,
        offset: 0,
        shape: t.shape,
        stride: contiguousStride(t.shape),
        parameter: variant === 2,
      });
    }
  }
  return {
    storages,
    tensors,
    ...(variant === 2 ? { wrapper: 'model_hyper', extras: [['epoch', py.int(3)] as [string, Py]] } : {}),
    ...(variant === 3 ? { protocol: 4 as const, wrapper: 'state_dict' } : {}),
  };
}

const BOMBS: readonly [string, number[], number[]][] = [
  ['(1e9,) stride (0,)', [1e9], [0]],
  ['(2^26, 2^26) stride (0, 0)', [2 ** 26, 2 ** 26], [0, 0]],
  ['2^31 elements', [2 ** 31], [0]],
  ['(2^16, 2^16, 2^16)', [2 ** 16, 2 ** 16, 2 ** 16], [0, 0, 0]],
];

/** A tensor-level or storage-level change to a torch spec (sizes, strides, offsets, dtypes, persistent ids, payloads). */
/** The largest storage a dtype change re-allocates (the fuzz inputs stay small files). */
const MAX_RESIZED_STORAGE = 16 * 2 ** 20;

export function mutateSpec(spec: TorchSpec, rng: Rng): { spec: TorchSpec; note: string } {
  const s: TorchSpec = {
    ...spec,
    storages: spec.storages.map((x) => ({ ...x })),
    tensors: spec.tensors.map((x) => ({ ...x, shape: [...x.shape], stride: [...x.stride] })),
    extras: [...(spec.extras ?? [])],
  };
  const t = rng.pick(s.tensors);
  const st = rng.pick(s.storages);
  switch (rng.int(14)) {
    case 0: {
      const d = rng.int(Math.max(1, t.shape.length));
      const v = rng.interestingInt();
      t.shape[d] = v;
      return { spec: s, note: `${t.name}: size[${d}] = ${v}` };
    }
    case 1: {
      const d = rng.int(Math.max(1, t.stride.length));
      const v = rng.pick([0, -1, 1, 2, 2 ** 31, 2 ** 53 - 1, (t.stride[d] ?? 1) * 2]);
      t.stride[d] = v;
      return { spec: s, note: `${t.name}: stride[${d}] = ${v}` };
    }
    case 2: {
      const v = rng.pick([1, st.numel - 1, st.numel, 2 ** 31, -1, 2 ** 53 - 1]);
      t.offset = v;
      return { spec: s, note: `${t.name}: storage offset = ${v}` };
    }
    case 3: {
      if (rng.chance(0.5)) t.shape.push(rng.pick([1, 2, 0]));
      else t.stride.push(1);
      return { spec: s, note: `${t.name}: rank / stride length changed` };
    }
    case 4: {
      const v = rng.pick([0, 1, st.numel - 1, st.numel + 1, 2 ** 31, 2 ** 53 - 1, -1]);
      st.numel = v;
      return { spec: s, note: `storage ${st.key}: declared numel = ${v}` };
    }
    case 5: {
      const dtype = rng.pick(Object.keys(DTYPE_BYTES) as TorchDType[]);
      st.dtype = dtype;
      // Resized to the new dtype only while that stays small: an earlier mutation may have declared 2^31 elements.
      const bytes = st.numel * DTYPE_BYTES[dtype];
      if (rng.chance(0.5) && bytes >= 0 && bytes <= MAX_RESIZED_STORAGE) st.data = new Uint8Array(bytes);
      return { spec: s, note: `storage ${st.key}: dtype ${dtype}` };
    }
    case 6: {
      st.data = rng.chance(0.5)
        ? st.data.subarray(0, rng.int(st.data.length + 1))
        : new Uint8Array(st.data.length + rng.range(1, 64));
      return { spec: s, note: `storage ${st.key}: ${st.data.length} data bytes` };
    }
    case 7: {
      const v = rng.pick(['', '../x', '/abs', 'x'.repeat(65), s.storages[0].key, 'data.pkl', '\u0000']);
      for (const x of s.tensors) if (x.storage === st.key) x.storage = v;
      st.key = v;
      return { spec: s, note: `storage key -> ${JSON.stringify(v.slice(0, 20))}` };
    }
    case 8: {
      st.cls = rng.pick([
        'UntypedStorage',
        'FloatTensor',
        'Storage',
        'TypedStorage',
        'ComplexFloatStorage',
        'QInt8Storage',
      ]);
      return { spec: s, note: `storage ${st.key}: class torch.${st.cls}` };
    }
    case 9: {
      s.pidKind = rng.pick(['module', 'tensor', '', 'storage ']);
      return { spec: s, note: `persistent id kind ${JSON.stringify(s.pidKind)}` };
    }
    case 10: {
      const [what, shape, stride] = rng.pick(BOMBS);
      const one: StorageSpec = {
        key: 'bomb',
        dtype: 'float32',
        numel: 1,
        data: new Uint8Array(4),
        location: 'cpu',
      };
      s.storages.push(one);
      t.storage = 'bomb';
      t.offset = 0;
      t.shape = shape;
      t.stride = stride;
      return { spec: s, note: `${t.name}: view ${what} of a 1-element storage` };
    }
    case 11: {
      const v: Py = rng.pick<Py>([
        py.reduce(py.global('os', 'system'), py.str('touch "$FUZZ_SENTINEL/extra"')),
        py.reduce(py.global('builtins', 'getattr'), py.global('os', 'system'), py.str('x')),
        py.reduce(
          py.global('numpy.core.multiarray', 'scalar'),
          py.reduce(py.global('numpy', 'dtype'), py.str('f8'), py.bool(false), py.bool(true)),
          { t: 'bytes', v: new Uint8Array(8) },
        ),
        py.reduce(py.global('_codecs', 'encode'), py.str('\u00ff\u0100'), py.str('latin1')),
        { t: 'list', items: Array.from({ length: 1000 }, () => py.none()) },
        { t: 'float', v: NaN },
        py.int(2n ** 200n),
      ]);
      s.extras?.push([rng.pick(['epoch', 'optimizer', t.name]), v]);
      return {
        spec: s,
        note: `extra entry ${v.t === 'reduce' && v.fn.t === 'global' ? `${v.fn.module}.${v.fn.name}(...)` : v.t}`,
      };
    }
    case 12: {
      s.wrapper = rng.pick([
        undefined,
        'model_hyper',
        'model',
        'params',
        'state_dict',
        'model_state_dict',
        'weights',
        '__proto__',
      ]);
      return { spec: s, note: `wrapper ${String(s.wrapper)}` };
    }
    default: {
      const names = s.tensors.map((x) => x.name);
      t.name = rng.pick(['', '__proto__', 'module.' + t.name, t.name + '.extra', names[0], 'constructor']);
      return { spec: s, note: `tensor name -> ${JSON.stringify(t.name)}` };
    }
  }
}

const WEIGHT_ERRORS = ['ModelFileError', 'FileError', 'TextFileError'];

async function runCheckpoint(caseDir: string, call: { target: string }): Promise<string> {
  const r = await model.loadCheckpoint(join(caseDir, call.target));
  try {
    return `${r.format} ${r.config.arch} (${r.configSource}): ${r.report.loaded.length} tensors`;
  } finally {
    r.model.dispose();
  }
}

async function prepareModel(): Promise<void> {
  model = await import('@iqa-bench/model');
}

function fixtureSeeds(names: readonly string[], as: string): Seed[] {
  return names.map((f) => ({
    name: f,
    files: new Map([[as, new Uint8Array(readFileSync(repoPath(CHECKPOINTS, f)))]]),
    target: as,
  }));
}

/** Generated seeds keep their spec, so that spec-level mutations can rebuild the file. */
const specs = new WeakMap<Seed, TorchSpec>();

async function torchSeeds(legacy: boolean): Promise<Seed[]> {
  const fixtures = legacy
    ? fixtureSeeds(['basic.legacy.pth', 'small.legacy.pth', 'hypernet-resnet.legacy.pkl'], 'model.pth')
    : fixtureSeeds(
        [
          'basic.zip.pth',
          'basic.p4.zip.pth',
          'hypernet-swin-attention.pkl',
          'wrap-model_state_dict.pth',
          'layouts.pth',
          'crafted-rebuild.pth',
          'timm-swin-micro.pth',
        ],
        'model.pth',
      );
  const made: Seed[] = [];
  for (const m of await tinyModels()) {
    for (const variant of [0, 1, 2, 3]) {
      const spec = specOf(m.sd, variant);
      const seed: Seed = {
        name: `${m.name}-v${variant}`,
        files: new Map([['model.pth', legacy ? torchLegacy(spec) : torchZip(spec)]]),
        target: 'model.pth',
      };
      specs.set(seed, spec);
      made.push(seed);
    }
  }
  return [...fixtures, ...made];
}

/** Offset of the main pickle of a legacy file (after magic, protocol and sys-info pickles). */
function legacyMainPickle(b: Uint8Array): number {
  let at = 0;
  for (let i = 0; i < 3; i++) {
    const ops = scanPickle(b, at);
    const last = ops[ops.length - 1];
    if (!last || last.name !== 'STOP') return 0;
    at = last.end;
  }
  return at;
}

function torchFormat(legacy: boolean): FormatSpec {
  return {
    name: legacy ? 'torch-legacy' : 'torch-zip',
    description: `${legacy ? 'legacy (pre-zip)' : 'zip'} torch.save files: loadCheckpoint`,
    cleanErrors: WEIGHT_ERRORS,
    prepare: prepareModel,
    seeds: () => torchSeeds(legacy),
    mutate(seed, rng, corpus): FuzzCase {
      const bytes = seed.files.get('model.pth') as Uint8Array;
      const spec = specs.get(seed);
      const others = corpus.map((s) => s.files.get('model.pth') as Uint8Array);
      const notes: string[] = [];
      let out: Uint8Array;
      const mode = rng.weighted<string>([
        [spec ? 4 : 0, 'spec'],
        [3, 'pickle'],
        [legacy ? 0 : 2, 'zip'],
        [2, 'bytes'],
      ]);
      if (mode === 'spec' && spec) {
        let s = spec;
        for (let i = rng.range(1, 2); i > 0; i--) {
          const m = mutateSpec(s, rng);
          s = m.spec;
          notes.push(m.note);
        }
        out = legacy ? torchLegacy(s) : torchZip(s);
      } else if (mode === 'pickle') {
        if (legacy) {
          const m = mutatePickle(bytes, rng, legacyMainPickle(bytes));
          out = m.bytes;
          notes.push(m.note);
        } else {
          let entries: [string, Uint8Array][];
          try {
            entries = readZip(bytes);
          } catch {
            entries = [];
          }
          const i = entries.findIndex(([n]) => n.endsWith('data.pkl'));
          if (i < 0) {
            const m = mutateBytes(bytes, rng, others);
            out = m.bytes;
            notes.push(m.note);
          } else {
            const m = mutatePickle(entries[i][1], rng);
            entries[i] = [entries[i][0], m.bytes];
            out = writeZip(entries, 0);
            notes.push(`data.pkl: ${m.note}`);
          }
        }
      } else if (mode === 'zip') {
        if (rng.chance(0.5)) {
          const m = mutateZipStructure(bytes, rng);
          out = m.bytes;
          notes.push(m.note);
        } else {
          const m = mutateEntries(readZip(bytes), rng);
          out = writeZip(m.entries, 0);
          notes.push(m.note);
        }
      } else {
        const m = mutateBytesN(bytes, rng, rng.range(1, 3), others);
        out = m.bytes;
        notes.push(m.note);
      }
      return { ...seed, files: new Map([['model.pth', out]]), mutations: notes };
    },
    run: runCheckpoint,
  };
}

export const torchZipFormat = torchFormat(false);
export const torchLegacyFormat = torchFormat(true);

// ---------------------------------------------------------------------------------------------------------------------
// safetensors

function splitSafetensors(b: Uint8Array): { header: { [k: string]: JsonValue }; data: Uint8Array } | null {
  if (b.length < 8) return null;
  const n = Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > b.length) return null;
  try {
    return {
      header: JSON.parse(dec.decode(b.subarray(8, 8 + n))) as { [k: string]: JsonValue },
      data: b.subarray(8 + n),
    };
  } catch {
    return null;
  }
}

function joinSafetensors(headerText: string, data: Uint8Array, declared?: number): Uint8Array {
  const h = enc.encode(headerText);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declared ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

export const safetensorsFormat: FormatSpec = {
  name: 'safetensors',
  description: 'safetensors files (with and without the model config in the metadata): loadCheckpoint',
  cleanErrors: WEIGHT_ERRORS,
  prepare: prepareModel,
  async seeds() {
    const m = await import('@iqa-bench/model/weights');
    const fixtures = fixtureSeeds(
      ['golden.safetensors', 'golden-nometa.safetensors', 'timm-swin-micro.safetensors'],
      'model.safetensors',
    );
    const made = (await tinyModels()).map((t): Seed => ({
      name: `${t.name}.safetensors`,
      files: new Map([['model.safetensors', m.serializeSafetensors(t.sd, m.configMetadata(t.config))]]),
      target: 'model.safetensors',
    }));
    return [...fixtures, ...made];
  },
  mutate(seed, rng, corpus): FuzzCase {
    const bytes = seed.files.get('model.safetensors') as Uint8Array;
    const parts = splitSafetensors(bytes);
    const notes: string[] = [];
    let out: Uint8Array;
    const mode = rng.weighted<string>([
      [parts ? 4 : 0, 'header'],
      [parts ? 2 : 0, 'config'],
      [1, 'length'],
      [1, 'data'],
      [2, 'bytes'],
    ]);
    if (parts && mode === 'header') {
      const m = mutateValue(parts.header, rng);
      notes.push(...m.notes);
      out = joinSafetensors(
        jsonText(m.value, rng),
        parts.data,
        rng.chance(0.1) ? rng.interestingInt() : undefined,
      );
    } else if (parts && mode === 'config') {
      const meta = (parts.header.__metadata__ ?? {}) as { [k: string]: JsonValue };
      const raw = meta.iqa_bench_config;
      let config: JsonValue = typeof raw === 'string' ? (JSON.parse(raw) as JsonValue) : {};
      const m = mutateValue(config, rng);
      config = m.value;
      notes.push(...m.notes.map((n) => `config ${n}`));
      const header = { ...parts.header, __metadata__: { ...meta, iqa_bench_config: jsonText(config, rng) } };
      out = joinSafetensors(JSON.stringify(header), parts.data);
    } else if (mode === 'length') {
      out = bytes.slice();
      const v = rng.pick([0, 1, 2, 7, bytes.length, bytes.length - 8, 2 ** 32, 100_000_001, 2 ** 53]);
      new DataView(out.buffer).setBigUint64(0, BigInt(v), true);
      notes.push(`header length -> ${v}`);
    } else if (parts && mode === 'data') {
      const cut = rng.chance(0.5);
      out = joinSafetensors(
        dec.decode(bytes.subarray(8, 8 + (bytes.length - parts.data.length - 8))),
        cut
          ? parts.data.subarray(0, rng.int(parts.data.length + 1))
          : new Uint8Array(parts.data.length + rng.range(1, 4096)),
      );
      notes.push(cut ? 'data cut' : 'data extended');
    } else {
      const m = mutateBytesN(
        bytes,
        rng,
        rng.range(1, 3),
        corpus.map((s) => s.files.get('model.safetensors') as Uint8Array),
      );
      out = m.bytes;
      notes.push(m.note);
    }
    return { ...seed, files: new Map([['model.safetensors', out]]), mutations: notes };
  },
  run: runCheckpoint,
};

// ---------------------------------------------------------------------------------------------------------------------
// TensorFlow.js folders

const SHARD = 'group1-shard1of1.bin';

export const tfjsFormat: FormatSpec = {
  name: 'tfjs',
  description: 'TensorFlow.js folders (model.json + shard): loadTfjsModel',
  cleanErrors: WEIGHT_ERRORS,
  prepare: prepareModel,
  async seeds() {
    return (await tinyModels()).map((t): Seed => ({
      name: `${t.name}.tfjs`,
      files: new Map([
        ['model.json', enc.encode(`${JSON.stringify(t.tfjs.modelJSON, null, 1)}\n`)],
        [SHARD, new Uint8Array(t.tfjs.weightData)],
      ]),
      target: '.',
    }));
  },
  mutate(seed, rng): FuzzCase {
    const files = new Map(seed.files);
    const json = JSON.parse(dec.decode(files.get('model.json'))) as { [k: string]: JsonValue };
    const shard = files.get(SHARD) as Uint8Array;
    const notes: string[] = [];
    const mode = rng.weighted<string>([
      [4, 'manifest'],
      [3, 'config'],
      [2, 'shard'],
      [1, 'files'],
      [1, 'bytes'],
    ]);
    if (mode === 'manifest' || mode === 'config') {
      const cfgHolder = ((json.userDefinedMetadata as { [k: string]: JsonValue } | undefined)?.iqaBench ??
        {}) as { [k: string]: JsonValue };
      if (mode === 'config' && cfgHolder.config !== undefined) {
        const m = mutateValue(cfgHolder.config, rng);
        cfgHolder.config = m.value;
        notes.push(...m.notes.map((n) => `config ${n}`));
      } else {
        const m = mutateValue(json.weightsManifest ?? null, rng);
        json.weightsManifest = m.value;
        notes.push(...m.notes.map((n) => `weightsManifest ${n}`));
      }
      files.set('model.json', enc.encode(jsonText(json, rng)));
    } else if (mode === 'shard') {
      const m = rng.chance(0.5)
        ? mutateBytes(shard, rng)
        : { bytes: shard.subarray(0, rng.int(shard.length)), note: 'shard cut' };
      files.set(SHARD, m.bytes);
      notes.push(`shard: ${m.note}`);
    } else if (mode === 'files') {
      const op = rng.int(3);
      if (op === 0) {
        files.delete(SHARD);
        notes.push('shard missing');
      } else if (op === 1) {
        const groups = json.weightsManifest as { paths: JsonValue[] }[];
        groups[0].paths = [
          rng.pick([
            '../model.json',
            'model.json',
            '.',
            '',
            'sub/x.bin',
            '/etc/passwd',
            'group1-shard1of1.bin',
            'missing.bin',
          ]),
        ];
        files.set('model.json', enc.encode(jsonText(json, rng)));
        notes.push(`shard path ${JSON.stringify(groups[0].paths[0])}`);
      } else {
        json.format = interestingValue(rng, json.format ?? null);
        files.set('model.json', enc.encode(jsonText(json, rng)));
        notes.push(`format ${JSON.stringify(json.format)?.slice(0, 30)}`);
      }
    } else {
      const m = mutateBytesN(files.get('model.json') as Uint8Array, rng, rng.range(1, 3));
      files.set('model.json', m.bytes);
      notes.push(`model.json: ${m.note}`);
    }
    return { ...seed, files, mutations: notes };
  },
  async run(caseDir) {
    const r = await model.loadTfjsModel(caseDir);
    try {
      return `tfjs ${r.config.arch}: ${r.report.loaded.length} weights`;
    } finally {
      r.model.dispose();
    }
  },
};
