/**
 * exportCached: one export per (checkpoint bytes, exporter version), found again at once, written atomically; and
 * defaultOnnxCacheDir's environment variables.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, saveSafetensors, saveTfjsModel } from '@iqa-bench/model';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  cacheEntryName,
  defaultOnnxCacheDir,
  EXPORTER_VERSION,
  exportCached,
  openOnnxScorer,
  PRODUCER_NAME,
} from './index.js';
import { normalizedImage, PARITY_MICRO, useWasm } from './__tests__/helpers.js';

const sha256 = (...files: string[]): string => {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(f));
  return h.digest('hex');
};

let dir: string;
let cacheDir: string;
let first: string;
let second: string;
let tfjsDir: string;

beforeAll(async () => {
  await useWasm();
  dir = mkdtempSync(join(tmpdir(), 'iqa-onnx-cache-'));
  cacheDir = join(dir, 'cache');
  // Two checkpoints of the same architecture with different weights, and a TF.js model folder
  const a = createModel('smart-iqa-micro', { seed: 1 });
  const b = createModel('smart-iqa-micro', { seed: 2 });
  first = join(dir, 'first.safetensors');
  second = join(dir, 'second.safetensors');
  await saveSafetensors(first, a.params, a.config);
  await saveSafetensors(second, b.params, b.config);
  tfjsDir = join(dir, 'tfjs');
  await saveTfjsModel(tfjsDir, b.params, b.config);
  a.dispose();
  b.dispose();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every name in the cache folder: exported models only, no temporary files. */
const entries = (): string[] => readdirSync(cacheDir).sort();

describe('exportCached', () => {
  it('exports once, then finds the file at once', async () => {
    const r1 = await exportCached(first, { cacheDir });
    expect(r1).toEqual({
      file: join(cacheDir, cacheEntryName(sha256(first))),
      sha256: sha256(first),
      cached: false,
    });
    expect(r1.file).toBe(join(cacheDir, `${sha256(first)}.iqa-bench-onnx-2.onnx`));
    const mtime = statSync(r1.file).mtimeMs;
    const t0 = performance.now();
    const r2 = await exportCached(first, { cacheDir });
    const ms = performance.now() - t0;
    expect(r2).toEqual({ ...r1, cached: true });
    expect(statSync(r1.file).mtimeMs).toBe(mtime);
    expect(ms).toBeLessThan(1000);
    expect(entries()).toEqual([cacheEntryName(sha256(first))]);

    const s = await openOnnxScorer(r1.file);
    expect(s.checkpointSha256).toBe(sha256(first));
    expect(s.config).toEqual(createModel('smart-iqa-micro', { seed: 1 }).config);
    const score = await s.scoreImage(normalizedImage(224, 224, 3));
    expect(Number.isFinite(score.score)).toBe(true);
    await s.close();
  });

  it('different checkpoint bytes are a different entry; the same bytes elsewhere are the same entry', async () => {
    const r = await exportCached(second, { cacheDir });
    expect(r.cached).toBe(false);
    expect(r.sha256).toBe(sha256(second));
    expect(r.sha256).not.toBe(sha256(first));
    const copy = join(dir, 'copy-of-first.safetensors');
    copyFileSync(first, copy);
    expect((await exportCached(copy, { cacheDir })).cached).toBe(true);
    expect(entries()).toEqual([cacheEntryName(sha256(first)), cacheEntryName(sha256(second))].sort());
  });

  it('a TF.js model folder is keyed by model.json and its shards', async () => {
    const shards = readdirSync(tfjsDir)
      .filter((f) => f.endsWith('.bin'))
      .sort((x, y) => Number(/shard(\d+)/.exec(x)![1]) - Number(/shard(\d+)/.exec(y)![1]))
      .map((f) => join(tfjsDir, f));
    const want = sha256(join(tfjsDir, 'model.json'), ...shards);
    const r = await exportCached(tfjsDir, { cacheDir });
    expect(r).toEqual({ file: join(cacheDir, cacheEntryName(want)), sha256: want, cached: false });
    expect((await exportCached(join(tfjsDir, 'model.json'), { cacheDir })).cached).toBe(true);
  });

  it('a checkpoint that cannot be read is an error naming it, and nothing is written', async () => {
    const before = entries();
    const truncated = join(dir, 'truncated.safetensors');
    writeFileSync(truncated, readFileSync(first).subarray(0, 5000));
    await expect(exportCached(truncated, { cacheDir })).rejects.toThrow(truncated);
    await expect(exportCached(join(dir, 'missing.pkl'), { cacheDir })).rejects.toThrow(
      join(dir, 'missing.pkl'),
    );
    await expect(exportCached(join(dir, 'model.onnx'), { cacheDir })).rejects.toThrow(
      'already an ONNX model; open it with openOnnxScorer',
    );
    // a reference .pkl whose inferred architecture is over a tight limit
    await expect(
      exportCached(`${PARITY_MICRO}micro-attention.pkl`, { cacheDir, limits: { maxParams: 1000 } }),
    ).rejects.toThrow('micro-attention.pkl');
    expect(entries()).toEqual(before);
  });

  it('a cache folder that cannot be made is an error naming the entry', async () => {
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, 'a file where the cache folder should be');
    await expect(exportCached(first, { cacheDir: join(blocked, 'cache') })).rejects.toThrow(
      join(blocked, 'cache', cacheEntryName(sha256(first))),
    );
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('EXPORTER_VERSION is part of the entry name, and the exported file says who wrote it', () => {
    expect(cacheEntryName('0'.repeat(64))).toBe(
      `${'0'.repeat(64)}.${EXPORTER_VERSION.replace('/', '-')}.onnx`,
    );
    const bytes = readFileSync(join(cacheDir, cacheEntryName(sha256(first))));
    expect(Buffer.from(bytes).includes(Buffer.from(PRODUCER_NAME))).toBe(true);
  });
});

describe('defaultOnnxCacheDir', () => {
  const saved = { own: process.env.IQA_BENCH_CACHE, xdg: process.env.XDG_CACHE_HOME };
  const restore = (name: string, v: string | undefined): void => {
    if (v === undefined) delete process.env[name];
    else process.env[name] = v;
  };
  afterEach(() => {
    restore('IQA_BENCH_CACHE', saved.own);
    restore('XDG_CACHE_HOME', saved.xdg);
  });

  it('IQA_BENCH_CACHE, then XDG_CACHE_HOME, then ~/.cache', () => {
    process.env.IQA_BENCH_CACHE = '/data/iqa';
    process.env.XDG_CACHE_HOME = '/xdg';
    expect(defaultOnnxCacheDir()).toBe('/data/iqa/onnx');
    delete process.env.IQA_BENCH_CACHE;
    expect(defaultOnnxCacheDir()).toBe('/xdg/iqa-bench/onnx');
    process.env.XDG_CACHE_HOME = 'relative/ignored';
    expect(defaultOnnxCacheDir()).toBe(join(homedir(), '.cache', 'iqa-bench', 'onnx'));
    delete process.env.XDG_CACHE_HOME;
    expect(defaultOnnxCacheDir()).toBe(join(homedir(), '.cache', 'iqa-bench', 'onnx'));
  });
});
