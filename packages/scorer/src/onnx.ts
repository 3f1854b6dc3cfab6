/**
 * The onnx runtime: `@iqa-bench/onnx` and `onnxruntime-node` are optional peer dependencies, imported only when the
 * onnx runtime is asked for (or `auto` looks for it). The part of `@iqa-bench/onnx` used here is described by
 * {@link OnnxModule}, so that this package's types do not need it installed.
 */
import type {
  ImageScore,
  ModelConfig,
  ModelCostLimits,
  NormalizedImage,
  ScoreImageOptions,
} from '@iqa-bench/model';
import type { ReadLimits } from '@iqa-bench/model/weights';
import { isOnnxFile } from './checkpoint.js';
import { describeConfig } from './checkpoint.js';
import type { Engine, EngineItem } from './engine.js';
import { ScorerError } from './errors.js';

type OnnxScore = ImageScore & { fusionWeights?: number[] };

/** An ONNX model opened in an onnxruntime session (`@iqa-bench/onnx`'s `OnnxScorer`). */
export interface OnnxSession {
  file: string;
  config: ModelConfig;
  checkpointSha256?: string;
  executionProviders: string[];
  scoreImage(image: NormalizedImage, options?: ScoreImageOptions): Promise<OnnxScore>;
  scoreImages(
    items:
      | Iterable<{ image: NormalizedImage; options?: ScoreImageOptions }>
      | AsyncIterable<{ image: NormalizedImage; options?: ScoreImageOptions }>,
    opts?: { onResult?(index: number, score: OnnxScore): void; batchSize?: number },
  ): Promise<OnnxScore[]>;
  close(): Promise<void>;
}

/** What the onnx runtime uses of `@iqa-bench/onnx`. */
export interface OnnxModule {
  onnxRuntimeAvailable(): Promise<boolean>;
  openOnnxScorer(
    file: string,
    options?: { executionProviders?: string[]; intraOpThreads?: number },
  ): Promise<OnnxSession>;
  exportCached(
    checkpoint: string,
    options?: { cacheDir?: string; limits?: Partial<ReadLimits & ModelCostLimits> },
  ): Promise<{ file: string; sha256: string; cached: boolean }>;
}

/** The package name, in a variable so that TypeScript and bundlers leave the optional import alone. */
const ONNX_PACKAGE: string = '@iqa-bench/onnx';

/** `@iqa-bench/onnx` (or the package `name`) when it and onnxruntime-node load, else null with the reason. */
export async function loadOnnx(
  name: string = ONNX_PACKAGE,
): Promise<{ module: OnnxModule } | { module: null; why: string }> {
  let mod: OnnxModule;
  try {
    mod = (await import(name)) as OnnxModule;
  } catch (e) {
    return { module: null, why: `${name} is not installed (${(e as Error).message.split('\n')[0]})` };
  }
  if (typeof mod.openOnnxScorer !== 'function' || typeof mod.onnxRuntimeAvailable !== 'function')
    return { module: null, why: `this ${name} has no onnxruntime scorer (openOnnxScorer)` };
  if (!(await mod.onnxRuntimeAvailable().catch(() => false)))
    return { module: null, why: 'onnxruntime-node is not installed or does not load' };
  return { module: mod };
}

/** Whether the onnx runtime can be used here (what `runtime: 'auto'` picks it by). */
export async function onnxAvailable(): Promise<boolean> {
  return (await loadOnnx()).module !== null;
}

export interface OnnxEngineOptions {
  executionProviders?: string[];
  intraOpThreads?: number;
  cacheDir?: string;
  limits?: Partial<ReadLimits & ModelCostLimits>;
  batchSize?: number;
  onLog?: (message: string) => void;
}

/**
 * Opens a `.onnx` checkpoint directly; any other checkpoint is exported to ONNX first (cached by content hash, so the
 * next run opens the cached file at once).
 */
export async function onnxEngine(checkpoint: string, options: OnnxEngineOptions): Promise<Engine> {
  const loaded = await loadOnnx();
  if (loaded.module === null)
    throw new ScorerError(
      `runtime onnx: ${loaded.why}; install them (npm install @iqa-bench/onnx onnxruntime-node) or use runtime tfjs`,
      { code: 'runtime-unavailable' },
    );
  const onnx = loaded.module;
  let file = checkpoint;
  let source = 'onnx';
  if (!isOnnxFile(checkpoint)) {
    const exported = await onnx.exportCached(checkpoint, {
      ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
    });
    file = exported.file;
    source = `exported to ONNX (${exported.cached ? 'cached' : 'new'}: ${exported.file})`;
    options.onLog?.(`${exported.cached ? 'using the cached' : 'exported the'} ONNX model ${exported.file}`);
  }
  const session = await onnx.openOnnxScorer(file, {
    ...(options.executionProviders ? { executionProviders: options.executionProviders } : {}),
    ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
  });
  const result = (s: OnnxScore) => ({
    score: s.score,
    cropScores: s.cropScores,
    origins: s.origins,
    ...(s.fusionWeights ? { fusionWeights: s.fusionWeights } : {}),
  });
  return {
    runtime: 'onnx',
    config: session.config,
    description: `${source}, architecture from the file: ${describeConfig(session.config)}`,
    executionProviders: session.executionProviders,
    onnxFile: session.file,
    scoreImage: async (image, opts) => result(await session.scoreImage(image, opts)),
    blocksMainThread: true,
    async many() {
      // One session batches the crops of consecutive images together (onnxruntime uses every core itself).
      return {
        async scoreImages(items: AsyncIterable<EngineItem>, onResult) {
          const scores = await session.scoreImages(items, {
            onResult: (i, s) => onResult(i, result(s)),
            ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
          });
          return scores.map(result);
        },
        close: async () => undefined,
      };
    },
    close: () => session.close(),
  };
}
