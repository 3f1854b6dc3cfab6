/**
 * A job kind for the tests: it works in steps (each a short sleep), keeps a checkpoint after each step so that a
 * restarted job resumes, appends every start / step / end to a per-job log (the side effects the tests count), and
 * writes a deterministic output file at the end.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '@iqa-bench/core/fs';
import { z } from 'zod';
import type { JobKindRegistry } from '../jobs.js';

export const TEST_KIND = 'test-write';

export const testPayload = z.strictObject({
  text: z.string().max(1000),
  steps: z.number().int().min(1).max(100),
  stepMs: z.number().int().min(0).max(5000),
  /** Blocks the event loop this long before the first step of attempt 1 (no lock renewal meanwhile). */
  blockMs: z.number().int().min(0).max(10_000).optional(),
});
export type TestPayload = z.infer<typeof testPayload>;

/** The output a job of this kind writes: a pure function of its payload. */
export function expectedOutput(p: TestPayload): string {
  return `${p.text}\n`.repeat(p.steps);
}

export function registerTestKind(registry: JobKindRegistry): void {
  registry.register(
    TEST_KIND,
    testPayload,
    async (p, ctx) => {
      await mkdir(dirname(ctx.paths.log), { recursive: true });
      const log = (line: string) => appendFile(ctx.paths.log, `${line} ${process.pid}\n`);
      const ckpt = `${ctx.paths.out}.ckpt`;
      let from = 0;
      try {
        from = Number((await readFile(ckpt, 'utf8')).trim());
      } catch {
        from = 0;
      }
      await log(`start attempt=${ctx.attempt} from=${from}`);
      if (ctx.attempt === 1 && p.blockMs !== undefined) {
        const until = Date.now() + p.blockMs;
        while (Date.now() < until); // synchronous on purpose: nothing else runs, the job lock is not renewed
      }
      for (let step = from; step < p.steps; step++) {
        await new Promise((resolve) => setTimeout(resolve, p.stepMs));
        if (ctx.signal.aborted) {
          await log(`stop step=${step}`);
          throw new Error('stopped');
        }
        await writeFileAtomic(ckpt, `${step + 1}\n`);
        await log(`step ${step + 1}`);
      }
      const text = expectedOutput(p);
      await writeFileAtomic(ctx.paths.out, text);
      await log('done');
      return { sha256: createHash('sha256').update(text).digest('hex'), bytes: Buffer.byteLength(text) };
    },
    { paths: ['out', 'log'] },
  );
}
