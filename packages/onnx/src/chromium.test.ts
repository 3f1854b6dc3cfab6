/**
 * `@iqa-bench/onnx/browser` in a real headless browser: the entry is bundled for the browser by esbuild (which fails on
 * any Node import), served with onnxruntime-web's WebAssembly files and a micro model over HTTP, and run in the
 * system's Chromium (Debian's `chromium` package, driven by playwright-core). Its scores equal the onnxruntime-node
 * scorer's within 1e-5. Skipped where no Chromium is installed (CHROMIUM_PATH names another one).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreImageOptions } from '@iqa-bench/model';
import { openOnnxScorer, type OnnxImageScore } from './index.js';
import { exportedFile, maxAbs, normalizedImage, referenceModel, spread } from './__tests__/helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => p !== undefined && p !== '' && existsSync(p),
);
// onnxruntime-web's entry for Node, dist/ort.node.min.js: its folder holds the .wasm files
const ortDist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));

interface Spec {
  width: number;
  height: number;
  seed: number;
  options?: ScoreImageOptions;
}

const specs: Spec[] = [
  { width: 250, height: 240, seed: 5, options: { crops: 3, mode: 'random', seed: 4 } },
  { width: 224, height: 224, seed: 6 },
  { width: 300, height: 230, seed: 7, options: { crops: 2, mode: 'grid' } },
];

/** The page's module: builds the same images and scores them with the browser entry. */
const pageSource = `
import { env } from 'onnxruntime-web';
import { openOnnxScorer } from './browser.ts';
import { normalizedImage } from './__tests__/images.ts';
env.wasm.wasmPaths = '/ort/';
globalThis.hasWebGpu = () => 'gpu' in navigator;
globalThis.scoreInPage = async (specs, executionProviders) => {
  const scorer = await openOnnxScorer('/model.onnx', executionProviders ? { executionProviders } : {});
  const items = specs.map((s) => ({ image: normalizedImage(s.width, s.height, s.seed), options: s.options }));
  const results = await scorer.scoreImages(items, { batchSize: 4 });
  const out = { file: scorer.file, config: scorer.config, providers: scorer.executionProviders, results };
  await scorer.close();
  return out;
};
globalThis.pageReady = true;
`;

describe.skipIf(executablePath === undefined)('in headless Chromium', () => {
  let server: Server;
  let url: string;
  let browser: Browser;
  let remove: () => void;
  let want: OnnxImageScore[];
  let bundle: string;

  beforeAll(async () => {
    const model = await referenceModel('micro-attention');
    const out = await exportedFile(model);
    model.dispose();
    remove = out.remove;
    const bytes = readFileSync(out.file);
    const node = await openOnnxScorer(out.file, { intraOpThreads: 1 });
    want = await node.scoreImages(
      specs.map((s) => ({ image: normalizedImage(s.width, s.height, s.seed), options: s.options })),
      { batchSize: 4 },
    );
    await node.close();

    const built = await build({
      stdin: { contents: pageSource, resolveDir: here, loader: 'ts', sourcefile: 'page.ts' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    bundle = built.outputFiles[0].text;

    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const ort = /^\/ort\/(ort-wasm[\w.-]*\.(?:wasm|mjs))$/.exec(path);
      if (path === '/') {
        res.setHeader('content-type', 'text/html');
        res.end('<!doctype html><script type="module" src="/page.js"></script>');
      } else if (path === '/page.js') {
        res.setHeader('content-type', 'text/javascript');
        res.end(bundle);
      } else if (path === '/model.onnx') {
        res.end(bytes);
      } else if (ort && existsSync(join(ortDist, ort[1]))) {
        res.setHeader('content-type', ort[1].endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        res.end(readFileSync(join(ortDist, ort[1])));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => server?.close(done));
    remove?.();
  });

  it('the bundle has no Node import (esbuild for the browser resolved every import)', () => {
    expect(bundle.length).toBeGreaterThan(100_000);
    expect(bundle).not.toMatch(/from\s*["']node:/);
  });

  it.each([
    ['wasm', ['wasm']],
    ['the default providers', null],
  ] as const)(
    '%s: scores as the onnxruntime-node scorer does, within 1e-5',
    { timeout: 180_000 },
    async (_name, providers) => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${url}/`);
      await page.waitForFunction(() => (globalThis as { pageReady?: boolean }).pageReady === true);
      const got = await page.evaluate(
        ([s, p]) =>
          (
            globalThis as unknown as {
              scoreInPage: (
                s: unknown,
                p: readonly string[] | null,
              ) => Promise<{
                file: string;
                providers: string[];
                results: OnnxImageScore[];
              }>;
            }
          ).scoreInPage(s, p),
        [specs, providers] as const,
      );
      const gpu = await page.evaluate(() =>
        (globalThis as unknown as { hasWebGpu: () => boolean }).hasWebGpu(),
      );
      expect(errors).toEqual([]);
      expect(got.file).toBe('/model.onnx');
      expect(got.providers).toEqual(providers ?? (gpu ? ['webgpu', 'wasm'] : ['wasm']));
      expect(got.results).toHaveLength(specs.length);
      expect(spread(want.flatMap((r) => r.cropScores))).toBeGreaterThan(1e-3);
      for (let i = 0; i < specs.length; i++) {
        expect(got.results[i].origins).toEqual(want[i].origins);
        expect(maxAbs(got.results[i].cropScores, want[i].cropScores)).toBeLessThan(1e-5);
        expect(maxAbs(got.results[i].fusionWeights!, want[i].fusionWeights!)).toBeLessThan(1e-5);
      }
      await page.close();
    },
  );
});
