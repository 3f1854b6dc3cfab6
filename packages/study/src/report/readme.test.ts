import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../../tools/testing/readme-example.js';

it('the README example of "Report" runs against the built package as shown', async () => {
  const { output, expected } = await runReadmeExample(join(import.meta.dirname, '..', '..', 'README.md'), {
    after: '## Report',
    timeoutMs: 60_000,
  });
  expect(output).toBe(expected);
}, 90_000);
