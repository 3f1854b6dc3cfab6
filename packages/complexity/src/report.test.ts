import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeModel, mergeReports, referenceChecks } from './analyze.js';
import type { AnalyzableModel } from './analyze.js';
import { toLatex, toMarkdown } from './format.js';
import { MODEL_REFERENCES } from './references.js';
import { complexityReportJsonSchema, validateComplexityReport } from './schema.js';
import type { ComplexityReport } from './schema.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/**
 * A toy HyperIQA: a conv "backbone", a 1x1 HyperNet layer, a generator of a per-image 2x4 weight matrix and bias,
 * and a TargetNet applying them to a 4-vector; modules wrapped in state-dict-named scopes.
 */
class ToyIqa implements AnalyzableModel {
  private readonly vars = new Map<string, tf.Variable>();
  readonly params = {
    list: () => [...this.vars].map(([name, variable]) => ({ name, variable, trainable: true })),
  };

  constructor() {
    const add = (name: string, shape: number[], seed: number) =>
      this.vars.set(
        name,
        tf.variable(tf.randomNormal(shape, 0, 0.1, 'float32', seed), true, `report_test/${name}`),
      );
    add('swin.backbone.patch_embed.proj.weight', [2, 2, 3, 8], 1); // conv 2x2/2: 8x8x3 -> 4x4x8
    add('conv1.0.weight', [8, 4], 2);
    add('fc1w_conv.weight', [4, 8], 3); // 8 = 2x4 TargetNet weights
    add('fc1b_fc.weight', [4, 2], 4);
  }

  private v(name: string): tf.Variable {
    return this.vars.get(name)!;
  }

  hyperNet(x: tf.Tensor4D): Record<string, tf.Tensor> {
    const f = tf.tidy('swin.backbone', () =>
      tf.conv2d(x, this.v('swin.backbone.patch_embed.proj.weight') as tf.Tensor4D, 2, 'valid'),
    );
    const h = tf.tidy('conv1', () => tf.relu(tf.matMul(tf.mean(f, [1, 2]), this.v('conv1.0.weight'))));
    const w = tf.tidy('fc1w_conv', () => tf.matMul(h, this.v('fc1w_conv.weight')).reshape([-1, 2, 4]));
    const b = tf.tidy('fc1b_fc', () => tf.matMul(h, this.v('fc1b_fc.weight')));
    return { vec: h, w, b };
  }

  predict(x: tf.Tensor4D): tf.Tensor {
    const { vec, w, b } = this.hyperNet(x);
    return tf.tidy('target_net', () => tf.sigmoid(tf.matMul(w, vec.expandDims(2)).squeeze([2]).add(b)));
  }

  dispose(): void {
    this.vars.forEach((v) => v.dispose());
  }
}

const model = new ToyIqa();
afterAll(() => model.dispose());

let report: ComplexityReport;
beforeAll(async () => {
  report = await analyzeModel(model, {
    name: 'Toy_IQA',
    inputSize: 8,
    timing: 'hypernet',
    latency: { warmup: 1, runs: 3, minTimeMs: 0 },
    throughput: { batchSizes: [1, 2], minTimeMs: 0 },
  });
});

