/**
 * Writes the reproducers of the findings described in words (rather than kept from a fuzzing run) into
 * fuzz/fixtures/regressions/<format>/<name>/ (case.json + input/). Deterministic: rerunning rewrites the same bytes.
 *   npx tsx fuzz/tools/make-regressions.ts
 * Findings kept from a run of bench/fuzz.mjs are copied from its findings folder instead (see fuzz/README.md).
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createModel, type ModelConfig } from '@iqa-bench/model';
import { encodeTfjsModel, exportStateDict, serializeSafetensors } from '@iqa-bench/model/weights';
import { stringify } from 'yaml';
import { BMP_VARIANTS } from '../src/formats/images.js';
import { bmp } from '../src/mutate/images.js';
import { matFile, MI } from '../src/mutate/mat.js';
import { torchLegacy, torchZip, type TorchSpec } from '../src/mutate/pickle.js';
import { REGRESSIONS_DIR, repoPath } from '../src/paths.js';
import type { JsonValue } from '../src/types.js';

interface Meta {
  format: string;
  target: string;
  options?: { [k: string]: JsonValue };
  expect: 'clean' | 'parsed';
  /** Known finding: the branch that fixes it (the test expects a failure until that branch is merged). */
  fixedOn?: string;
  /** New finding, not fixed on any branch yet (the test expects a failure). */
  open?: string;
  /** For `parsed`: the reader's exact summary. */
  summary?: string;
  description: string;
}

/** `open` of the findings this branch reported that no branch fixes yet. */
const NEW = 'new finding (reported by the fuzz branch)';

function write(
  name: string,
  meta: Meta,
  files: Record<string, Uint8Array | string>,
  template?: string,
): void {
  const dir = join(REGRESSIONS_DIR, meta.format, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'input'), { recursive: true });
  if (template) cpSync(repoPath(template), join(dir, 'input'), { recursive: true });
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(dir, 'input', rel, '..'), { recursive: true });
    writeFileSync(join(dir, 'input', rel), data);
  }
  writeFileSync(join(dir, 'case.json'), `${JSON.stringify(meta, null, 2)}\n`);
}

const pattern = (x: number, y: number): [number, number, number] => [
  (x * 37) % 256,
  (y * 53) % 256,
  ((x + y) * 19) % 256,
];

/** The image summary decodeImage gives for the pattern (what images.ts's driver prints). */
function patternSummary(w: number, h: number): string {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(pattern(x, y), (y * w + x) * 3);
  return `${w}x${h} rgb:${createHash('sha256').update(data).digest('hex').slice(0, 16)}`;
}

// --- torch: tensor views far larger than their one-element storage -----------------------------------------------
const bombs: [string, number[], number[], string][] = [
  [
    'view-1e9-stride-0',
    [1e9],
    [0],
    'a 1-float storage viewed as size (1e9,) stride (0,): materialised as 4 GB',
  ],
  [
    'view-2p26-squared',
    [2 ** 26, 2 ** 26],
    [0, 0],
    'a 1-float storage viewed as size (2^26, 2^26) stride (0, 0)',
  ],
  ['view-2p31-elements', [2 ** 31], [0], 'a 1-float storage viewed as 2^31 elements'],
];
for (const [name, shape, stride, what] of bombs) {
  const spec: TorchSpec = {
    storages: [{ key: '0', dtype: 'float32', numel: 1, data: new Uint8Array(4), location: 'cpu' }],
    tensors: [{ name: 'fc.weight', storage: '0', offset: 0, shape, stride }],
  };
  for (const legacy of [false, true]) {
    write(
      name,
      {
        format: legacy ? 'torch-legacy' : 'torch-zip',
        target: 'model.pth',
        expect: 'clean',
        fixedOn: 'model14',
        description: `${what} (${legacy ? 'legacy' : 'zip'} torch.save)`,
      },
      { 'model.pth': legacy ? torchLegacy(spec) : torchZip(spec) },
    );
  }
}

