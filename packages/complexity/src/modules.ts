/**
 * Module paths and the IQA module groups.
 *
 * A module path is a dot-separated PyTorch-style prefix (`swin.backbone.layers_2.blocks.3.attn.qkv`); a parameter's
 * module is its state-dict name without the last component. `flattenTree` turns per-leaf totals into one row per
 * prefix (every ancestor carries the sum of its descendants), which is what the report stores.
 *
 * The group of a path follows the original HyperIQA / SMART-IQA state-dict names (`swin.backbone.*` or `res.*`,
 * `swin.lda*` / `res.lda*`, `multiscale_attention.*`, `conv1.*`, `fc1w_conv` … `fc5b_fc`): backbone stem/stages, LDA
 * heads, fusion (multiscale attention), the HyperNet 1x1 stack, the weight/bias generators and the TargetNet.
 */

export const MODULE_GROUPS = [
  'backbone.stem',
  'backbone.stage1',
  'backbone.stage2',
  'backbone.stage3',
  'backbone.stage4',
  'backbone.other',
  'lda',
  'fusion',
  'hypernet',
  'generators',
  'target_net',
  'other',
] as const;
export type ModuleGroup = (typeof MODULE_GROUPS)[number];

/** The top-level group of a group key (`backbone.stage2` -> `backbone`). */
export const groupFamily = (g: ModuleGroup): string => g.split('.')[0];

/** Which IQA module group a module path (or parameter name) belongs to. */
export function moduleGroup(path: string): ModuleGroup {
  if (/^(swin|res)\.lda\d/.test(path)) return 'lda';
  const swinStage = /^swin\.backbone\.layers_(\d)(\.|$)/.exec(path);
  if (swinStage) return stage(Number(swinStage[1]) + 1);
  if (/^swin\.backbone\.patch_embed(\.|$)/.test(path)) return 'backbone.stem';
  const resStage = /^res\.layer(\d)(\.|$)/.exec(path);
  if (resStage) return stage(Number(resStage[1]));
  if (/^res\.(conv1|bn1|relu|maxpool)(\.|$)/.test(path)) return 'backbone.stem';
  // The backbone wrapper itself (`swin.backbone`, ResNet's `res.*`); bare `swin` / `res` also hold the LDA heads.
  if (/^(swin\.backbone|res\.)/.test(path)) return 'backbone.other';
  if (/^(multiscale_attention|fusion)(\.|$)/.test(path)) return 'fusion';
  if (/^(conv1|pool|dropout|hypernet)(\.|$)/.test(path)) return 'hypernet';
  if (/^(fc\d[wb]_(conv|fc)|generators)(\.|$)/.test(path)) return 'generators';
  if (/^(target_net|targetnet)(\.|$)/.test(path)) return 'target_net';
  return 'other';
}

function stage(i: number): ModuleGroup {
  return i >= 1 && i <= 4 ? (`backbone.stage${i}` as ModuleGroup) : 'backbone.other';
}

/** The module of a parameter: its name without the last dotted component (`a.b.weight` -> `a.b`). */
export function parameterModule(name: string): string {
  const i = name.lastIndexOf('.');
  return i < 0 ? '' : name.slice(0, i);
}

/** Longest common dotted prefix of module paths ('' when none). */
export function commonModulePrefix(paths: readonly string[]): string {
  if (paths.length === 0) return '';
  let parts = paths[0] === '' ? [] : paths[0].split('.');
  for (const p of paths.slice(1)) {
    const q = p === '' ? [] : p.split('.');
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i += 1;
    parts = parts.slice(0, i);
  }
  return parts.join('.');
}

/** Ancestors of a path including itself, outermost first (`a.b.c` -> `a`, `a.b`, `a.b.c`); '' has none. */
export function modulePrefixes(path: string): string[] {
  if (path === '') return [];
  const parts = path.split('.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
}

/**
 * Sums per-leaf values into one entry per prefix path (including the leaves themselves), in depth-first order with
 * children in the order they were first seen (state-dict or execution order). `add(acc, value)` mutates the
 * accumulator created by `init()`.
 */
export function flattenTree<V, A>(
  leaves: Iterable<[string, V]>,
  init: () => A,
  add: (acc: A, value: V) => void,
): { path: string; depth: number; value: A }[] {
  interface Node {
    value: A;
    children: Map<string, Node>;
  }
  const root: Node = { value: init(), children: new Map() };
  for (const [leaf, value] of leaves) {
    let node = root;
    for (const part of leaf === '' ? [] : leaf.split('.')) {
      let child = node.children.get(part);
      if (child === undefined) {
        child = { value: init(), children: new Map() };
        node.children.set(part, child);
      }
      add(child.value, value);
      node = child;
    }
  }
  const out: { path: string; depth: number; value: A }[] = [];
  const walk = (node: Node, prefix: string, depth: number): void => {
    for (const [part, child] of node.children) {
      const path = prefix === '' ? part : `${prefix}.${part}`;
      out.push({ path, depth, value: child.value });
      walk(child, path, depth + 1);
    }
  };
  walk(root, '', 1);
  return out;
}
