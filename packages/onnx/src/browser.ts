/**
 * `@iqa-bench/onnx/browser`: the scorer of the main entry over onnxruntime-web (WebAssembly with SIMD; WebGPU where
 * the browser has it), opened from the model's bytes or URL. Nothing in its module graph imports Node; exporting
 * models and the export cache stay in the main entry.
 */
import { InferenceSession, Tensor, env } from 'onnxruntime-web';
import type { ModelConfig } from '@iqa-bench/model/browser';
import { FUSION_WEIGHTS_OUTPUT, INPUT_NAME, SCORE_OUTPUT } from './contract.js';
import { OnnxModelError } from './errors.js';
import { readModelInfo } from './model-info.js';
import { CropScorer, type OnnxScorer } from './scorer-core.js';

export {
  BATCH_DIM,
  EXPORTER_VERSION,
  FUSION_WEIGHTS_OUTPUT,
  INPUT_NAME,
  METADATA_KEYS,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  PRODUCER_NAME,
  SCORE_OUTPUT,
} from './contract.js';
export { OnnxModelError } from './errors.js';
export { readModelInfo, type OnnxModelInfo } from './model-info.js';
export type { OnnxImageScore, OnnxScorer, ScoreImagesOptions, ScoreItem } from './scorer-core.js';

/** The largest model read from a URL or given as bytes (default of `maxBytes`). */
export const MAX_BROWSER_ONNX_BYTES = 2 ** 31 - 1;

export interface BrowserScorerOptions {
  /**
   * onnxruntime-web execution providers in order of preference (default: `['webgpu', 'wasm']` where
   * `navigator.gpu` exists, else `['wasm']`; onnxruntime-web moves on to the next when one cannot start).
   */
  executionProviders?: string[];
  /**
   * WebAssembly threads (onnxruntime-web's `env.wasm.numThreads`: global, and read when the first session starts;
   * more than one needs a cross-origin-isolated page). Default: onnxruntime-web's choice.
   */
  intraOpThreads?: number;
  /** What errors and `scorer.file` call a model given as bytes (default 'model.onnx'). */
  name?: string;
  /** Largest model accepted, in bytes (default MAX_BROWSER_ONNX_BYTES). */
  maxBytes?: number;
}

function defaultProviders(): string[] {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  return nav?.gpu ? ['webgpu', 'wasm'] : ['wasm'];
}

/** Reads a response body, refusing more than `maxBytes`. */
async function readBounded(res: Response, url: string, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes)
    throw new OnnxModelError(`${url}: the model is ${declared} bytes, expected at most ${maxBytes}`, {
      file: url,
    });
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new OnnxModelError(`${url}: the model is over ${maxBytes} bytes`, { file: url });
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

async function modelBytes(
  source: Uint8Array | ArrayBuffer | string | URL,
  name: string,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; file: string }> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) {
    const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
    if (bytes.byteLength > maxBytes)
      throw new OnnxModelError(
        `${name}: the model is ${bytes.byteLength} bytes, expected at most ${maxBytes}`,
        {
          file: name,
        },
      );
    return { bytes, file: name };
  }
  const url = String(source);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new OnnxModelError(
      `${url}: could not be fetched (${err instanceof Error ? err.message : String(err)})`,
      {
        file: url,
        cause: err,
      },
    );
  }
  if (!res.ok)
    throw new OnnxModelError(`${url}: could not be fetched (HTTP ${res.status} ${res.statusText})`, {
      file: url,
    });
  return { bytes: await readBounded(res, url, maxBytes), file: url };
}

/**
 * Opens an exported model for scoring in a browser (or wherever onnxruntime-web runs): from its bytes or a URL. The
 * same checks as the Node scorer (a truncated or corrupt file, another model, a missing provider: OnnxModelError
 * naming the file or provider) and the same scoring (crops, batches across images, mean of crop scores).
 */
export async function openOnnxScorer(
  source: Uint8Array | ArrayBuffer | string | URL,
  options: BrowserScorerOptions = {},
): Promise<OnnxScorer> {
  const providers = (options.executionProviders ?? defaultProviders()).map((p, i) => {
    if (typeof p !== 'string' || p.trim() === '')
      throw new OnnxModelError(
        `executionProviders[${i}] must be a provider name such as 'wasm' or 'webgpu'`,
        {
          provider: String(p),
        },
      );
    return p.trim().toLowerCase();
  });
  if (providers.length === 0)
    throw new OnnxModelError(
      "executionProviders must be a non-empty list of provider names such as ['wasm']",
    );
  if (options.intraOpThreads !== undefined) {
    if (!Number.isInteger(options.intraOpThreads) || options.intraOpThreads < 1)
      throw new Error(`intraOpThreads must be a positive integer, got ${options.intraOpThreads}`);
    env.wasm.numThreads = options.intraOpThreads;
  }
  const { bytes, file } = await modelBytes(
    source,
    options.name ?? 'model.onnx',
    options.maxBytes ?? MAX_BROWSER_ONNX_BYTES,
  );
  const info = readModelInfo(bytes, file);
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, {
      executionProviders: providers,
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const m = /\[([^\]]+)\] backend not found/.exec(msg);
    if (m || /backend/i.test(msg)) {
      const provider = m?.[1] ?? providers.join(', ');
      throw new OnnxModelError(
        `execution provider '${provider}' could not be used: ${msg.trim()} (onnxruntime-web has wasm, and webgpu ` +
          'where the browser has it)',
        { provider, cause: err },
      );
    }
    throw new OnnxModelError(`${file}: onnxruntime-web could not load the model: ${msg.trim()}`, {
      file,
      cause: err,
    });
  }
  const size = info.imgSize;
  const core = new CropScorer(file, size, info.fusionWeights, async (nchw, count) => {
    const out = await session.run({ [INPUT_NAME]: new Tensor('float32', nchw, [count, 3, size, size]) });
    const fusion = out[FUSION_WEIGHTS_OUTPUT];
    return {
      score: out[SCORE_OUTPUT].data as Float32Array,
      fusionWeights: fusion ? (fusion.data as Float32Array) : null,
    };
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
