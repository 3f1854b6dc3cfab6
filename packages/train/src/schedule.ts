/**
 * Learning-rate schedules, evaluated in closed form from (epoch, optimizer step) so that a resumed run gets exactly
 * the LRs of an uninterrupted one. Epoch-level schedules change the LR once per epoch, as the original
 * (torch schedulers stepped after each epoch); warm-up is per optimizer step.
 */
import type { ScheduleConfig } from './config.js';

export interface LrQuery {
  /** The group's base LR. */
  base: number;
  /** `backbone` or `head` (the step schedule may decay only the head). */
  group: string;
  /** 0-based epoch. */
  epoch: number;
  /** 0-based optimizer step (counted over the whole run) for warm-up. */
  step: number;
  /** Number of epochs of the run (cosine T_max default). */
  epochs: number;
}

/**
 * The LR of one group. Cosine is torch CosineAnnealingLR's closed form
 * `eta + (base - eta) (1 + cos(pi t / T)) / 2`, with `eta` per `etaMinMode`:
 * `relative` etaMin x base, `absolute` etaMin (the original's quirk when etaMin > base: the LR rises),
 * `absolute-clamped` min(etaMin, base).
 */
export function learningRate(schedule: ScheduleConfig, q: LrQuery): number {
  let lr: number;
  switch (schedule.kind) {
    case 'constant':
      lr = q.base;
      break;
    case 'step':
      lr =
        schedule.groups === 'all' || q.group !== 'backbone'
          ? q.base * schedule.gamma ** Math.floor(q.epoch / schedule.stepSize)
          : q.base;
      break;
    case 'cosine': {
      const T = schedule.tMax ?? q.epochs;
      const eta =
        schedule.etaMinMode === 'relative'
          ? schedule.etaMin * q.base
          : schedule.etaMinMode === 'absolute'
            ? schedule.etaMin
            : Math.min(schedule.etaMin, q.base);
      lr = eta + ((q.base - eta) * (1 + Math.cos((Math.PI * q.epoch) / T))) / 2;
      break;
    }
  }
  if (schedule.warmupSteps > 0 && q.step < schedule.warmupSteps) lr *= (q.step + 1) / schedule.warmupSteps;
  return lr;
}
