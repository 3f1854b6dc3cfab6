/**
 * Entry point of a ScoringPool worker thread: selects its own backend (wasm is single-threaded per thread), builds the
 * model once, then scores one image per 'score' message with scoreImage.
 */
import { parentPort } from 'node:worker_threads';
import { selectBackend } from '../backend.js';
import { loadCheckpoint } from '../checkpoint.js';
import type { IqaModel } from '../model.js';
import { createModel } from '../model.js';
import { scoreImage } from '../score.js';
import { loadStateDict } from '../weights/load.js';
import * as tf from '@tensorflow/tfjs';
import type { FromWorker, PoolModelSource, ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('workers/worker.js must run in a worker thread (it is started by ScoringPool)');

function send(msg: FromWorker): void {
  port!.postMessage(msg);
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function build(source: PoolModelSource): Promise<IqaModel> {
  if ('checkpoint' in source) {
    return (await loadCheckpoint(source.checkpoint, { strict: source.strict ?? true })).model;
  }
  if ('weights' in source) {
    const model = createModel(source.config, { seed: 0, randomInit: false });
    try {
      loadStateDict(model.params, source.weights, { source: 'ScoringPool weights' });
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }
  return createModel(source.config, { seed: source.seed });
}

let model: IqaModel | null = null;

port.on('message', (msg: ToWorker) => {
  void (async () => {
    switch (msg.type) {
      case 'init': {
        try {
          const backend = await selectBackend(msg.backend);
          model = await build(msg.source);
          send({ type: 'ready', backend, config: model.config });
        } catch (e) {
          send({ type: 'error', id: null, message: errorMessage(e) });
        }
        return;
      }
      case 'score': {
        try {
          if (!model) throw new Error('pool worker: score before init');
          const t0 = performance.now();
          const score = await scoreImage(model, msg.image, msg.options);
          send({
            type: 'result',
            id: msg.id,
            score,
            ms: performance.now() - t0,
            numTensors: tf.memory().numTensors,
          });
        } catch (e) {
          send({ type: 'error', id: msg.id, message: errorMessage(e) });
        }
        return;
      }
      case 'close': {
        model?.dispose();
        model = null;
        port.close();
        return;
      }
    }
  })();
});
