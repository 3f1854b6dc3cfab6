/**
 * Entry point of every replica worker thread (started by ReplicaPool): selects its own backend (wasm is
 * single-threaded per thread), builds one model replica from its source, imports the handler module named in the
 * init message and serves the requests one at a time, in the order they arrive.
 */
import { parentPort } from 'node:worker_threads';
import { selectBackend } from '../backend.js';
import type { IqaModel } from '../model.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { buildReplica, isReplicaHandler, Transfer, type ReplicaHandler } from './runtime.js';

const port = parentPort;
if (!port)
  throw new Error('workers/replica-worker.js must run in a worker thread (it is started by ReplicaPool)');

function fail(id: number | null, e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  const msg: FromWorker = {
    type: 'error',
    id,
    name: err.name,
    message: err.message,
    stack: err.stack ?? `${err.name}: ${err.message}`,
  };
  port!.postMessage(msg);
}

let model: IqaModel | null = null;
let handler: ReplicaHandler<unknown> | null = null;
let state: unknown = null;

async function serve(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'init': {
      try {
        const backend = await selectBackend(msg.backend);
        const mod = (await import(msg.handler)) as { default?: unknown };
        if (!isReplicaHandler(mod.default)) {
          throw new Error(
            `${msg.handler}: the default export is not a replica handler (defineReplicaHandler)`,
          );
        }
        handler = mod.default;
        model = await buildReplica(msg.source);
        state = handler.setup ? await handler.setup(model) : model;
        const params = model.params.list().map((e) => e.name);
        const ready: FromWorker = { type: 'ready', backend, config: model.config, params };
        port!.postMessage(ready);
      } catch (e) {
        fail(null, e);
      }
      return;
    }
    case 'request': {
      try {
        if (!handler) throw new Error('replica worker: request before init');
        const fn = Object.hasOwn(handler.requests, msg.kind) ? handler.requests[msg.kind] : undefined;
        if (!fn) throw new Error(`replica worker: the handler has no request '${msg.kind}'`);
        const out = await fn(state as never, msg.payload as never);
        const [value, transfer] = Transfer.is(out) ? [out.value, out.list] : [out, []];
        const reply: FromWorker = { type: 'reply', id: msg.id, value };
        port!.postMessage(reply, transfer as ArrayBuffer[]);
      } catch (e) {
        fail(msg.id, e);
      }
      return;
    }
    case 'close': {
      try {
        handler?.dispose?.(state as never);
      } finally {
        model?.dispose();
        model = null;
        port!.close();
      }
      return;
    }
  }
}

// One message at a time: a request never overtakes an earlier one (a training job after its parameters).
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  queue = queue.then(() => serve(msg));
});
