/** Runs the trainer on the toy model/data (used by train.test.ts in-process and as a child process for kill tests). */
import * as tf from '@tensorflow/tfjs';
import { parseTrainConfig, type TrainConfig, type TrainConfigInput } from '../config.js';
import { createProgress } from '../run/progress.js';
import type { RunSummary } from '../run-folder/summary.js';
import { train, type StepInfo, type TrainOptions } from '../trainer/train.js';
import { TOY_SIZE, toyImageSet, toyModel } from './toy.js';

export function toyConfig(over: Partial<TrainConfigInput> = {}): TrainConfig {
  return parseTrainConfig({
    seed: 11,
    backend: 'cpu',
    dataset: { kind: 'csv', root: '-', selectOn: 'val' },
    model: { preset: 'toy', dropoutRate: 0.2 },
    optimizer: { lr: 0.1, lrRatio: 1.5, weightDecay: 1e-3, clipGradNorm: 1 },
    schedule: { kind: 'cosine', etaMin: 0.1 },
    loss: { kind: 'l2' },
    patches: { train: 2, test: 3, size: TOY_SIZE },
    earlyStopping: { patience: 10 },
    memory: { microBatchSize: 4, evalBatchSize: 12 },
    training: { epochs: 3, batchSize: 8 },
    ...over,
  });
}

export async function setBackend(name: string): Promise<void> {
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend(name);
  await tf.ready();
}

export async function runToy(
  cfg: TrainConfig,
  runDir: string,
  onStep?: (s: StepInfo) => void,
  onLine?: (line: string) => void,
  over: Partial<TrainOptions> = {},
): Promise<RunSummary> {
  const quiet = createProgress({ mode: 'quiet' });
  return train({
    config: cfg,
    runDir,
    data: {
      train: toyImageSet(24, 1, 'tr', 'train'),
      select: toyImageSet(10, 2, 'va'),
      test: toyImageSet(12, 3, 'te'),
    },
    createModel: ({ seed }) => toyModel(seed, cfg.model.dropoutRate ?? 0),
    progress: onLine === undefined ? quiet : { ...quiet, line: onLine },
    onStep,
    ...over,
  });
}

// child-process mode: `node --import tsx toy-run.ts <runDir> <backend> <configJson>`
if (
  process.argv[1] &&
  import.meta.url.endsWith(process.argv[1].split('/').pop() as string) &&
  process.argv.length >= 5
) {
  const [runDir, backend, cfgJson] = process.argv.slice(2);
  await setBackend(backend);
  await runToy(parseTrainConfig(JSON.parse(cfgJson)), runDir, (s) => {
    process.stdout.write(`step ${s.round} ${s.epoch} ${s.step}\n`);
  });
  process.stdout.write('done\n');
}
