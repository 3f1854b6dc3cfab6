import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../../tools/testing/readme-example.js';

it('the README example (a study planned, run and run again) runs against the built package as shown', async () => {
  const { output, expected } = await runReadmeExample(join(import.meta.dirname, '..', '..', 'README.md'), {
    timeoutMs: 240_000,
  });
  expect(output).toBe(expected);
}, 300_000);
