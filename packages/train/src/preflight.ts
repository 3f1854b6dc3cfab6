/**
 * Everything a training run checks before its first step, without writing anything: what `runTraining` runs first
 * and what a dry run (`iqa-bench train --dry-run`) reports.
 */
import { statSync } from 'node:fs';
import { loadDataset, type IqaDataset } from '@iqa-bench/data';
import {
  DEFAULT_MODEL_COST_LIMITS,
  estimateModelCost,
  selectBackend,
  validateModelConfig,
  type BackendSelection,
} from '@iqa-bench/model';
import { ConfigError, type TrainConfig } from './config.js';
import { roundsOf } from './data.js';
import { modelConfigOf } from './model.js';
import { planRunFolder, type FolderPlan } from './run/folder.js';
import { epochBatches, type EpochBatches } from './trainer/batches.js';

export interface TrainingCheck {
  runDir: string;
  /** What the run does with its folder: make it, start in it, resume the run in it, or start over (`startOver`). */
  folder: FolderPlan;
  /** The backend the config's `backend` selected. */
  backend: BackendSelection;
  /** The model the config builds: its parameters and estimated bytes (@iqa-bench/model's estimate). */
  model: { preset: string; params: number; bytes: number };
  /** Each round's parts and steps per epoch. */
  rounds: {
    round: number;
    n: { train: number; select: number; test: number | null };
    stepsPerEpoch: number;
    smallLastBatch: EpochBatches['smallLast'];
  }[];
}

function modelProblem(field: string, message: string): ConfigError {
  return new ConfigError(`${field}: ${message}`, [`${field}: ${message}`]);
}

/** The model of `cfg`: preset and overrides, architecture, size within @iqa-bench/model's limits, weights file. */
function checkModel(cfg: TrainConfig): TrainingCheck['model'] {
  const mc = modelConfigOf(cfg);
  try {
    validateModelConfig(mc);
  } catch (err) {
    throw modelProblem('model', (err as Error).message);
  }
  const cost = estimateModelCost(mc);
  const lim = DEFAULT_MODEL_COST_LIMITS;
  if (cost.params > lim.maxParams || cost.totalBytes > lim.maxModelBytes) {
    throw modelProblem(
      'model.backbone',
      `the model would have ${cost.params.toExponential(3)} parameters and need ${(cost.totalBytes / 2 ** 30).toFixed(1)} GiB, over the limits (${lim.maxParams.toExponential(0)} parameters, ${lim.maxModelBytes / 2 ** 30} GiB)`,
    );
  }
  const w = cfg.model.initWeights;
  if (w !== null) {
    let isFile = false;
    try {
      isFile = statSync(w).isFile();
    } catch {
      throw modelProblem('model.initWeights', `${w}: file not found`);
    }
    if (!isFile) throw modelProblem('model.initWeights', `${w}: not a file`);
  }
  return { preset: cfg.model.preset, params: cost.params, bytes: cost.totalBytes };
}

/** checkTraining, and the dataset it loaded (runTraining trains on it). */
export async function prepareTraining(
  cfg: TrainConfig,
  runDir: string,
  opts: { startOver?: boolean } = {},
): Promise<{ check: TrainingCheck; dataset: IqaDataset }> {
  const model = checkModel(cfg);
  const folder = planRunFolder(runDir, cfg, opts.startOver ?? false);
  const backend = await selectBackend(cfg.backend);
  const dataset = await loadDataset(cfg.dataset.kind, cfg.dataset.root, cfg.dataset.load);
  const rounds: TrainingCheck['rounds'] = [];
  const dataOf = roundsOf(cfg, dataset);
  for (let r = 0; r < cfg.training.rounds; r++) {
    const d = await dataOf(r);
    const batches = epochBatches(cfg, d.train.ids.length * cfg.patches.train);
    rounds.push({
      round: r,
      n: { train: d.train.ids.length, select: d.select.ids.length, test: d.test?.ids.length ?? null },
      stepsPerEpoch: batches.bounds.length,
      smallLastBatch: batches.smallLast,
    });
  }
  return { check: { runDir, folder, backend, model, rounds }, dataset };
}

/**
 * Checks what a run of `cfg` in `runDir` would check before its first step, writing nothing: the model (preset,
 * overrides, architecture, size, initial weights file), the run folder (writable; a run of another config is a
 * RunConflictError naming the differing fields unless `startOver`), the backend, and the dataset with the split of
 * every round (parts large enough to measure). Throws the error the run would throw; otherwise says what the run
 * would do.
 */
export async function checkTraining(
  cfg: TrainConfig,
  runDir: string,
  opts: { startOver?: boolean } = {},
): Promise<TrainingCheck> {
  return (await prepareTraining(cfg, runDir, opts)).check;
}
