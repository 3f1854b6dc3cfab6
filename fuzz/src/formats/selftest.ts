/**
 * A format that exists to check the harness: input `i` makes its reader behave as `SELFTEST_BEHAVIOURS[i]` (parse,
 * refuse cleanly, throw a raw error, loop forever, exhaust memory, abort, write a file, spawn a process, connect).
 * Not part of any campaign.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FormatSpec, OutcomeClass } from '../types.js';

class SelftestError extends Error {
  override name = 'SelftestError';
}

export const SELFTEST_BEHAVIOURS: readonly [string, OutcomeClass][] = [
  ['parse', 'parsed'],
  ['refuse', 'clean'],
  ['refuse-without-file', 'raw'],
  ['type-error', 'raw'],
  ['stack-overflow-wrapped', 'raw'],
  ['enoent', 'raw'],
  ['unhandled-rejection', 'raw'],
  ['loop', 'hang'],
  ['never-settles', 'hang'],
  ['heap', 'crash'],
  ['rss', 'crash'],
  ['abort', 'crash'],
  ['write-tmpdir', 'side-effect'],
  ['write-outside', 'side-effect'],
  ['modify-input', 'side-effect'],
  ['spawn', 'side-effect'],
  ['connect', 'side-effect'],
];

export const selftestFormat: FormatSpec = {
  name: 'selftest',
  description: 'harness self-test',
  cleanErrors: ['SelftestError'],
  async prepare() {},
  async seeds() {
    return [{ name: 'selftest', files: new Map([['input.txt', new Uint8Array(0)]]), target: 'input.txt' }];
  },
  mutate(seed, rng) {
    void rng;
    return { ...seed, mutations: [] };
  },
  async run(caseDir, call) {
    const file = join(caseDir, call.target);
    const what = readFileSync(file, 'utf8').trim();
    switch (what) {
      case 'parse':
        return 'ok';
      case 'refuse':
        throw new SelftestError(`${file}: refused`);
      case 'refuse-without-file':
        throw new SelftestError('refused');
      case 'type-error':
        return (null as unknown as { x: string }).x;
      case 'stack-overflow-wrapped': {
        const deep = (n: number): number => (n === 0 ? 0 : 1 + deep(n - 1));
        try {
          deep(1e7);
        } catch (e) {
          throw new SelftestError(`${file}: ${(e as Error).message}`);
        }
        return 'no overflow';
      }
      case 'enoent':
        return readFileSync(`${file}.missing`, 'utf8');
      case 'unhandled-rejection':
        void Promise.reject(new TypeError('nobody awaits this'));
        return 'ok';
      case 'loop':
        for (;;);
      case 'never-settles':
        return new Promise<string>(() => undefined);
      case 'heap': {
        const keep: string[][] = [];
        for (;;) keep.push(Array.from({ length: 1e5 }, (_, i) => `x${i}`));
      }
      case 'rss': {
        const keep: Uint8Array[] = [];
        for (;;) keep.push(new Uint8Array(64 << 20).fill(1));
      }
      case 'abort':
        process.abort();
        return 'unreachable';
      case 'write-tmpdir':
        writeFileSync(join(tmpdir(), 'left-behind'), 'x');
        return 'ok';
      case 'write-outside':
        writeFileSync('/tmp/iqa-fuzz-selftest-outside', 'x');
        return 'ok';
      case 'modify-input':
        writeFileSync(file, 'changed');
        return 'ok';
      case 'spawn':
        spawnSync('true');
        return 'ok';
      case 'connect':
        connect(9, '127.0.0.1').on('error', () => undefined);
        return 'ok';
      default:
        throw new SelftestError(`${file}: unknown behaviour ${what}`);
    }
  },
};
