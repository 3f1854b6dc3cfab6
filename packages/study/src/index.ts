/**
 * @iqa-bench/study — ablation and sensitivity studies declared once (a study file: a base training config, named
 * variants, seeds, datasets, one shared split), run locally or spread over machines through a BullMQ queue, and
 * reported with the statistics a reviewer asks for.
 */
export const PACKAGE_NAME = '@iqa-bench/study';
export * from './queue/index.js';
export * from './report/index.js';
export * from './study/index.js';
