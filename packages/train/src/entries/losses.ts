/** `@iqa-bench/train/losses`: the training losses (L1, L2, PLCC, rank, fidelity, margin ranking) on a batch. */
export {
  averageRanks,
  computeLoss,
  fidelityLoss,
  isSampleDecomposable,
  l1Loss,
  l2Loss,
  marginRankingLoss,
  plccLoss,
  rankLoss,
  spearmanLoss,
} from '../losses.js';
