/**
 * Image preparation on a worker thread. onnxruntime-node runs a session synchronously on the main thread, so while a
 * batch runs nothing on the main thread moves: images prepared there would wait for it, and the model for them. On
 * this thread they are decoded, resized and normalised while the model runs.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ScoreImageOptions } from '@iqa-bench/model';
import type { Preparation, PreparedImage } from './images.js';

export interface PrepareRequest {
  id: number;
  input: string | Uint8Array;
  preparation: Preparation;
  crops: ScoreImageOptions;
}

export type PrepareReply = { id: number; prepared: PreparedImage } | { id: number; error: string };

/** The worker entry beside this file (`.js` in the build; in the sources, `.ts` through tsx's loader, for tests). */
function spawn(): Worker {
  const js = new URL('./prepare-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js);
  const ts = new URL('./prepare-worker.ts', import.meta.url).href;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); });`;
  return new Worker(code, { eval: true });
}

/** One preparation thread: `prepare` as prepareImage, in order; `close` ends the thread. */
export class PrepareThread {
  private readonly worker = spawn();
  private readonly pending = new Map<
    number,
    { resolve: (p: PreparedImage) => void; reject: (e: Error) => void }
  >();
  private next = 0;
  private failure: Error | null = null;

  constructor() {
    this.worker.on('message', (r: PrepareReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if ('error' in r) p.reject(new Error(r.error));
      else p.resolve(r.prepared);
    });
    const fail = (e: Error): void => {
      this.failure = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (this.pending.size > 0) fail(new Error(`the image preparation thread ended (exit code ${code})`));
    });
  }

  prepare(
    input: string | Uint8Array,
    preparation: Preparation,
    crops: ScoreImageOptions,
  ): Promise<PreparedImage> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    return new Promise<PreparedImage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, input, preparation, crops } satisfies PrepareRequest);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
