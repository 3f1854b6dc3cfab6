import type { BackendPreference } from '@iqa-bench/model';
import type { TrainConfigInput } from '@iqa-bench/train';

/** Epochs of the synthetic recipe. */
export const SYNTHETIC_EPOCHS = 16;
/** Reference scenes of the synthetic training set (`iqa-bench synth --refs`): 25 distorted images each. */
export const SYNTHETIC_REFS = 96;
/** Image size of the synthetic training set (`iqa-bench synth --size`); the recipe cuts 128-pixel patches. */
export const SYNTHETIC_SIZE: [number, number] = [160, 160];

/**
 * The training of `demo` and `train --recipe synthetic` — the CI learning gate's configuration (as
 * bench/train-synthetic.mjs imports it from here): a small HyperIQA (ResNet with one bottleneck block per stage, base
 * width 8, and a small head) on 128-pixel patches, trained from its seeded initialisation with the PLCC loss, AdamW
 * (head at 10x the backbone's learning rate, as the original's lr_ratio), cosine with warm-up, batches of 16 as two
 * micro-batches of 8 on two worker threads (BatchNorm statistics per micro-batch; the numbers do not depend on the
 * worker count), one random crop per image and epoch (four per evaluated image), selection on a validation part
 * carved from training (never the test part), a reference-disjoint 70/10/20 split.
 */
export function syntheticRecipe(
  root: string,
  flags: { seed: number; epochs: number; backend: BackendPreference },
): TrainConfigInput {
  return {
    seed: flags.seed,
    backend: flags.backend,
    dataset: { kind: 'kadid10k', root, split: { train: 0.7, val: 0.1 }, selectOn: 'val', preprocess: 'none' },
    model: {
      preset: 'hyperiqa-resnet50',
      backbone: { layers: [1, 1, 1, 1], baseWidth: 8 },
      head: {
        ldaOut: 4,
        hyperInChannels: 16,
        targetInSize: 28,
        targetFc: [16, 16, 8, 8],
        conv1Hidden: [32, 24],
      },
    },
    optimizer: { kind: 'adamw', lr: 3e-3, lrRatio: 10, weightDecay: 1e-4, clipGradNorm: 1 },
    schedule: { kind: 'cosine', etaMin: 0.1, warmupSteps: 10 },
    loss: { kind: 'plcc' },
    patches: { train: 1, test: 4, size: 128 },
    memory: { microBatchSize: 8, evalBatchSize: 16, workers: 2 },
    earlyStopping: { patience: 100 },
    training: { epochs: flags.epochs, batchSize: 16 },
  };
}
