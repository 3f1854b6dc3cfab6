#!/usr/bin/env node
/**
 * Counts the public surface of every package: the names (values and types) each `exports` entry of its package.json
 * makes importable, read from the built declaration files with the TypeScript compiler.
 *
 *   node tools/surface/count-exports.mjs [--json] [--names]
 *
 * Run `npm run build` first. Prints one line per package entry: `@iqa-bench/model .  68 values, 57 types`.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const repo = resolve(import.meta.dirname, '..', '..');
const json = process.argv.includes('--json');
const names = process.argv.includes('--names');

const entries = [];
for (const dir of readdirSync(join(repo, 'packages')).sort()) {
  const pkgFile = join(repo, 'packages', dir, 'package.json');
  if (!existsSync(pkgFile)) continue;
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
    const types = typeof target === 'object' && target !== null ? target.types : undefined;
    if (typeof types !== 'string') continue;
    entries.push({ pkg: pkg.name, sub, file: join(repo, 'packages', dir, types) });
  }
}

const program = ts.createProgram(
  entries.map((e) => e.file),
  { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true },
);
const checker = program.getTypeChecker();
const rows = [];
for (const e of entries) {
  const sf = program.getSourceFile(e.file);
  if (sf === undefined) {
    rows.push({ ...e, missing: true });
    continue;
  }
  const mod = checker.getSymbolAtLocation(sf);
  const exported = mod === undefined ? [] : checker.getExportsOfModule(mod);
  let values = 0;
  let typesOnly = 0;
  const list = [];
  for (const s of exported) {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    const isValue = (target.flags & ts.SymbolFlags.Value) !== 0;
    if (isValue) values++;
    else typesOnly++;
    list.push(s.name);
  }
  rows.push({
    pkg: e.pkg,
    sub: e.sub,
    values,
    types: typesOnly,
    total: values + typesOnly,
    names: list.sort(),
  });
}

if (json) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  for (const r of rows) {
    if (r.missing) {
      console.log(`${r.pkg} ${r.sub}: not built (${r.file})`);
      continue;
    }
    console.log(
      `${r.pkg.padEnd(22)} ${r.sub.padEnd(12)} ${String(r.total).padStart(4)} names (${r.values} values, ${r.types} types)`,
    );
    if (names) console.log(`  ${r.names.join(', ')}`);
  }
}