// --- TensorFlow.js folders ------------------------------------------------------------------------------------------
const ckpt = 'packages/model/fixtures/checkpoints';
const resnet = JSON.parse(
  readFileSync(repoPath(ckpt, 'hypernet-resnet.legacy.pkl.config.json'), 'utf8'),
) as ModelConfig;
const swin = JSON.parse(
  readFileSync(repoPath(ckpt, 'hypernet-swin-single.pkl.config.json'), 'utf8'),
) as ModelConfig;

async function tfjsFolder(
  config: ModelConfig,
): Promise<{ json: { [k: string]: JsonValue }; shard: Uint8Array }> {
  const m = createModel(config, { seed: 1, randomInit: true });
  try {
    const { modelJSON, weightData } = await encodeTfjsModel(m.params, config);
    return {
      json: JSON.parse(JSON.stringify(modelJSON)) as { [k: string]: JsonValue },
      shard: new Uint8Array(weightData),
    };
  } finally {
    m.dispose();
  }
}

type Json = { [k: string]: JsonValue };
const tfjsCases: [
  string,
  ModelConfig,
  (j: Json, files: Record<string, Uint8Array | string>) => void,
  string,
  'known' | 'new' | 'guard',
][] = [
  ['manifest-number', resnet, (j) => (j.weightsManifest = [1]), 'weightsManifest: [1]', 'known'],
  ['manifest-null-group', resnet, (j) => (j.weightsManifest = [null]), 'weightsManifest: [null]', 'known'],
  [
    'weights-null-entry',
    resnet,
    (j) => ((j.weightsManifest as Json[])[0].weights as JsonValue[]).splice(0, 1, null),
    'a null entry in weights',
    'known',
  ],
  [
    'weights-null',
    resnet,
    (j) => ((j.weightsManifest as Json[])[0].weights = null),
    'weights: null',
    'known',
  ],
  [
    'missing-shard',
    resnet,
    (_j, f) => delete f['group1-shard1of1.bin'],
    'the shard file is missing (a bare ENOENT escapes)',
    'known',
  ],
  [
    'window-size-4096',
    swin,
    (j) =>
      ((
        (j.userDefinedMetadata as Json).iqaBench as { config: { backbone: Json } }
      ).config.backbone.windowSize = 4096),
    'config windowSize 4096: the model is built before the weights are checked',
    'known',
  ],
  [
    'embed-dim-4096',
    swin,
    (j) =>
      (((j.userDefinedMetadata as Json).iqaBench as { config: { backbone: Json } }).config.backbone.embedDim =
        4096),
    'config embedDim 4096 on the tiny Swin: built lazily (zero pages) and refused because the weights do not match; guards the fix',
    'guard',
  ],
  [
    'embed-dim-8192',
    swin,
    (j) =>
      (((j.userDefinedMetadata as Json).iqaBench as { config: { backbone: Json } }).config.backbone.embedDim =
        8192),
    'config embedDim 8192: the model is built before the weights are checked (RangeError: Invalid typed array length)',
    'known',
  ],
  [
    'depths-100000',
    swin,
    (j) =>
      (((j.userDefinedMetadata as Json).iqaBench as { config: { backbone: Json } }).config.backbone.depths = [
        100000, 2, 2, 2,
      ]),
    'config depths [100000, 2, 2, 2]',
    'known',
  ],
  [
    'resnet-layers-100000',
    resnet,
    (j) =>
      ((
        ((j.userDefinedMetadata as Json).iqaBench as { config: { backbone: Json } }).config.backbone
          .layers as number[]
      )[3] = 100000),
    'config backbone.layers[3] = 100000 (the fuzzer found 4095, which takes about 5 s): a ResNet with that many blocks is built before the weights are checked',
    'known',
  ],
  [
    'paths-number',
    resnet,
    (j) => ((j.weightsManifest as Json[])[0].paths = 1.5),
    'paths: 1.5 (TypeError: g.paths is not iterable)',
    'new',
  ],
  [
    'dtype-nested-20000',
    resnet,
    (j) => ((((j.weightsManifest as Json[])[0].weights as Json[])[3].dtype as unknown) = '\u0000DEEP'),
    'a weight dtype nested 20,000 arrays deep (stack overflow while describing it)',
    'new',
  ],
];
for (const [name, config, edit, what, kind] of tfjsCases) {
  const { json, shard } = await tfjsFolder(config);
  const files: Record<string, Uint8Array | string> = { 'group1-shard1of1.bin': shard };
  edit(json, files);
  const n = 20_000;
  files['model.json'] =
    JSON.stringify(json, null, 1).replace('"\\u0000DEEP"', '['.repeat(n) + '"float32"' + ']'.repeat(n)) +
    '\n';
  const pending = kind === 'known' ? { fixedOn: 'model14' } : kind === 'new' ? { open: NEW } : {};
  write(name, { format: 'tfjs', target: '.', expect: 'clean', ...pending, description: what }, files);
}

