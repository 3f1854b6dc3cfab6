/**
 * The real models at 224x224 against independent references: the analytic per-group parameter and MAC counts of
 * tools/analytic_complexity.py (from the original's layer shapes), the original's parameter totals and the
 * published classifier / ptflops / thop figures. Built on wasm with random weights (complexity does not depend on them).
 */
import { readFileSync } from 'node:fs';
import { createModel, presetConfig } from '@iqa-bench/model';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeModel } from './analyze.js';
import { MODEL_FUSED_KERNELS } from '@iqa-bench/model/ops';
import { countOps, type OpCount } from './ops.js';
import type { ReferenceModel } from './references.js';
import type { ModelComplexity } from './schema.js';

interface Analytic {
  params: Record<string, number>;
  macs: Record<string, { weight: number; activation: number; independent: number }>;
  totalParams: number;
  totalMacs: { weight: number; activation: number; independent: number };
}
const ANALYTIC = JSON.parse(
  readFileSync(new URL('../fixtures/analytic-complexity.json', import.meta.url), 'utf8'),
) as Record<ReferenceModel, Analytic>;

/** ResNet-50 BN layers: stem 64, per bottleneck (w, w, 4w) + one downsample BN (4w) per stage; buffers 2·C + 1 each. */
const BN_BUFFERS = (() => {
  let total = 2 * 64 + 1;
  for (const [blocks, w] of [
    [3, 64],
    [4, 128],
    [6, 256],
    [3, 512],
  ]) {
    total += blocks * (2 * (w + w + 4 * w) + 3) + (2 * 4 * w + 1);
  }
  return total;
})();

const PRESETS: ReferenceModel[] = [
  'smart-iqa-tiny',
  'smart-iqa-small',
  'smart-iqa-base',
  'hyperiqa-resnet50',
];

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

const measured = new Map<ReferenceModel, ModelComplexity>();
async function analyze(preset: ReferenceModel): Promise<ModelComplexity> {
  const model = createModel(preset, { seed: 1 });
  try {
    // reference 'auto': recognised from model.config.
    const report = await analyzeModel(model, { name: preset, latency: false });
    measured.set(preset, report.models[0]);
    return report.models[0];
  } finally {
    model.dispose();
  }
}

describe.each(PRESETS)('%s at 224x224', (preset) => {
  it('parameters: exact total and per module group', async () => {
    const m = await analyze(preset);
    const ref = ANALYTIC[preset];
    expect(m.params.total).toBe(ref.totalParams);
    expect(Object.fromEntries(m.params.groups.map((g) => [g.group, g.params]))).toEqual(ref.params);
    // BatchNorm running mean/var and num_batches_tracked of the 53 ResNet-50 BN layers are buffers, not parameters.
    expect(m.params.buffers).toBe(preset === 'hyperiqa-resnet50' ? BN_BUFFERS : 0);
  }, 120_000);

  it('MACs: layer / attention / input-independent totals and per group equal the analytic counts', () => {
    const m = measured.get(preset)!;
    const ref = ANALYTIC[preset];
    const ops = m.ops.whole;
    expect(ops.weightMacs).toBe(ref.totalMacs.weight);
    expect(ops.activationMacs).toBe(ref.totalMacs.activation);
    // Work that does not depend on the image (the relative-position bias one-hot x table; folding norms into the next
    // layer) is done by the model on its first call and cached: a repeated forward runs none of it.
    expect(m.ops.firstCallExtra?.macs ?? 0).toBeGreaterThanOrEqual(ref.totalMacs.independent);
    expect(ops.inputIndependent?.macs).toBe(0);
    const groups = Object.fromEntries(ops.groups.map((g) => [g.group, g.macs]));
    for (const [group, r] of Object.entries(ref.macs)) {
      if (group === 'target_net') continue;
      expect([group, groups[group]]).toEqual([group, r.weight + r.activation]);
    }
    // The TargetNet (33,334 MACs per image) runs in the model's 'target_net' scope.
    expect(groups.target_net).toBe(ref.macs.target_net.activation);
    expect(m.ops.whole.macs - m.ops.hypernet!.macs).toBe(ref.macs.target_net.activation);
    expect(ops.uncounted).toEqual([]);
  });

  it('published figures: exact parameters, MACs within 1% where the op set is the same', () => {
    const checks = Object.fromEntries(
      measured.get(preset)!.references.map((c) => [`${c.quantity} | ${c.source}`, c.relativeDifference]),
    );
    const within = Object.entries(checks).filter(([k]) => !k.startsWith('HyperNet MACs, all'));
    expect(within.length).toBe(preset === 'hyperiqa-resnet50' ? 4 : 5); // no thop figure for ResNet
    for (const [k, diff] of within) {
      if (k.includes('params')) expect([k, diff]).toEqual([k, 0]);
      else expect([k, Math.abs(diff) < 0.01]).toEqual([k, true]);
    }
    const all = measured.get(preset)!.references.find((c) => c.quantity === 'HyperNet MACs, all')!;
    if (preset === 'hyperiqa-resnet50') {
      // No activation x activation products in the HyperNet: the same op set, within 1%.
      expect(Math.abs(all.relativeDifference)).toBeLessThan(0.01);
      expect(all.note).toMatch(/same op set/);
    } else {
      // With the attention products (which ptflops does not see) the difference is larger, and explained.
      expect(all.relativeDifference).toBeGreaterThan(0.01);
      expect(all.note).toMatch(/does not see the attention products/);
    }
  });
});

