/**
 * `@iqa-bench/onnx/browser`: no Node import anywhere in its module graph, and in onnxruntime-web's Node build (its
 * WebAssembly backend) the same scores as the onnxruntime-node scorer within 1e-5, from bytes and from a URL, with the
 * same checks of bad files and providers.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importGraph } from '../../../tools/testing/import-graph.js';
import * as browser from './browser.js';
import { openOnnxScorer, type OnnxScorer } from './index.js';
import { exportedFile, maxAbs, normalizedImage, referenceModel, spread } from './__tests__/helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
describe('the module graph', () => {
  it('has no Node import (its one @iqa-bench import is @iqa-bench/model/browser, Node-free itself)', () => {
    const { modules, external } = importGraph(here, 'browser.ts');
    expect(external).toEqual(['@iqa-bench/model/browser', 'onnx-proto', 'onnxruntime-web']);
    expect(modules).toEqual(['browser.ts', 'contract.ts', 'errors.ts', 'model-info.ts', 'scorer-core.ts']);
  });

  it('the walk sees Node imports where there are some', () => {
    expect(importGraph(here, 'index.ts').external).toEqual(
      expect.arrayContaining(['node:os', 'node:crypto', 'node:fs/promises', 'onnxruntime-node']),
    );
  });

  it('exports the scorer and the contract, not the exporter', () => {
    expect(Object.keys(browser).sort()).toEqual([
      'BATCH_DIM',
      'EXPORTER_VERSION',
      'FUSION_WEIGHTS_OUTPUT',
      'INPUT_NAME',
      'MAX_BROWSER_ONNX_BYTES',
      'METADATA_KEYS',
      'ONNX_IR_VERSION',
      'ONNX_OPSET',
      'OnnxModelError',
      'PRODUCER_NAME',
      'SCORE_OUTPUT',
      'openOnnxScorer',
      'readModelInfo',
    ]);
  });
});

describe('onnxruntime-web (its Node build, WebAssembly) against onnxruntime-node', () => {
  let file: string;
  let bytes: Uint8Array;
  let remove: () => void;
  let node: OnnxScorer;
  let server: Server;
  let url: string;
  const items = [
    { image: normalizedImage(250, 240, 5), options: { crops: 3, mode: 'random' as const, seed: 4 } },
    { image: normalizedImage(224, 224, 6) },
    { image: normalizedImage(300, 230, 7), options: { crops: 2, mode: 'grid' as const } },
  ];

  beforeAll(async () => {
    const model = await referenceModel('micro-attention');
    const out = await exportedFile(model, { checkpointSha256: 'cd'.repeat(32) });
    model.dispose();
    ({ file, remove } = out);
    bytes = readFileSync(file);
    node = await openOnnxScorer(file, { intraOpThreads: 1 });
    server = createServer((req, res) => {
      if (req.url === '/model.onnx') res.end(bytes);
      else if (req.url === '/short.onnx') res.end(bytes.subarray(0, 20_000));
      else res.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await node.close();
    await new Promise((done) => server.close(done));
    remove();
  });

  it('from bytes: the same scores and fusion weights within 1e-5, crops batched across images', async () => {
    const web = await browser.openOnnxScorer(bytes, { name: 'micro.onnx' });
    expect(web.file).toBe('micro.onnx');
    expect(web.executionProviders).toEqual(['wasm']);
    expect(web.config).toEqual(node.config);
    expect(web.checkpointSha256).toBe('cd'.repeat(32));
    const want = await node.scoreImages(items, { batchSize: 4 });
    const got = await web.scoreImages(items, { batchSize: 4 });
    expect(spread(want.flatMap((r) => r.cropScores))).toBeGreaterThan(1e-3);
    for (let i = 0; i < items.length; i++) {
      expect(got[i].origins).toEqual(want[i].origins);
      expect(maxAbs(got[i].cropScores, want[i].cropScores)).toBeLessThan(1e-5);
      expect(maxAbs(got[i].fusionWeights!, want[i].fusionWeights!)).toBeLessThan(1e-5);
    }
    const one = await web.scoreImage(items[0].image, { ...items[0].options, batchSize: 1 });
    expect(maxAbs(one.cropScores, want[0].cropScores)).toBeLessThan(1e-5);
    await web.close();
  });

  it('from a URL', async () => {
    const web = await browser.openOnnxScorer(`${url}/model.onnx`);
    expect(web.file).toBe(`${url}/model.onnx`);
    const [want] = await node.scoreImages([items[1]]);
    const got = await web.scoreImage(items[1].image);
    expect(Math.abs(got.score - want.score)).toBeLessThan(1e-5);
    await web.close();
  });

  it('bad files and providers: OnnxModelError naming the file or provider', async () => {
    const fail = async (
      ...args: Parameters<typeof browser.openOnnxScorer>
    ): Promise<browser.OnnxModelError> => {
      const err: unknown = await browser.openOnnxScorer(...args).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(browser.OnnxModelError);
      return err as browser.OnnxModelError;
    };
    const short = await fail(`${url}/short.onnx`);
    expect(short.file).toBe(`${url}/short.onnx`);
    expect(short.message).toMatch(/short\.onnx: not a readable ONNX model \(truncated or corrupt/);
    const missing = await fail(`${url}/nothing.onnx`);
    expect(missing.message).toBe(`${url}/nothing.onnx: could not be fetched (HTTP 404 Not Found)`);
    const big = await fail(bytes, { maxBytes: 1000 });
    expect(big.message).toBe(`model.onnx: the model is ${bytes.byteLength} bytes, expected at most 1000`);
    const provider = await fail(bytes, { executionProviders: ['cuda'] });
    expect(provider.provider).toBe('cuda');
    expect(provider.message).toMatch(/^execution provider 'cuda' could not be used: .*backend not found/);
  });
});
