/** Training configs (@iqa-bench/train's loadTrainConfig), as JSON and as YAML. */
import { join } from 'node:path';
import type * as Train from '@iqa-bench/train';
import { parse as parseYaml, stringify } from 'yaml';
import { mutateBytes } from '../mutate/bytes.js';
import { damageJsonText, expandDeep, jsonText, mutateValue } from '../mutate/json.js';
import type { Rng } from '../rng.js';
import type { FormatSpec, FuzzCase, JsonValue, Seed } from '../types.js';

let train: typeof Train;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Valid configs: minimal, fully resolved, the original's flags, every schedule kind. */
async function configValues(): Promise<JsonValue[]> {
  const t = await import('@iqa-bench/train');
  const minimal = {
    dataset: { kind: 'koniq10k', root: 'data/koniq10k' },
    model: { preset: 'smart-iqa-micro' },
  };
  const resolved = t.parseTrainConfig(minimal);
  const original = t.fromOriginalFlags({ dataset: 'koniq-10k' }, { root: 'data/koniq', script: 'smart' });
  const csv = {
    seed: 7,
    backend: 'cpu',
    dataset: {
      kind: 'csv',
      root: 'data/mine',
      load: { file: 'scores.csv', imageColumn: 'image', label: 'mos', direction: 'lower-better' },
      split: { train: 0.6, val: 0.2 },
      labels: 'native',
    },
    model: {
      preset: 'hyperiqa-resnet50',
      fusion: 'single',
      backbone: { layers: [1, 1, 1, 1], baseWidth: 4 },
    },
    schedule: { kind: 'step', stepSize: 2, gamma: 0.5, groups: 'head' },
    loss: { kind: 'fidelity', fidelitySigma: 0.2 },
    memory: { microBatchSize: 2, workers: 2 },
    training: { epochs: 3, batchSize: 4, rounds: 2 },
  };
  const constant = {
    ...minimal,
    schedule: { kind: 'constant', warmupSteps: 10 },
    earlyStopping: { enabled: false },
  };
  return [minimal, resolved, original, csv, constant].map((v) => JSON.parse(JSON.stringify(v)) as JsonValue);
}

/** YAML-only constructs: anchors and alias bombs, tags, merge keys, deep flow nesting, several documents. */
function yamlExtra(text: string, rng: Rng): { text: string; note: string } {
  switch (rng.int(9)) {
    case 0: {
      const levels = rng.range(3, 9);
      let bomb = 'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
      for (let i = 1; i <= levels; i++)
        bomb += `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]\n`;
      return { text: bomb + text, note: `alias bomb of ${levels} levels` };
    }
    case 1: {
      const tag = rng.pick([
        '!!js/function "function(){}"',
        '!!python/object/apply:os.system ["touch $FUZZ_SENTINEL/yaml"]',
        '!!binary aGVsbG8=',
        '!!set {a, b}',
        '!!omap [a: 1, b: 2]',
        '!!timestamp 2001-12-14t21:59:43.10-05:00',
        '!custom {x: 1}',
        '!!float .nan',
        '!!int 0x7fffffffffffffffff',
      ]);
      return { text: text.replace(/: ([^\n]+)/, `: ${tag}`), note: `tag ${tag.slice(0, 30)}` };
    }
    case 2:
      return {
        text: `base: &base {epochs: 1}\n${text.replace(/training:\s*\n/, 'training:\n  <<: *base\n')}`,
        note: 'merge key',
      };
    case 3: {
      const n = rng.pick([65, 1000, 10_000]);
      return { text: `deep: ${'['.repeat(n)}1${']'.repeat(n)}\n${text}`, note: `${n} nested [` };
    }
    case 4: {
      const n = rng.pick([65, 1000, 5000]);
      return { text: `deep: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n${text}`, note: `${n} nested {` };
    }
    case 5: {
      const n = rng.pick([65, 500, 3000]);
      let block = 'deep:\n';
      for (let i = 1; i <= n; i++) block += `${' '.repeat(i)}- \n`;
      return { text: block + text, note: `${n} indented block sequences` };
    }
    case 6:
      return { text: `${text}\n---\n${text}`, note: 'two documents' };
    case 7:
      return { text: text.replace(/\n/g, rng.pick(['\r\n', '\r', '\n\t'])), note: 'line endings / tabs' };
    default:
      return { text: `${text}\nseed: 1\nseed: 2\n`, note: 'duplicate key' };
  }
}

function configFormat(kind: 'json' | 'yaml'): FormatSpec {
  return {
    name: `config-${kind}`,
    description: `training config as ${kind.toUpperCase()}: @iqa-bench/train loadTrainConfig`,
    cleanErrors: ['ConfigError', 'TextFileError', 'FileError'],
    async prepare() {
      train = await import('@iqa-bench/train');
    },
    async seeds(): Promise<Seed[]> {
      const values = await configValues();
      return values.map((v, i) => {
        const file = kind === 'json' ? 'config.json' : i % 2 === 0 ? 'config.yaml' : 'config.yml';
        const text = kind === 'json' ? JSON.stringify(v, null, 2) : stringify(v);
        return { name: `config-${i}`, files: new Map([[file, enc.encode(text)]]), target: file };
      });
    },
    mutate(seed: Seed, rng: Rng, corpus: readonly Seed[]): FuzzCase {
      const [file, bytes] = [...seed.files][0];
      const notes: string[] = [];
      let out: Uint8Array;
      const mode = rng.weighted<string>([
        [6, 'value'],
        [kind === 'yaml' ? 3 : 0, 'yaml'],
        [2, 'text'],
        [2, 'bytes'],
      ]);
      if (mode === 'bytes') {
        const m = mutateBytes(
          bytes,
          rng,
          [...corpus].map((s) => [...s.files.values()][0]),
        );
        out = m.bytes;
        notes.push(m.note);
      } else {
        const text0 = dec.decode(bytes);
        const value = (kind === 'json' ? JSON.parse(text0) : parseYaml(text0)) as JsonValue;
        const m = mutateValue(value, rng);
        notes.push(...m.notes);
        let text =
          kind === 'json'
            ? jsonText(m.value, rng)
            : expandDeep(stringify(m.value, { aliasDuplicateObjects: false }), '[', ']');
        if (mode === 'yaml') {
          const y = yamlExtra(text, rng);
          text = y.text;
          notes.push(y.note);
        } else if (mode === 'text') {
          const d = damageJsonText(text, rng);
          text = d.text;
          notes.push(d.note);
        }
        out = enc.encode(text);
      }
      return { ...seed, files: new Map([[file, out]]), mutations: notes };
    },
    async run(caseDir, call) {
      const cfg = train.loadTrainConfig(join(caseDir, call.target));
      return `${cfg.dataset.kind} ${cfg.model.preset} seed ${cfg.seed}`;
    },
  };
}

export const configJson = configFormat('json');
export const configYaml = configFormat('yaml');