describe('analyzeModel', () => {
  it('produces a valid report with the tool version and environment', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(validateComplexityReport(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(report.tool).toEqual({ name: '@iqa-bench/complexity', version: pkg.version });
    expect(report.environment.backend).toBe('cpu');
    expect(report.environment.tfjsVersion).toBe(tf.version_core);
    expect(report.models).toHaveLength(1);
  });

  it('counts the whole model and the HyperNet; the difference is the TargetNet', () => {
    const m = report.models[0];
    const convMacs = 4 * 4 * 8 * (2 * 2 * 3);
    const hyperMacs = convMacs + 8 * 4 + 4 * 8 + 4 * 2;
    expect(m.ops.hypernet!.macs).toBe(hyperMacs);
    expect(m.ops.whole.macs).toBe(hyperMacs + 2 * 4);
    expect(m.ops.whole.groups.find((g) => g.group === 'target_net')).toMatchObject({ macs: 8 });
    expect(m.ops.whole.activationMacs).toBe(8);
    expect(m.params.total).toBe(96 + 32 + 32 + 8);
    expect(m.latency).toMatchObject({ scope: 'hypernet', stats: { runs: 3, warmup: 1, batchSize: 1 } });
    expect(m.throughput!.entries.map((e) => [e.batchSize, e.status])).toEqual([
      [1, 'ok'],
      [2, 'ok'],
    ]);
    expect(m.notes.join('\n')).toMatch(/HyperNet only \(as the original\)/);
  });

  it('without hyperNet(), derives the HyperNet count by leaving out the target_net scope', async () => {
    const r = await analyzeModel(
      { params: model.params, predict: (x) => model.predict(x) },
      { name: 'derived', inputSize: 8, latency: false },
    );
    const m = r.models[0];
    const explicit = report.models[0].ops.hypernet!;
    expect(m.ops.hypernet!.macs).toBe(explicit.macs);
    expect(m.ops.hypernet!.flops).toBe(explicit.flops);
    expect(m.ops.hypernet!.groups.map((x) => x.group)).not.toContain('target_net');
    expect(m.latency).toBeNull();
    expect(m.notes.join('\n')).toMatch(/without the kernels in scope 'target_net'/);
  });
});

describe('validateComplexityReport', () => {
  it('names every offending field', () => {
    const bad = JSON.parse(JSON.stringify(report)) as Record<string, unknown> & {
      models: { params: object }[];
    };
    bad.schemaVersion = 2;
    delete (bad.models[0].params as Record<string, unknown>).total;
    expect(() => validateComplexityReport(bad, 'out.json')).toThrow(
      /out\.json[\s\S]*schemaVersion[\s\S]*models\.0\.params\.total/,
    );
  });

  it('exports the same schema as JSON Schema', () => {
    const schema = complexityReportJsonSchema() as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(Object.keys(schema.properties)).toEqual([
      'schemaVersion',
      'tool',
      'createdAt',
      'environment',
      'models',
    ]);
    expect(schema.required).toContain('models');
  });
});

describe('tables', () => {
  it('Markdown: one row per model with params, GMACs, GFLOPs, latency and throughput, conditions below', () => {
    const md = toMarkdown(report, { gDigits: 6 });
    const lines = md.split('\n');
    expect(lines[0]).toBe(
      '| Model | Params (M) | GMACs | GFLOPs | Latency bs1 (ms, mean ± std) | median / p95 (ms) | peak MiB | img/s @1 | img/s @2 |',
    );
    const m = report.models[0];
    const cells = lines[2].split('|').map((c) => c.trim());
    expect(cells.slice(1, 5)).toEqual([
      'Toy_IQA',
      '0.00',
      (m.ops.whole.macs / 1e9).toFixed(6),
      (m.ops.whole.flops / 1e9).toFixed(6),
    ]);
    expect(md).toMatch(/Timing: HyperNet only/);
    expect(md).toMatch(/backend cpu, tfjs 4\.22\.0/);
  });

  it('LaTeX: booktabs table with escaped names', () => {
    const tex = toLatex(report, { label: 'tab:toy' });
    expect(tex).toMatch(/\\begin\{tabular\}\{lrrrrrr\}/);
    expect(tex).toMatch(/^Toy\\_IQA & 0\.00 & /m);
    expect(tex).toMatch(/\\label\{tab:toy\}/);
    expect(tex).toMatch(/\$[0-9.]+ \\pm [0-9.]+\$/);
  });

  it('several reports side by side; merging refuses different environments', () => {
    const merged = mergeReports([report, { ...report, models: [{ ...report.models[0], name: 'Toy 2' }] }]);
    expect(merged.models.map((m) => m.name)).toEqual(['Toy_IQA', 'Toy 2']);
    const other = { ...report, environment: { ...report.environment, backend: 'wasm' } };
    expect(() => mergeReports([report, other])).toThrow(/different environments/);
    const md = toMarkdown([report, other]);
    expect(md).toMatch(/Toy_IQA \[1\][\s\S]*Toy_IQA \[2\][\s\S]*\[2\] backend wasm/);
  });
});

describe('referenceChecks', () => {
  it('relative differences against the published figures, with explanations', () => {
    const ref = MODEL_REFERENCES['smart-iqa-tiny'];
    const m = report.models[0];
    const checks = referenceChecks('smart-iqa-tiny', m.params, m.ops.hypernet!);
    const params = checks.find((c) => c.quantity === 'params')!;
    expect(params.reference).toBe(29_521_479);
    expect(params.relativeDifference).toBeCloseTo((m.params.total - ref.params) / ref.params, 12);
    const cls = checks.find((c) => c.quantity === 'Swin-T classifier params')!;
    // Toy backbone params 96 + Swin-T head 2*768 + 768*1000 + 1000.
    expect(cls.measured).toBe(96 + 770_536);
    expect(checks.find((c) => c.quantity === 'HyperNet MACs, all')!.note).toMatch(/same op set/);
  });
});
