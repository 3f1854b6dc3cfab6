/** A replica handler for runtime.test.ts: reads the replica's weights, echoes, fails, keeps state, and exits. */
import type { IqaModel } from '../../model.js';
import { defineReplicaHandler, withTransfer } from '../runtime.js';

interface Probe {
  model: IqaModel;
  stored: number;
}

export default defineReplicaHandler({
  setup: (model: IqaModel): Probe => ({ model, stored: 0 }),
  requests: {
    /** The replica's values of parameter `name`, moved to the main thread. */
    weights(p: Probe, name: string) {
      const values = p.model.params.get(name).dataSync() as Float32Array;
      return withTransfer(values, [values.buffer as ArrayBuffer]);
    },
    /** The sum of the payload (whose buffer the main thread may have moved here). */
    sum(_: Probe, x: Float32Array): number {
      return x.reduce((a, b) => a + b, 0);
    },
    /** Stores `v` after a delay: a later request must still see it. */
    async store(p: Probe, v: number): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, 50));
      p.stored = v;
    },
    stored: (p: Probe): number => p.stored,
    fail(_: Probe, what: string): never {
      throw new RangeError(`probe refuses ${what}`);
    },
    exit(_: Probe, code: number): void {
      process.exit(code);
    },
  },
});