// --- safetensors: the model config in the metadata --------------------------------------------------------------------
{
  const m = createModel(resnet, { seed: 1, randomInit: true });
  const sd = exportStateDict(m.params);
  m.dispose();
  const cases: [string, string, string][] = [
    [
      'config-nested-100000',
      '['.repeat(100_000) + ']'.repeat(100_000),
      'metadata iqa_bench_config nested 100,000 arrays deep: describing it in the error overflows the stack (RangeError)',
    ],
    [
      'config-target-fc-32768',
      JSON.stringify({ ...resnet, head: { ...resnet.head, targetFc: [32768, 7, 7, 7] } }),
      "metadata config head.targetFc[0] = 32768: passes the field checks, then createModel's cross-field check throws a plain Error that does not name the file",
    ],
    [
      'config-target-fc-7e9',
      JSON.stringify({ ...resnet, head: { ...resnet.head, targetFc: [7_000_000_000, 7, 7, 7] } }),
      'metadata config head.targetFc[0] = 7e9: the model is built from the unchecked config before the weights are compared (RangeError: Invalid typed array length); the TF.js config bombs, through safetensors',
    ],
  ];
  for (const [name, config, what] of cases) {
    write(
      name,
      { format: 'safetensors', target: 'model.safetensors', expect: 'clean', open: NEW, description: what },
      { 'model.safetensors': serializeSafetensors(sd, { format: 'pt', iqa_bench_config: config }) },
    );
  }
}

// --- MAT: a char array whose data is int32 0x7fffffff (not a code point) ---------------------------------------------
{
  const names = [
    't1.bmp',
    't2.bmp',
    't3.bmp',
    't4.bmp',
    't5.bmp',
    't6.bmp',
    't7.bmp',
    '1000.JPG',
    '1001.JPG',
  ];
  const cells = names.map((n) => ({ char: n }) as const);
  const images = matFile([
    [
      'AllImages_release',
      {
        cell: [...cells, { char: '', codes: [0x7fffffff], dataType: MI.INT32 }],
        dims: [names.length + 1, 1],
      },
    ],
  ]);
  const mos = matFile([['AllMOS_release', { numeric: names.map((_, i) => 10 + i).concat([50]) }]]);
  write(
    'char-int32-7fffffff',
    {
      format: 'mat',
      target: '.',
      options: { key: 'livec' },
      expect: 'clean',
      fixedOn: 'data14',
      description: 'a char array element stored as int32 0x7fffffff (RangeError: Invalid code point)',
    },
    { 'Data/AllImages_release.mat': images, 'Data/AllMOS_release.mat': mos },
    'packages/data/fixtures/datasets/livec',
  );
}

