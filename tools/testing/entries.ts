/**
 * The runtime names of every entry of a package (its package.json `exports`), loaded from the source files the
 * built entries come from (`./dist/x.js` → `src/x.ts`), so a test sees what each import path of the package gives.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PackageEntries {
  /** The package's `exports` map. */
  exports: Record<string, string | { types: string; import: string }>;
  /** Entry (`.`, `./weights`, or with `fullNames` `@scope/pkg/weights`) → its runtime names, sorted. */
  names: Map<string, string[]>;
}

export async function packageEntries(
  packageDir: string,
  options: { fullNames?: boolean } = {},
): Promise<PackageEntries> {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    name: string;
    exports: PackageEntries['exports'];
  };
  const names = new Map<string, string[]>();
  for (const [key, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    const src = join(packageDir, target.import.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
    const mod = (await import(src)) as Record<string, unknown>;
    const label = options.fullNames ? (key === '.' ? pkg.name : `${pkg.name}${key.slice(1)}`) : key;
    names.set(label, Object.keys(mod).sort());
  }
  return { exports: pkg.exports, names };
}
