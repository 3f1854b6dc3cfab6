/**
 * Scoring with onnxruntime-node: an exported model opened once (checked against the exporter's contract first), the
 * CPU execution provider with one intra-op thread per core by default, and any other provider passed through (CUDA,
 * TensorRT) for GPU users. onnxruntime-node is an optional peer dependency, imported only when a scorer is opened.
 */
import { availableParallelism } from 'node:os';
import { readFileBounded } from '@iqa-bench/core/fs';
import type { ModelConfig } from '@iqa-bench/model';
import type * as Ort from 'onnxruntime-node';
import { FUSION_WEIGHTS_OUTPUT, INPUT_NAME, SCORE_OUTPUT } from './contract.js';
import { OnnxModelError } from './errors.js';
import { readModelInfo } from './model-info.js';
import { CropScorer, type OnnxScorer } from './scorer-core.js';

/** The largest .onnx file a scorer reads (SMART-IQA-base exports to about 0.4 GiB). */
export const MAX_ONNX_BYTES = 2 ** 31 - 1;

export interface OnnxScorerOptions {
  /**
   * onnxruntime execution providers in order of preference: 'cpu' (the default), 'cuda', 'tensorrt', 'webgpu', …
   * passed through to onnxruntime-node; the CPU provider always backs up the others for operators they lack.
   */
  executionProviders?: string[];
  /** Threads of the intra-op pool (default: os.availableParallelism()). */
  intraOpThreads?: number;
}

type OrtModule = typeof Ort;

async function importOrt(): Promise<OrtModule | null> {
  try {
    return await import('onnxruntime-node');
  } catch {
    return null;
  }
}

/** Whether onnxruntime-node can be imported (it is an optional peer dependency). */
export async function onnxRuntimeAvailable(): Promise<boolean> {
  return (await importOrt()) !== null;
}

const CUDA_HINT =
  "onnxruntime-node's CUDA and TensorRT providers need their binaries, which its install script downloads " +
  '(ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js; see the @iqa-bench/onnx ' +
  'README), and CUDA 12 with cuDNN 9 on the machine';

function providerName(p: unknown, i: number): string {
  if (typeof p !== 'string' || p.trim() === '')
    throw new OnnxModelError(`executionProviders[${i}] must be a provider name such as 'cpu' or 'cuda'`, {
      provider: String(p),
    });
  return p.trim().toLowerCase();
}

/** Which requested provider an onnxruntime session error names, if it names one. */
function providerInError(message: string, providers: readonly string[]): string | undefined {
  const m = message.toLowerCase();
  return providers.find(
    (p) =>
      p !== 'cpu' &&
      (m.includes(`[${p}] backend`) || m.includes(`appendexecutionprovider_${p}`) || m.includes(`/${p}/`)),
  );
}

/**
 * Opens an exported model for scoring. The file is read (at most MAX_ONNX_BYTES) and checked before onnxruntime
 * sees it: a truncated or corrupt file, a model not written by this package's exporter (no metadata), or one whose
 * input or outputs are not `image` [batch, 3, S, S] → `score` [batch] (+ `fusion_weights` [batch, 4]) is an
 * OnnxModelError naming the file; an execution provider onnxruntime-node does not have or cannot load is one naming
 * the provider.
 */
export async function openOnnxScorer(file: string, options: OnnxScorerOptions = {}): Promise<OnnxScorer> {
  const requested = options.executionProviders ?? ['cpu'];
  if (!Array.isArray(requested) || requested.length === 0)
    throw new OnnxModelError(
      "executionProviders must be a non-empty list of provider names such as ['cpu'] or ['cuda', 'cpu']",
    );
  const providers = requested.map(providerName);
  const threads = options.intraOpThreads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`intraOpThreads must be a positive integer, got ${threads}`);

  const ort = await importOrt();
  if (!ort)
    throw new OnnxModelError(
      'onnxruntime-node is not installed (npm install onnxruntime-node), so ONNX models cannot be scored in Node',
      { provider: providers[0] },
    );
  const supported = ort.listSupportedBackends().map((b) => b.name.toLowerCase());
  for (const p of providers)
    if (!supported.includes(p))
      throw new OnnxModelError(
        `execution provider '${p}' is not one onnxruntime-node ${ort.env.versions.node} has on this platform ` +
          `(expected one of ${supported.join(', ')})`,
        { provider: p },
      );

  let bytes: Uint8Array;
  try {
    bytes = await readFileBounded(file, MAX_ONNX_BYTES, 'ONNX model');
  } catch (err) {
    throw new OnnxModelError(err instanceof Error ? err.message : String(err), { file, cause: err });
  }
  const info = readModelInfo(bytes, file);

  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: providers,
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    let provider = providerInError(msg, providers);
    if (provider === undefined && providers.some((p) => p !== 'cpu')) {
      // The message names no provider: if the model loads on the CPU alone, a requested provider is at fault.
      const cpuOnly = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] }).then(
        (s) => s,
        () => null,
      );
      if (cpuOnly) {
        await cpuOnly.release();
        provider = providers.filter((p) => p !== 'cpu').join(', ');
      }
    }
    if (provider !== undefined)
      throw new OnnxModelError(
        `execution provider '${provider}' could not be used: ${msg.trim()}` +
          (provider === 'cuda' || provider === 'tensorrt' ? ` (${CUDA_HINT})` : ''),
        { provider, cause: err },
      );
    throw new OnnxModelError(`${file}: onnxruntime could not load the model: ${msg.trim()}`, {
      file,
      cause: err,
    });
  }

  const size = info.imgSize;
  const core = new CropScorer(file, size, info.fusionWeights, async (nchw, count) => {
    const input = new ort.Tensor('float32', nchw, [count, 3, size, size]);
    const out = await session.run({ [INPUT_NAME]: input });
    const score = out[SCORE_OUTPUT].data as Float32Array;
    const fusion = out[FUSION_WEIGHTS_OUTPUT];
    return { score, fusionWeights: fusion ? (fusion.data as Float32Array) : null };
  });
  const config: ModelConfig = info.config;
  return Object.freeze({
    file,
    config,
    ...(info.checkpointSha256 === undefined ? {} : { checkpointSha256: info.checkpointSha256 }),
    executionProviders: providers,
    scoreImage: (image, opts) => core.scoreImage(image, opts),
    scoreImages: (images, opts) => core.scoreImages(images, opts),
    close: () => core.close(() => session.release()),
  } satisfies OnnxScorer);
}
