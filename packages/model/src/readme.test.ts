/**
 * The README's examples, each run by Node in a child process against the built package (as after `npm install`),
 * printing exactly the ```text block shown after it.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tools/testing/readme-example.js';

const readme = join(import.meta.dirname, '..', 'README.md');

const require = createRequire(import.meta.url);
function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

describe('README examples', () => {
  it('SMART-IQA and HyperIQA: forward, scoreImage and lossGradients, leaving no tensor behind', async () => {
    const { output, expected } = await runReadmeExample(readme, {
      after: '## SMART-IQA and HyperIQA',
      append: "console.log('tensors left', tf.memory().numTensors);",
    });
    expect(output).toBe(`${expected}\ntensors left 0`);
  }, 120_000);

  it('selectBackend prints what is shown (on a machine without tfjs-node)', async () => {
    const { output, expected } = await runReadmeExample(readme, { after: '### Choosing a backend' });
    if (installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu')) {
      expect(output).toMatch(/^tensorflow /);
    } else {
      expect(output).toBe(expected);
    }
  }, 60_000);

  it('ScoringPool: workers give the sequential scores', async () => {
    const { output, expected } = await runReadmeExample(readme, {
      after: '### Scoring many images on both cores',
    });
    expect(output).toBe(expected);
  }, 240_000);

  it('Weights and checkpoints: safetensors and TF.js round trips', async () => {
    const { output, expected } = await runReadmeExample(readme, { after: '## Weights and checkpoints' });
    expect(output).toBe(expected);
  }, 120_000);
});
