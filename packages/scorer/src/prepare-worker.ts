/**
 * The preparation thread's entry (started by PrepareThread): decodes, resizes and normalises images off the main
 * thread, one at a time in the order asked, and transfers each result's pixels back.
 */
import { parentPort } from 'node:worker_threads';
import { prepareImage } from './images.js';
import type { PrepareReply, PrepareRequest } from './prepare-thread.js';

if (!parentPort)
  throw new Error('prepare-worker.js must run in a worker thread (it is started by PrepareThread)');
const port = parentPort;
let queue: Promise<void> = Promise.resolve();
port.on('message', (m: PrepareRequest) => {
  queue = queue.then(async () => {
    let reply: PrepareReply;
    try {
      const p = await prepareImage(m.input, m.preparation, m.crops);
      reply = { id: m.id, prepared: p };
      port.postMessage(reply, [p.image.data.buffer as ArrayBuffer]);
    } catch (e) {
      reply = { id: m.id, error: e instanceof Error ? e.message : String(e) };
      port.postMessage(reply);
    }
  });
});
