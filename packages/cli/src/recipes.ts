import type { BackendPreference } from '@iqa-bench/model';
import type { TrainConfigInput } from '@iqa-bench/train';

/** Epochs of the synthetic recipe. */
export const SYNTHETIC_EPOCHS = 12;
/** Reference scenes of the synthetic training set (`iqa-bench synth --refs`). */
export const SYNTHETIC_REFS = 24;

/**
 * The training of `demo` and `train --recipe synthetic` — the CI learning gate's configuration (as
 * bench/train-synthetic.mjs imports it from here): a small HyperIQA (ResNet with one bottleneck block per stage, base width 8, and a small
 * head) trained from its seeded initialisation with the PLCC loss, AdamW, cosine with warm-up, one random crop per image and epoch, selection on a validation part carved
 * from training (never the test part), a reference-disjoint 60/20/20 split.
 */
export function syntheticRecipe(
  root: string,
  flags: { seed: number; epochs: number; backend: BackendPreference },
): TrainConfigInput {
  return {
    seed: flags.seed,
    backend: flags.backend,
    dataset: { kind: 'kadid10k', root, split: { train: 0.6, val: 0.2 }, selectOn: 'val', preprocess: 'none' },
    model: {
      preset: 'hyperiqa-resnet50',
      backbone: { layers: [1, 1, 1, 1], baseWidth: 8 },
      head: {
        ldaOut: 4,
        hyperInChannels: 16,
        targetInSize: 28,
        targetFc: [14, 14, 7, 7],
        conv1Hidden: [32, 24],
      },
    },
    optimizer: { kind: 'adamw', lr: 2e-3, lrRatio: 1, weightDecay: 1e-4, clipGradNorm: 1 },
    schedule: { kind: 'cosine', etaMin: 0.1, warmupSteps: 10 },
    loss: { kind: 'plcc' },
    patches: { train: 1, test: 2, size: 224 },
    memory: { microBatchSize: 8, evalBatchSize: 16 },
    earlyStopping: { patience: 100 },
    training: { epochs: flags.epochs, batchSize: 8 },
  };
}
