/**
 * The fuzzing suite inside `npm test`: a short fixed-seed run of every format (no input may end in a raw error, a
 * hang, a crash or a side effect), every committed reproducer replayed (each must now be a clean refusal, or parse
 * when the file is valid), and checks that the harness itself sees what it claims to see.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTable, listRegressions, runCampaign, type CampaignReport } from './campaign.js';
import { FORMAT_NAMES } from './formats/index.js';
import { manifestHash } from './formats/records.js';
import { SELFTEST_BEHAVIOURS } from './formats/selftest.js';
import { repoPath } from './paths.js';
import { FuzzPool, type CaseResult } from './pool.js';
import { BAD_OUTCOMES, type JsonValue } from './types.js';

/** Inputs per format in the short run (about 20 s on two busy cores). */
const SHORT_RUN = 30;
const SEED = 'ci';

/**
 * Formats whose short run still meets a finding that another branch fixes (the test is expected to fail until
 * that branch is merged) or that no branch fixes yet.
 */
const SHORT_RUN_FAILS: Record<string, string> = {};

function describeBad(rs: readonly CaseResult[]): string {
  return rs
    .map(
      (r) =>
        `${r.outcome} ${r.job.type === 'case' ? `#${r.job.index}` : ''} ${r.why ?? ''} ${r.error ? `${r.error.name}: ${r.error.message.slice(0, 300)}` : ''} [${(r.mutations ?? []).join('; ')}]`,
    )
    .join('\n');
}

describe('short seeded run of every format', () => {
  let report: CampaignReport;
  beforeAll(async () => {
    report = await runCampaign({ seed: SEED, perFormat: SHORT_RUN, workers: 2, timeoutMs: 8000 });
    console.log(`${formatTable(report.counts)}\n${report.inputs} inputs in ${report.seconds.toFixed(1)} s`);
  }, 300_000);

  it('ran without failures of the fuzzer itself', () => {
    expect(report.harnessErrors).toEqual([]);
  });

  for (const format of FORMAT_NAMES) {
    const known = SHORT_RUN_FAILS[format];
    const test = known ? it.fails : it;
    test(`${format}: ${SHORT_RUN} inputs, all parsed or cleanly refused${known ? ` (fails until ${known})` : ''}`, () => {
      const row = report.counts.get(format);
      expect(row && Object.values(row).reduce((a, b) => a + b, 0)).toBe(SHORT_RUN);
      const bad = report.bad.filter((r) => r.job.format === format);
      expect(bad, describeBad(bad)).toEqual([]);
      // A run where nothing parses or nothing is refused exercises only one side of the reader.
      expect(row?.parsed).toBeGreaterThan(0);
      expect(row?.clean).toBeGreaterThan(0);
    });
  }
});

describe('committed reproducers', () => {
  const regressions = listRegressions();
  const results = new Map<string, CaseResult>();
  beforeAll(async () => {
    const pool = new FuzzPool({ workers: 2, timeoutMs: 5000 });
    try {
      await Promise.all(
        regressions.map(async (r) =>
          results.set(r.dir, await pool.run({ type: 'replay', format: r.format, dir: r.dir })),
        ),
      );
    } finally {
      await pool.close();
    }
  }, 300_000);

  it('exist for every format that had findings', () => {
    expect(regressions.length).toBeGreaterThan(20);
  });

  for (const r of regressions) {
    // Expected to fail until the fix is merged: `fixedOn` names the branch (fixed on branch <fixedOn>); `open` marks a
    // new finding no branch fixes yet.
    const pending = r.fixedOn ?? r.open;
    const test = pending ? it.fails : it;
    test(`${r.format}/${r.name}: ${r.expect}${pending ? ` (fails until ${pending})` : ''}`, () => {
      const res = results.get(r.dir);
      expect(res?.outcome, `${r.description}\n${res ? describeBad([res]) : 'no result'}`).toBe(r.expect);
      if (r.summary !== undefined) expect(res?.summary).toBe(r.summary);
    });
  }
});

describe('the harness', () => {
  let pool: FuzzPool;
  let dir: string;
  beforeAll(() => {
    // Small limits so that the memory cases end quickly (the self-test reader imports nothing heavy).
    pool = new FuzzPool({ workers: 2, timeoutMs: 4000, maxRssBytes: 192 * 2 ** 20, maxOldSpaceMb: 128 });
    dir = mkdtempSync(join(tmpdir(), 'iqa-fuzz-selftest-'));
  });
  afterAll(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.concurrent.each(SELFTEST_BEHAVIOURS)(
    'classifies a reader that does "%s" as %s',
    async (behaviour, outcome) => {
      const caseDir = join(dir, behaviour);
      mkdirSync(join(caseDir, 'input'), { recursive: true });
      writeFileSync(join(caseDir, 'input', 'input.txt'), behaviour);
      writeFileSync(join(caseDir, 'case.json'), JSON.stringify({ format: 'selftest', target: 'input.txt' }));
      const r = await pool.run({ type: 'replay', format: 'selftest', dir: caseDir });
      expect(r.outcome, describeBad([r])).toBe(outcome);
      expect(existsSync('/tmp/iqa-fuzz-selftest-outside')).toBe(false);
    },
  );

  it('produces the same input for the same seed and index, and another for another index', async () => {
    const own = new FuzzPool({ workers: 1 });
    try {
      const a = await own.run({ type: 'case', format: 'bmp', seed: 'same', index: 3 });
      const b = await own.run({ type: 'case', format: 'bmp', seed: 'same', index: 3 });
      const c = await own.run({ type: 'case', format: 'bmp', seed: 'same', index: 4 });
      expect(b.mutations).toEqual(a.mutations);
      expect([b.outcome, b.summary]).toEqual([a.outcome, a.summary]);
      expect(c.mutations).not.toEqual(a.mutations);
    } finally {
      await own.close();
    }
  });

  it('lists bad outcomes as bad', () => {
    expect(BAD_OUTCOMES).toEqual(['raw', 'hang', 'crash', 'side-effect']);
  });

  it('recomputes split-manifest hashes exactly as @iqa-bench/data writes them', async () => {
    const data = await import('@iqa-bench/data');
    const d = await data.loadDataset('koniq10k', repoPath('packages/data/fixtures/datasets/koniq10k'));
    for (const split of [
      data.shippedSplit(d, 'official'),
      data.randomSplit(d, { seed: 11, round: 2, minPartImages: 1 }),
    ]) {
      const m = JSON.parse(JSON.stringify(data.splitManifest(split))) as { [k: string]: JsonValue };
      expect(manifestHash(m)).toBe(m.hash);
      expect(manifestHash({ ...m, seed: 'other' })).not.toBe(m.hash);
    }
  });
});
