import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tools/testing/readme-example.js';

const readme = join(import.meta.dirname, '..', 'README.md');

describe('README examples run against the built package and print what the README shows', () => {
  it('counting a small forward', async () => {
    const { output, expected } = await runReadmeExample(readme);
    expect(output).toBe(expected);
  }, 120_000);

  it('analysing smart-iqa-tiny against the published figures', async () => {
    const { output, expected } = await runReadmeExample(readme, { index: 1 });
    expect(output).toBe(expected);
  }, 180_000);
});
