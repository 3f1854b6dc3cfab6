/**
 * @iqa-bench/study — ablation and sensitivity studies declared once (a study file: a base training config, named
 * variants, seeds, datasets, one shared split), run locally or spread over machines through a BullMQ queue, and
 * reported with the statistics a reviewer asks for.
 *
 * The queue layer itself (BullMQ on Redis or PostgreSQL, job envelopes confined to a worker's root, the PostgreSQL
 * server from npm) is the `./queue` entry; this entry has the study-run job kind that uses it.
 */
export * from './report/index.js';
export * from './study/index.js';
