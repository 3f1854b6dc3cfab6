import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../tools/testing/readme-example.js';

it('the README example runs against the built package and prints what the README shows', async () => {
  const { output, expected } = await runReadmeExample(join(import.meta.dirname, '..', 'README.md'));
  expect(output).toBe(expected);
});
