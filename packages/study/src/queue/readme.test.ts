import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../../tools/testing/readme-example.js';

const readmePath = join(import.meta.dirname, '..', '..', 'README.md');

it('the README example of "Running on several machines" runs against the built package as shown', async () => {
  const readme = readFileSync(readmePath, 'utf8');
  const section = readme.indexOf('## Running on several machines');
  const example = readme.indexOf('```js\n', section);
  expect(section).toBeGreaterThan(0);
  const index = readme.slice(0, example).split('```js\n').length - 1;
  const { output, expected } = await runReadmeExample(readmePath, { index, timeoutMs: 60_000 });
  expect(output).toBe(expected);
}, 90_000);
