/**
 * `@iqa-bench/core/text`: JSON and YAML from untrusted files, parsed within bounds (no Node import: browsers too;
 * reading the files themselves is `readStructuredFile` of `@iqa-bench/core/fs`).
 *
 * Configs, study files, manifests and result files come from users and strangers. They are read after a size check,
 * parsed as plain data only (YAML 1.2 core schema: no custom tags, no code, at most 100 alias expansions), and nesting
 * deeper than `maxDepth` is refused before the parser recurses into it (a thousand `[` would otherwise end in "Maximum
 * call stack size exceeded"). Every failure is a `TextFileError` that names the file and, where known, the line and
 * column.
 */
import { parseDocument, YAMLError } from 'yaml';

export type TextFormat = 'json' | 'yaml';

/** Default size limit of a structured text file (1 MiB). */
export const DEFAULT_MAX_TEXT_BYTES = 1 << 20;
/** Default nesting limit (mappings and sequences inside each other). */
export const DEFAULT_MAX_DEPTH = 64;

export interface ParseTextOptions {
  /** The file the text came from, for messages. */
  file: string;
  format: TextFormat;
  /** Deepest nesting of mappings / sequences accepted (default 64). */
  maxDepth?: number;
  /** Longest sequence accepted (default: no bound). Schemas of small lists set one, so that a list of 200,000 items
   * is refused here and never reaches a validator that would collect an issue per item. */
  maxItems?: number;
}

/** A structured text file could not be read or parsed. */
export class TextFileError extends Error {
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** The reason alone, without the file name. */
  readonly reason: string;

  constructor(file: string, reason: string, position?: { line: number; column: number }) {
    const at = position === undefined ? '' : `:${position.line}:${position.column}`;
    super(`${file}${at}: ${reason}`);
    this.name = 'TextFileError';
    this.file = file;
    this.reason = reason;
    this.line = position?.line;
    this.column = position?.column;
  }
}

/** The extension of a file name, lower case with its dot (`.yaml`), or '' (no Node import: this module runs in browsers). */
export function extensionOf(file: string): string {
  const name = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot).toLowerCase();
}

/** The format a file name implies, or undefined when its extension is neither JSON nor YAML. */
export function textFormatOf(file: string): TextFormat | undefined {
  const ext = extensionOf(file);
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return undefined;
}

/**
 * The deepest nesting of brackets (`[`, `{`) and of indentation levels in YAML or JSON text, outside quoted strings
 * and comments: an upper bound of the parsed data's depth that is cheap to compute and never recurses. Block
 * sequences written on one line (`- - - x`) count one level per dash. Stops at the first place deeper than
 * `stopAbove` and reports it.
 */
export function textNestingBound(
  text: string,
  stopAbove = Infinity,
): { depth: number; line: number; column: number } {
  let best = { depth: 0, line: 1, column: 1 };
  let flow = 0;
  const indents: number[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const n = text.length;
  const note = (depth: number, at: number): void => {
    if (depth > best.depth) best = { depth, line, column: at - lineStart + 1 };
  };
  while (i < n && best.depth <= stopAbove) {
    // Start of a line: indentation and leading block-sequence dashes.
    if (flow === 0) {
      let j = i;
      while (j < n && text[j] === ' ') j++;
      const indent = j - i;
      const c = text[j];
      if (j < n && c !== '\n' && c !== '\r' && c !== '#') {
        while (indents.length > 0 && indents[indents.length - 1] >= indent) indents.pop();
        indents.push(indent);
        let dashes = 0;
        while ((text[j] === '-' || text[j] === '?') && (text[j + 1] === ' ' || text[j + 1] === '\t')) {
          dashes++;
          j += 2;
          while (text[j] === ' ') j++;
        }
        note(indents.length + dashes, j);
      }
      i = j;
    }
    // The rest of the line.
    while (i < n && text[i] !== '\n') {
      const c = text[i];
      if (c === '"') {
        i++;
        while (i < n && text[i] !== '"') {
          if (text[i] === '\\') i++;
          if (text[i] === '\n') {
            line++;
            lineStart = i + 1;
          }
          i++;
        }
      } else if (c === "'") {
        i++;
        while (i < n) {
          if (text[i] === "'" && text[i + 1] === "'") i += 2;
          else if (text[i] === "'") break;
          else {
            if (text[i] === '\n') {
              line++;
              lineStart = i + 1;
            }
            i++;
          }
        }
      } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) {
        while (i < n && text[i] !== '\n') i++;
        break;
      } else if (c === '[' || c === '{') {
        flow++;
        note(indents.length + flow, i);
      } else if (c === ']' || c === '}') {
        if (flow > 0) flow--;
      }
      i++;
    }
    if (i < n) {
      i++;
      line++;
      lineStart = i;
    }
  }
  return best;
}

