/** Study files and their resolution: bad input named by file and field, with suggestions; sweeps; run ids. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../tools/testing/temp-dir.js';
import { TINY_BASE, writeTinyStudy } from './__tests__/fixture.js';
import { parseStudyFile, readStudyFile, StudyError } from './file.js';
import { writeExampleStudy } from './example.js';
import { runStudyLocal } from './local.js';
import { resolveStudy, unknownConfigPath } from './resolve.js';

let dir = '';

beforeAll(async () => {
  dir = tempDir('study-file-');
  await writeTinyStudy(dir);
}, 60_000);

const study = (over: Record<string, unknown>) => ({
  base: TINY_BASE,
  dataset: { kind: 'kadid10k', root: 'data' },
  split: { manifest: 'split-in.json' },
  seeds: [1],
  variants: { full: {} },
  ...over,
});

async function problems(over: Record<string, unknown>): Promise<readonly string[]> {
  try {
    await resolveStudy(parseStudyFile(study(over), 'study.yaml'), join(dir, 'out'), {
      baseDir: dir,
      label: 'study.yaml',
    });
  } catch (err) {
    if (err instanceof StudyError) return err.problems;
    throw err;
  }
  throw new Error('resolved without an error');
}

describe('study files', () => {
  it('names unknown fields with the closest known one', () => {
    expect(() => parseStudyFile(study({ seed: [1], variant: {} }), 'study.yaml')).toThrow(StudyError);
    try {
      parseStudyFile({ ...study({}), varients: {}, split: { train: 0.7, vall: 0.1 } }, 'study.yaml');
    } catch (err) {
      expect((err as StudyError).problems).toEqual([
        "study.yaml: split: unknown field(s) 'vall' (did you mean 'val'?)",
        "study.yaml: (root): unknown field(s) 'varients' (did you mean 'variants'?)",
      ]);
    }
  });

  it('reads YAML with line and column in syntax errors', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'name: x\nseeds: [1, 2\n');
    expect(() => readStudyFile(file, 'broken.yaml')).toThrow(/^broken\.yaml:3:1: not valid YAML/);
  });

  it('refuses an override of a field the training config does not have, naming the path and suggesting', async () => {
    expect(await problems({ variants: { full: {}, a: { 'model.fuson': 'concat' } } })).toEqual([
      "study.yaml: variants.a.model.fuson: the training config has no field 'model.fuson' (did you mean 'model.fusion'?); 'model' has: preset, dropPathRate, dropoutRate, fusion, backbone, head, initWeights",
    ]);
    expect(await problems({ variants: { full: {}, b: { 'optim.lr': 1e-3 } } })).toEqual([
      expect.stringMatching(
        /^study\.yaml: variants\.b\.optim\.lr: the training config has no field 'optim\.lr' \(did you mean 'optimizer'\?\); its sections: seed, backend, dataset, model, optimizer,/,
      ),
    ]);
    expect(unknownConfigPath('schedule.etaMin')).toBeUndefined(); // a field of one variant of the schedule
    expect(unknownConfigPath('optimizer.lr.x')).toBe("'optimizer.lr' is a value, it has no field 'x'");
  });

  it('refuses variants overriding what the study owns, values the config refuses, and an unknown baseline', async () => {
    expect(
      await problems({
        variants: { full: {}, a: { seed: 3 }, b: { 'dataset.root': 'x' }, c: { 'optimizer.lr': -1 } },
        baseline: 'ful',
      }),
    ).toEqual([
      "study.yaml: variants.a.seed: 'seed' is set by the study (seeds), not by a variant",
      "study.yaml: variants.b.dataset.root: 'dataset.root' is set by the study (dataset and split), not by a variant",
    ]);
    expect(await problems({ variants: { full: {}, c: { 'optimizer.lr': -1 } }, baseline: 'ful' })).toEqual([
      "study.yaml: baseline: no variant 'ful' (did you mean 'full'?); the variants are full, c",
      "study.yaml: variant 'c': optimizer.lr: Too small: expected number to be >0",
    ]);
  });

  it("refuses a variant whose model the model's own checks refuse, at plan time", async () => {
    expect(await problems({ variants: { full: {}, small: { 'patches.size': 64 } } })).toEqual([
      "study.yaml: variant 'small': Swin config: stage 0: map 16x16 is not a multiple of window 7",
    ]);
  });

  it('the built-in ablation example resolves to its A/B/E shape: 6 variants x 3 seeds, a sweep, a chain', async () => {
    const exampleDir = join(dir, 'example');
    const s = await resolveStudy(await writeExampleStudy(exampleDir), exampleDir);
    expect(s.variants.map((v) => v.name)).toEqual([
      'full',
      'A1-concat',
      'A2-single',
      'B1-wide',
      'E-lr=0.001',
      'E-lr=0.01',
    ]);
    expect(s.runs).toHaveLength(18);
    expect(s.sweeps).toEqual([
      {
        field: 'optimizer.lr',
        variants: [
          { name: 'E-lr=0.001', value: 1e-3 },
          { name: 'E-lr=0.01', value: 1e-2 },
        ],
      },
    ]);
    expect(s.chain).toEqual(['A2-single', 'A1-concat', 'full']);
    expect(s.split.manifest.counts).toEqual({ train: 100, val: 25, test: 25 });
    expect(Object.keys(s.hashes.eval)).toEqual(['koniq-synth']);
  }, 60_000);

  it('refuses two variants that resolve to the same config, naming both', async () => {
    expect(
      await problems({
        variants: {
          full: {},
          attention: { 'model.fusion': 'attention' },
          concat: { 'model.fusion': 'concat' },
        },
      }),
    ).toEqual([
      "study.yaml: variants 'full' and 'attention' resolve to the same training config; remove one or make them differ",
    ]);
  });

  it('expands a list value into one variant per value, with content-addressed run ids', async () => {
    const s = await resolveStudy(
      parseStudyFile(
        study({
          seeds: [1, 2],
          variants: { full: {}, E: { 'optimizer.lr': [1e-7, 5e-7, 2e-3] } },
          chain: ['full', 'E-lr=1e-7'],
        }),
      ),
      join(dir, 'out'),
      { baseDir: dir, label: 'study.yaml' },
    );
    expect(s.variants.map((v) => v.name)).toEqual(['full', 'E-lr=1e-7', 'E-lr=5e-7', 'E-lr=0.002']);
    expect(s.sweeps).toEqual([
      {
        field: 'optimizer.lr',
        variants: [
          { name: 'E-lr=1e-7', value: 1e-7 },
          { name: 'E-lr=5e-7', value: 5e-7 },
          { name: 'E-lr=0.002', value: 2e-3 },
        ],
      },
    ]);
    expect(s.baseline).toBe('full');
    expect(s.runs).toHaveLength(8);
    expect(s.runs.every((r) => /^r-[0-9a-f]{20}$/.test(r.runId))).toBe(true);
    // lr 1e-3 is the base's value: the same config as `full`, refused as a duplicate.
    await expect(
      resolveStudy(
        parseStudyFile(study({ variants: { full: {}, E: { 'optimizer.lr': [1e-3, 2e-3] } } })),
        join(dir, 'out'),
        {
          baseDir: dir,
        },
      ),
    ).rejects.toThrow("variants 'full' and 'E-lr=0.001' resolve to the same training config");
    // The same study resolved again, from another folder name: the same ids (paths are not part of the address).
    const again = await resolveStudy(
      parseStudyFile(
        study({ seeds: [1, 2], variants: { full: {}, E: { 'optimizer.lr': [1e-7, 5e-7, 2e-3] } } }),
      ),
      join(dir, 'elsewhere'),
      { baseDir: dir, label: 'study.yaml' },
    );
    expect(again.runs.map((r) => r.runId)).toEqual(s.runs.map((r) => r.runId));
  }, 60_000);

  it('refuses a study folder that is not writable before training anything', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a folder\n');
    const s = await resolveStudy(parseStudyFile(study({})), join(blocker, 'out'), {
      baseDir: dir,
      label: 'study.yaml',
    });
    await expect(runStudyLocal(s)).rejects.toThrow(
      new RegExp(`^study folder ${blocker}/out is not writable: .*ENOTDIR`),
    );
  }, 30_000);
});
