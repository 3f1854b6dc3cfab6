import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  acceptJob,
  createJob,
  JOB_FORMAT,
  JobKindRegistry,
  JobRefusedError,
  MAX_JOB_BYTES,
  STUDY_VERSION,
} from './jobs.js';
import { maskQueueUrl, parseQueueUrl } from './url.js';

const tmp = mkdtempSync(join(tmpdir(), 'iqa-jobs-'));
mkdirSync(join(tmp, 'runs'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const registry = new JobKindRegistry();
let calls = 0;
registry.register(
  'echo',
  z.strictObject({ n: z.number().int().max(10) }),
  async (p: { n: number }) => {
    calls++;
    return p.n;
  },
  { paths: ['out'] },
);
const options = { root: tmp, version: STUDY_VERSION, registry };
const good = createJob({ kind: 'echo', payload: { n: 3 }, paths: { out: 'runs/x.json' } });

async function refusal(data: unknown): Promise<string> {
  const err = await acceptJob(data, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JobRefusedError);
  return (err as Error).message;
}

describe('job envelopes', () => {
  it('accepts a well-formed job: payload validated, paths absolute inside the root', async () => {
    expect(good).toEqual({
      format: JOB_FORMAT,
      version: STUDY_VERSION,
      kind: 'echo',
      paths: { out: 'runs/x.json' },
      payload: { n: 3 },
    });
    const accepted = await acceptJob(good, options);
    expect(accepted.payload).toEqual({ n: 3 });
    expect(accepted.paths).toEqual({ out: join(tmp, 'runs', 'x.json') });
    expect(accepted.kind.kind).toBe('echo');
  });

  it('refuses, naming the field, before any handler runs or anything is written', async () => {
    expect(await refusal({ ...good, version: '0.0.1' })).toBe(
      `made by iqa-bench 0.0.1, but this worker runs iqa-bench ${STUDY_VERSION}; run workers of the coordinator's version`,
    );
    expect(await refusal({ ...good, extra: 1 })).toBe(
      "not an iqa-bench job: (root): unknown field(s) 'extra'",
    );
    expect(await refusal({ ...good, format: 'other@1' })).toMatch(/^not an iqa-bench job: format: /);
    expect(await refusal({ ...good, kind: 'Echo' })).toBe(
      'not an iqa-bench job: kind: expected a kind name: lower-case letters, digits and -',
    );
    expect(await refusal({ ...good, kind: 'other' })).toBe(
      'unknown job kind "other"; this worker runs "echo"',
    );
    expect(await refusal({ ...good, payload: { n: 11 } })).toMatch(/^invalid "echo" job: payload\.n: /);
    expect(await refusal({ ...good, payload: { n: 1, cmd: 'x' } })).toBe(
      `invalid "echo" job: payload: unknown field(s) 'cmd'`,
    );
    expect(await refusal({ ...good, paths: {} })).toBe(`paths: missing 'out' (a "echo" job gives 'out')`);
    expect(await refusal({ ...good, paths: { out: 'runs/x', model: 'm' } })).toBe(
      `paths: unknown 'model' (a "echo" job gives 'out')`,
    );
    expect(await refusal({ ...good, paths: { out: '../x' } })).toBe(
      `paths.out "../x" contains '..'; expected a path inside the worker root`,
    );
    expect(await refusal(null)).toMatch(/^not an iqa-bench job: \(root\): /);
    expect(await refusal('a string')).toMatch(/^not an iqa-bench job/);
    expect(calls).toBe(0);
    expect(readdirSync(join(tmp, 'runs'))).toEqual([]);
  });

  it('bounds the size and the nesting of a job', async () => {
    const big = { ...good, payload: { n: 1, pad: 'x'.repeat(MAX_JOB_BYTES) } };
    expect(await refusal(big)).toMatch(/^\d+ bytes of JSON, expected at most 262144$/);
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(await refusal({ ...good, payload: deep })).toBe('nested 100001 levels deep, expected at most 32');
  });

  it('registers a kind once, with checked names', () => {
    const r = new JobKindRegistry();
    r.register('a-1', z.null(), async () => null);
    expect(() => r.register('a-1', z.null(), async () => null)).toThrow(
      'job kind "a-1" is already registered',
    );
    expect(() => r.register('A', z.null(), async () => null)).toThrow(/expected lower-case letters/);
    expect(() => r.register('b', z.null(), async () => null, { paths: ['../x'] })).toThrow(
      /not a valid name/,
    );
    expect(r.kinds()).toEqual(['a-1']);
  });
});

describe('queue URLs', () => {
  it('tells the backend from the scheme and masks the password', () => {
    expect(parseQueueUrl('redis://:pw@h:6379/0')).toEqual({
      kind: 'redis',
      href: 'redis://:pw@h:6379/0',
      masked: 'redis://:***@h:6379/0',
    });
    expect(parseQueueUrl('postgresql://u:p%40ss@db.lab:5432/q').kind).toBe('postgres');
    expect(maskQueueUrl('postgres://u:p%40ss@db.lab:5432/q')).toBe('postgres://u:***@db.lab:5432/q');
    expect(maskQueueUrl('not a url //u:secret@x')).toBe('not a url //u:***@x');
    expect(() => parseQueueUrl('http://h')).toThrow(
      'queue URL "http://h/": unknown scheme "http:", expected one of redis://, rediss://, postgres://, postgresql://',
    );
    expect(() => parseQueueUrl('localhost:6379')).toThrow(/unknown scheme "localhost:"/);
    expect(() => parseQueueUrl('redis:///0')).toThrow('queue URL "redis:///0" names no host');
  });
});
