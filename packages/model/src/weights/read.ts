/**
 * One entry point for every weights file the package reads: safetensors, torch.save zip, legacy torch.save. The file
 * type is detected from its bytes; checkpoint wrappers (`{'model_hyper': sd}`, `{'model': sd}`,
 * `{'model_state_dict': sd}`, `{'params': sd}`, `{'state_dict': sd}`) are unwrapped and a DataParallel `module.` prefix
 * is removed.
 */
import { fileError, withFileErrors, withFileErrorsAsync } from './errors.js';
import { readFileBounded } from '@iqa-bench/core/fs';
import type { PyValue } from '@iqa-bench/core/pickle';
import { PyDict, pyTypeName } from '@iqa-bench/core/pickle';
import { looksLikeSafetensors, parseSafetensors } from './safetensors.js';
import type { StateDict } from './state-dict.js';
import type { ReadLimits } from './torch-pickle.js';
import {
  DEFAULT_READ_LIMITS,
  isLegacyTorch,
  isZip,
  readTorchLegacy,
  readTorchZip,
  TorchTensorRef,
} from './torch-pickle.js';

export type WeightsFormat = 'safetensors' | 'torch-zip' | 'torch-legacy';

export interface WeightsFile {
  /** The path (or name) the weights came from. */
  source: string;
  format: WeightsFormat;
  /** Tensors in PyTorch layout, in file order. */
  stateDict: StateDict;
  /** safetensors `__metadata__` (empty for torch files). */
  metadata: Record<string, string>;
  /** Key the state dict was found under in a checkpoint dict, or null for a bare state dict. */
  wrapper: string | null;
}

/** Checkpoint-dict keys that hold a model state dict, in order of preference. */
export const STATE_DICT_WRAPPERS = [
  'model_hyper',
  'model_state_dict',
  'model',
  'params',
  'state_dict',
] as const;

function isTensorDict(v: PyValue): v is PyDict {
  if (!(v instanceof PyDict)) return false;
  for (const [k, t] of v.map) if (typeof k !== 'string' || !(t instanceof TorchTensorRef)) return false;
  return true;
}

function describeDict(d: PyDict): string {
  const items = [...d.map].slice(0, 12).map(([k, v]) => `${String(k)}: ${pyTypeName(v)}`);
  return `{${items.join(', ')}${d.map.size > 12 ? ', ...' : ''}}`;
}

/**
 * Finds the state dict in an unpickled torch object and copies its tensors out (other entries are not materialised).
 * Nothing is copied unless all of them together describe at most `keptBudget` bytes (TorchFile.keptBudget).
 */
export function extractStateDict(
  root: PyValue,
  source: string,
  keptBudget: number,
): { stateDict: StateDict; wrapper: string | null } {
  let dict: PyDict | undefined;
  let wrapper: string | null = null;
  if (isTensorDict(root)) {
    dict = root;
  } else if (root instanceof PyDict) {
    for (const key of STATE_DICT_WRAPPERS) {
      const v = root.map.get(key);
      if (v !== undefined && isTensorDict(v)) {
        dict = v;
        wrapper = key;
        break;
      }
    }
    if (!dict) {
      throw new Error(
        `${source}: no state dict found: expected a dict of tensors or one under ${STATE_DICT_WRAPPERS.map((k) => `'${k}'`).join(', ')}; ` +
          `the file holds ${describeDict(root)}`,
      );
    }
  } else {
    throw new Error(
      `${source}: no state dict found: the file holds a ${pyTypeName(root)}, expected a dict of tensors`,
    );
  }
  let total = 0;
  for (const [k, v] of dict.map) {
    total += (v as TorchTensorRef).byteLength;
    if (total > keptBudget) {
      throw fileError(
        source,
        `tensor '${String(k)}'`,
        `with the tensors before it, the state dict describes ${total} bytes ` +
          `once copied, over the limit of ${keptBudget} bytes for this file (ReadLimits.maxExpansion times its ` +
          'storage bytes: views repeating storage elements); refusing to allocate them (raise ReadLimits.maxExpansion ' +
          'only for a trusted file)',
        { limit: 'maxExpansion' },
      );
    }
  }
  const stateDict: StateDict = new Map();
  for (const [k, v] of dict.map)
    stateDict.set(k as string, (v as TorchTensorRef).materialize(`'${String(k)}'`));
  return { stateDict: stripModulePrefix(stateDict), wrapper };
}

/** Removes the `module.` prefix that torch.nn.DataParallel adds, when every key has it. */
export function stripModulePrefix(sd: StateDict): StateDict {
  const keys = [...sd.keys()];
  if (keys.length === 0 || !keys.every((k) => k.startsWith('module.'))) return sd;
  return new Map([...sd].map(([k, v]) => [k.slice('module.'.length), v]));
}

/**
 * Parses weights from memory; `source` names the file in errors. Every error is a ModelFileError naming the file
 * (and the field where there is one).
 */
export function parseWeights(
  bytes: Uint8Array,
  source: string,
  limits: Partial<ReadLimits> = {},
): WeightsFile {
  return withFileErrors(source, () => parse(bytes, source, { ...DEFAULT_READ_LIMITS, ...limits }));
}

function parse(bytes: Uint8Array, source: string, limits: ReadLimits): WeightsFile {
  if (bytes.length > limits.maxBytes)
    throw fileError(source, null, `${bytes.length} bytes, over the limit of ${limits.maxBytes}`, {
      limit: 'maxBytes',
    });
  if (isZip(bytes)) {
    const { root, keptBudget } = readTorchZip(bytes, source, limits);
    return { source, format: 'torch-zip', metadata: {}, ...extractStateDict(root, source, keptBudget) };
  }
  if (isLegacyTorch(bytes)) {
    const { root, keptBudget } = readTorchLegacy(bytes, source, limits);
    return { source, format: 'torch-legacy', metadata: {}, ...extractStateDict(root, source, keptBudget) };
  }
  if (looksLikeSafetensors(bytes) || /\.safetensors$/i.test(source)) {
    const { tensors, metadata } = parseSafetensors(bytes, source);
    return { source, format: 'safetensors', stateDict: stripModulePrefix(tensors), metadata, wrapper: null };
  }
  throw fileError(
    source,
    null,
    'unknown weights format (expected safetensors, a torch.save zip or a legacy torch.save file)',
  );
}

/** Reads any supported weights file (size-bounded; nothing in the file is executed; errors are ModelFileErrors). */
export async function readWeights(path: string, limits: Partial<ReadLimits> = {}): Promise<WeightsFile> {
  const lim = { ...DEFAULT_READ_LIMITS, ...limits };
  const bytes = await withFileErrorsAsync(path, () => readFileBounded(path, lim.maxBytes));
  return parseWeights(bytes, path, lim);
}
