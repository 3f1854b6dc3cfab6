/** Test support: what a package's source module pulls in, for the checks that an entry is Node-free. */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** @iqa-bench/core's sources: its modules are walked too, as they must be Node-free as well. */
const CORE_SRC = join(import.meta.dirname, '..', '..', 'packages', 'core', 'src');

/**
 * Every module reachable from `entry` under `srcDir` (relative imports, .js → .ts, and @iqa-bench/core subpaths) as
 * paths relative to `srcDir`, and every other bare specifier they import. Static imports and re-exports count
 * (`import type` erases at build time and is skipped), and so do dynamic imports.
 */
export function importGraph(srcDir: string, entry: string): { modules: string[]; external: string[] } {
  const modules = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string): void => {
    if (modules.has(file)) return;
    modules.add(file);
    const src = readFileSync(file, 'utf8');
    const re =
      /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
    for (const m of src.matchAll(re)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (spec.startsWith('@iqa-bench/core/'))
        visit(join(CORE_SRC, `${spec.slice('@iqa-bench/core/'.length)}.ts`));
      else external.add(spec);
    }
  };
  visit(join(srcDir, entry));
  return { modules: [...modules].map((f) => relative(srcDir, f)).sort(), external: [...external].sort() };
}