/** The depth of parsed data (a scalar is 0, `[1]` is 1), computed without recursion. */
export function dataDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const depth = d + 1;
    if (depth > deepest) deepest = depth;
    for (const child of Object.values(v as Record<string, unknown>)) stack.push([child, depth]);
  }
  return deepest;
}

/** YAML 1.2 core schema to plain data; a tag it does not know (`!!js/function`, `!custom`) is an error, not a string. */
function parseYamlData(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, logLevel: 'silent' });
  const problem = doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (problem !== undefined) throw problem;
  return doc.toJS({ maxAliasCount: 100 }) as unknown;
}

/** The length of the longest array anywhere in parsed data, computed without recursion. */
export function longestArray(value: unknown): number {
  let longest = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v) && v.length > longest) longest = v.length;
    for (const child of Object.values(v as Record<string, unknown>)) stack.push(child);
  }
  return longest;
}

function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}

/** Parses JSON or YAML text as plain data, refusing nesting deeper than `maxDepth`. */
export function parseStructuredText(text: string, options: ParseTextOptions): unknown {
  const { file, format } = options;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const label = format === 'json' ? 'JSON' : 'YAML';
  const bound = textNestingBound(text, maxDepth);
  if (bound.depth > maxDepth) {
    throw new TextFileError(file, `not valid ${label}: nested more than ${maxDepth} levels deep`, bound);
  }
  let data: unknown;
  try {
    data = format === 'json' ? (JSON.parse(text) as unknown) : parseYamlData(text);
  } catch (err) {
    if (err instanceof YAMLError && err.linePos !== undefined) {
      const [pos] = err.linePos;
      throw new TextFileError(file, `not valid YAML: ${firstLine(err.message)}`, {
        line: pos.line,
        column: pos.col,
      });
    }
    if (err instanceof RangeError) {
      // A last guard: the bound above is conservative, but the parser's own recursion must never escape as is.
      throw new TextFileError(file, `not valid ${label}: nested too deeply`);
    }
    throw new TextFileError(file, `not valid ${label}: ${firstLine((err as Error).message)}`);
  }
  // Aliases can nest data deeper than the text shows.
  if (dataDepth(data) > maxDepth) {
    throw new TextFileError(file, `not valid ${label}: nested more than ${maxDepth} levels deep`);
  }
  if (options.maxItems !== undefined) {
    const longest = longestArray(data);
    if (longest > options.maxItems) {
      throw new TextFileError(file, `a list of ${longest} items, expected at most ${options.maxItems}`);
    }
  }
  return data;
}

/** The value at a dotted path of plain objects (`model.backbone.embedDim`); undefined where the path leaves them. */
export function getPath(obj: Readonly<Record<string, unknown>>, path: string): unknown {
  let o: unknown = obj;
  for (const k of path.split('.')) {
    o =
      typeof o === 'object' && o !== null && Object.hasOwn(o, k)
        ? (o as Record<string, unknown>)[k]
        : undefined;
  }
  return o;
}

/** Sets the value at a dotted path (`obj.a.b.c = value`), creating (or replacing non-object values by) sections on the way. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  if (keys.some((k) => k === '__proto__' || k === 'constructor' || k === 'prototype')) {
    throw new Error(`field path "${path}": "__proto__", "constructor" and "prototype" are not field names`);
  }
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    const next = o[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys[keys.length - 1]] = value;
}

/**
 * A field of parsed data named as in JavaScript (`weightsManifest[0].paths[1]`, `model.backbone.depths[2]`), from a
 * path of keys and indices such as a zod issue's; `prefix` is the name of the object the path starts in ('' when the
 * path is empty and there is no prefix).
 */
export function fieldPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}