describe('model counts do not depend on the backend', () => {
  it('micro SMART-IQA: the same MACs and FLOPs on cpu and wasm (fused kernels there), per group, TargetNet included', async () => {
    const counts: OpCount[] = [];
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      const model = createModel('smart-iqa-micro', { seed: 1 });
      const x = tf.randomNormal([1, 224, 224, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      try {
        counts.push(countOps(() => model.predict(x), { params: model.params, inputs: [x] }));
      } finally {
        model.dispose();
        x.dispose();
      }
    }
    // Kernel calls differ: wasm runs the model's fused kernels (GELU, LayerNorm, window attention) where cpu runs
    // the tfjs ops they replace, and their rules count the same work. Below the block level the attention products
    // are attributed to the attention module on wasm (the kernel reads the bias table) and to qkv on cpu (dataflow).
    const totals = (c: OpCount) => ({
      macs: c.macs,
      flops: c.flops,
      weightMacs: c.weightMacs,
      activationMacs: c.activationMacs,
      inputIndependent: { macs: c.inputIndependent?.macs, flops: c.inputIndependent?.flops },
      groups: c.groups.map(({ calls: _calls, ...g }) => g),
      uncounted: c.uncounted,
    });
    expect(totals(counts[0])).toEqual(totals(counts[1]));
    expect(counts[0].activationMacs).toBeGreaterThan(0);
    const kernels = counts.map((c) => new Set(c.byKernel.map((k) => k.kernel)));
    for (const k of MODEL_FUSED_KERNELS)
      expect([k, kernels[0].has(k), kernels[1].has(k)]).toEqual([k, true, false]);
  }, 120_000);
});

describe('analyzeModel input side', () => {
  it("defaults to the model's own (a HyperIQA-ResNet on 64-pixel input: MACs scale with the pixels)", async () => {
    await tf.setBackend('wasm');
    const at = (imgSize: number) => {
      const c = presetConfig('hyperiqa-resnet50');
      c.backbone = { kind: 'resnet', layers: [1, 1, 1, 1], baseWidth: 4, imgSize };
      c.head = { ...c.head, ldaOut: 4, hyperInChannels: 8, targetInSize: 16, targetFc: [8, 8, 4, 4] };
      c.head.conv1Hidden = [16, 8];
      c.head.featureSize = imgSize / 32;
      return createModel(c, { seed: 1, randomInit: false });
    };
    const small = at(64);
    const big = at(128);
    try {
      const [r64, r128] = await Promise.all([
        analyzeModel(small, { name: 'r64', reference: null, latency: false }),
        analyzeModel(big, { name: 'r128', reference: null, latency: false }),
      ]);
      expect(r64.models[0].inputShape).toEqual([1, 64, 64, 3]);
      expect(r128.models[0].inputShape).toEqual([1, 128, 128, 3]);
      // the backbone's convolutions dominate and scale with the pixel count (4x); the head's generators do not
      const ratio = r128.models[0].ops.whole.macs / r64.models[0].ops.whole.macs;
      expect(ratio).toBeGreaterThan(3);
      expect(ratio).toBeLessThan(4.2);
    } finally {
      small.dispose();
      big.dispose();
    }
  }, 120_000);
});