// --- XLSX -------------------------------------------------------------------------------------------------------------
{
  const xl = 'Annotations/MOS and Image attribute scores.xlsx';
  const orig = readFileSync(repoPath('packages/data/fixtures/datasets/spaq', xl));
  // 19 bytes deleted inside the compressed worksheet: exceljs's stream never settles.
  const cut = Buffer.concat([orig.subarray(0, 2135), orig.subarray(2135 + 19)]);
  write(
    'spaq-19-bytes-deleted',
    {
      format: 'xlsx',
      target: '.',
      options: { key: 'spaq' },
      expect: 'clean',
      fixedOn: 'data14',
      description:
        "19 bytes deleted at offset 2135 of the SPAQ fixture workbook: loadDataset('spaq') never settles",
    },
    { [xl]: cut },
    'packages/data/fixtures/datasets/spaq',
  );
  write(
    'worksheet-before-rels-tempfile',
    {
      format: 'xlsx',
      target: '.',
      options: { key: 'spaq' },
      expect: 'parsed',
      summary: 'spaq official: 4 images, 0 skipped',
      open: NEW,
      description:
        "the SPAQ fixture workbook as openpyxl and Excel order it (worksheet before xl/_rels/workbook.xml.rels): exceljs's stream reader copies the worksheet to a temporary file in TMPDIR on every load, kept until the process exits (three loads, three files)",
    },
    {},
    'packages/data/fixtures/datasets/spaq',
  );
}

// --- BMP ---------------------------------------------------------------------------------------------------------------
for (const [name, s] of BMP_VARIANTS.filter(([n]) => n.startsWith('bitfields'))) {
  const exact = s.bpp === 32;
  write(
    name,
    {
      format: 'bmp',
      target: 'image.bmp',
      expect: 'parsed',
      ...(exact ? { summary: patternSummary(s.width, s.height) } : {}),
      fixedOn: 'data14',
      description: `a valid BI_BITFIELDS BMP (${s.bpp}-bit, ${s.headerSize ?? 40}-byte header), refused because the masks lie beyond the 64 header bytes read`,
    },
    { 'image.bmp': bmp({ ...s, pixel: pattern }) },
  );
}
write(
  'bitfields-mask-ffffffff',
  {
    format: 'bmp',
    target: 'image.bmp',
    expect: 'clean',
    description:
      'a 32-bit BI_BITFIELDS BMP whose masks are 0xFFFFFFFF: the bit-scanning loop never ends once the masks are read',
  },
  {
    'image.bmp': bmp({
      width: 4,
      height: 2,
      bpp: 32,
      compression: 3,
      masks: [0xffffffff, 0xffffffff, 0xffffffff],
      pixel: pattern,
    }),
  },
);

// --- YAML / JSON nesting ---------------------------------------------------------------------------------------------
write(
  'nested-1000-brackets',
  {
    format: 'config-yaml',
    target: 'config.yaml',
    expect: 'clean',
    fixedOn: 'trainhouse',
    description: "1,000 nested '[': the YAML parser overflows the stack and the message says so",
  },
  {
    'config.yaml': `${stringify({ dataset: { kind: 'koniq10k', root: 'data' }, model: { preset: 'smart-iqa-micro' } })}deep: ${'['.repeat(1000)}1${']'.repeat(1000)}\n`,
  },
);
{
  const deep = `${'['.repeat(5000)}1${']'.repeat(5000)}`;
  write(
    'entry-nested-5000',
    {
      format: 'dataset-json',
      target: '.',
      options: { key: 'spaq' },
      expect: 'clean',
      open: NEW,
      description:
        'an entry of spaq_test.json nested 5,000 arrays deep: describing it overflows the stack (RangeError)',
    },
    { 'spaq_test.json': `[${deep}, {"image": "00007.jpg", "score": 1}]\n` },
    'packages/data/fixtures/datasets/spaq-test',
  );
  write(
    'dataset-nested-5000',
    {
      format: 'split-manifest',
      target: 'split.json',
      expect: 'clean',
      open: NEW,
      description:
        "a manifest whose 'dataset' is nested 5,000 arrays deep: describing it overflows the stack (RangeError)",
    },
    { 'split.json': `{"format": "iqa-bench.split-manifest", "version": 1, "dataset": ${deep}}\n` },
  );
}
console.log(`regressions written under ${REGRESSIONS_DIR}`);
