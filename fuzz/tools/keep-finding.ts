/**
 * Turns a reproducer saved by bench/fuzz.mjs into a regression fixture:
 *   npx tsx fuzz/tools/keep-finding.ts bench/results/fuzz-findings/xlsx/hang-2fe56452f99a found-hang \
 *     --description "..." [--expect clean|parsed] [--fixed-on <branch> | --open]
 * copies its input/ to fuzz/fixtures/regressions/<format>/<name>/ and writes case.json with what the test needs, keeping
 * the run's record (seed, index, mutations, error) under `found`.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REGRESSIONS_DIR } from '../src/paths.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    description: { type: 'string' },
    expect: { type: 'string', default: 'clean' },
    'fixed-on': { type: 'string' },
    open: { type: 'boolean', default: false },
  },
});
const [from, name] = positionals;
if (!from || !name || !values.description || !['clean', 'parsed'].includes(values.expect)) {
  console.error(
    'usage: keep-finding.ts <findings dir> <name> --description TEXT [--expect clean|parsed] [--fixed-on BRANCH | --open]',
  );
  process.exit(2);
}
const found = JSON.parse(readFileSync(join(resolve(from), 'case.json'), 'utf8')) as {
  format: string;
  target: string;
  options?: unknown;
};
const dir = join(REGRESSIONS_DIR, found.format, name);
if (existsSync(dir)) throw new Error(`${dir} exists`);
mkdirSync(dir, { recursive: true });
cpSync(join(resolve(from), 'input'), join(dir, 'input'), { recursive: true });
const meta = {
  format: found.format,
  target: found.target,
  ...(found.options ? { options: found.options } : {}),
  expect: values.expect,
  ...(values['fixed-on'] ? { fixedOn: values['fixed-on'] } : {}),
  ...(values.open ? { open: 'new finding (reported by the fuzz branch)' } : {}),
  description: values.description,
  found,
};
writeFileSync(join(dir, 'case.json'), `${JSON.stringify(meta, null, 2)}\n`);
console.log(`kept ${from} as ${dir}`);
