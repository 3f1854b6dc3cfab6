/**
 * One call that measures a model: parameters, MACs/FLOPs of the whole model and of the HyperNet alone, batch-1
 * latency, throughput over batch sizes and peak memory, with reference checks and notes; and the report around it.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { describeEnvironment } from './environment.js';
import type { EnvironmentOptions } from './environment.js';
import { disposeOutput, measureLatency, measureThroughput, tidyForward } from './latency.js';
import type { ForwardOutput, ThroughputOptions, TimingOptions } from './latency.js';
import { TARGET_NET_SCOPE } from '@iqa-bench/model/head';
import type { ModelConfig } from '@iqa-bench/model';
import { countOps, scopePath, summarizeKernels } from './ops.js';
import type { OpCount } from './ops.js';
import { countParameters } from './params.js';
import type { ParamCount, ParamSource } from './params.js';
import { MODEL_REFERENCES, referenceFor } from './references.js';
import type { ReferenceModel } from './references.js';
import { SCHEMA_VERSION, validateComplexityReport } from './schema.js';
import { traceKernels } from './trace.js';
import type { ComplexityReport, ModelComplexity, OpCountRecord, ReferenceCheck } from './schema.js';

/** What `analyzeModel` needs from a model. */
export interface AnalyzableModel {
  /** Named parameters and buffers (an `@iqa-bench/model` ParamStore). */
  readonly params: ParamSource;
  /** The architecture, when known: picks the published reference figures automatically. */
  readonly config?: ModelConfig;
  /** The whole model in evaluation mode: NHWC images -> scores (HyperNet + TargetNet). */
  predict(x: tf.Tensor4D): ForwardOutput;
  /**
   * The HyperNet alone (backbone, LDA, fusion, HyperNet stack, generators; no TargetNet), when available. Without it
   * the HyperNet-only op count is derived from `predict` when the TargetNet runs in a scope named `target_net`.
   */
  hyperNet?(x: tf.Tensor4D): ForwardOutput;
}

export type TimingScope = 'whole' | 'hypernet';

export interface AnalyzeOptions {
  /** Row label, e.g. `SMART-IQA Tiny`. */
  name: string;
  description?: string;
  /** Input side (default: the model's own, `config.backbone.imgSize`; 224 without a config). */
  inputSize?: number;
  /** What latency and throughput time: the whole model (default) or the HyperNet alone, as the original did. */
  timing?: TimingScope;
  /** Batch-1 latency (default { warmup: 3, runs: 10 }); false to skip. */
  latency?: TimingOptions | false;
  /** Throughput over batch sizes; false to skip (default). */
  throughput?: ThroughputOptions | false;
  /** Published figures to compare with; default 'auto': the preset whose architecture `model.config` matches. */
  reference?: ReferenceModel | 'auto' | null;
  /** Seed of the random input image (default 1; tfjs treats 0 as unseeded). */
  seed?: number;
  environment?: EnvironmentOptions;
  /** Extra notes copied into the report. */
  notes?: string[];
}

const require = createRequire(import.meta.url);
/** This package's version (the `tool.version` of reports). */
export const TOOL_VERSION: string = (require('../package.json') as { version: string }).version;

function opRecord(count: OpCount, scope: TimingScope, batchSize: number): OpCountRecord {
  // `kernels` (per-kernel records) are not part of the report.
  const { kernels: _kernels, ...rest } = count;
  return { scope, batchSize, ...rest };
}

/** Input-dependent MACs of the backbone groups. */
const backboneMacs = (groups: readonly { group: string; macs: number; inputIndependentMacs: number }[]) =>
  groups
    .filter((x) => x.group.startsWith('backbone.'))
    .reduce((s, x) => s + x.macs - x.inputIndependentMacs, 0);

const backboneParams = (groups: readonly { group: string; params: number }[]) =>
  groups.filter((x) => x.group.startsWith('backbone.')).reduce((s, x) => s + x.params, 0);

function check(
  quantity: string,
  source: string,
  reference: number,
  measured: number,
  note?: string,
): ReferenceCheck {
  return {
    quantity,
    source,
    reference,
    measured,
    relativeDifference: (measured - reference) / reference,
    ...(note ? { note } : {}),
  };
}

const g = (n: number): string => `${(n / 1e9).toFixed(3)} G`;

/**
 * Checks of measured parameters and MACs against the published figures of `key` (see references.ts). MACs compared
 * are input-dependent ones: work that does not depend on the image (e.g. the relative-position bias computed as a
 * one-hot product, a gather in PyTorch) is left out and named in the notes.
 */
export function referenceChecks(
  key: ReferenceModel,
  params: ParamCount,
  hypernetOps: OpCount | OpCountRecord,
): ReferenceCheck[] {
  const ref = MODEL_REFERENCES[key];
  const head = ref.classifier.head;
  const attention = hypernetOps.activationMacs;
  const independent = hypernetOps.inputIndependent?.macs ?? 0;
  const leftOut =
    independent > 0
      ? `; ${g(independent)} MACs of input-independent kernels (parameter preprocessing such as the one-hot ` +
        `relative-position-bias product, a gather in PyTorch) are left out`
      : '';
  const checks: ReferenceCheck[] = [
    check('params', 'original: sum(p.numel()) of the HyperNet', ref.params, params.total),
    check(
      `${ref.classifier.name} classifier params`,
      ref.classifier.paramsSource,
      ref.classifier.params,
      backboneParams(params.groups) + head.params,
      `backbone parameters measured + classifier head added from its shapes (${head.description})`,
    ),
    check(
      `${ref.classifier.name} classifier MACs`,
      ref.classifier.macsSource,
      ref.classifier.macs,
      backboneMacs(hypernetOps.groups) + head.macs,
      `backbone MACs measured (module groups backbone.*, attention products included, as in the published figure) + ` +
        `classifier head added from its shapes (${head.description}); the reference has 3 significant digits${leftOut}`,
    ),
    check(
      'HyperNet MACs, conv/linear layers only',
      'original: ptflops get_model_complexity_info (GMac), HyperNet only',
      ref.ptflopsMacs,
      hypernetOps.weightMacs,
      `same op set: ptflops' module hooks count Conv2d/Linear MACs; it also adds per-element LayerNorm/BatchNorm/` +
        `activation/pooling costs to the same total (FLOPs here, not MACs), most of the remaining difference${leftOut}`,
    ),
    check(
      'HyperNet MACs, all',
      'original: ptflops get_model_complexity_info (GMac), HyperNet only',
      ref.ptflopsMacs,
      hypernetOps.weightMacs + attention,
      attention > 0
        ? `not the same op set: ptflops (pytorch backend) does not see the attention products q.k^T and attn.v ` +
            `(${g(attention)} MACs here, counted in ours)${leftOut}`
        : `same op set (no activation x activation products)${leftOut}`,
    ),
  ];
  if (ref.thopMacs !== null) {
    checks.push(
      check(
        'HyperNet MACs, conv/linear layers only',
        'original: thop.profile (MACs)',
        ref.thopMacs,
        hypernetOps.weightMacs,
        `thop counts Conv2d/Linear multiplications (no bias) and LayerNorm elements; no attention products${leftOut}`,
      ),
    );
  }
  return checks;
}

/** Measures one model and returns a one-model report (merge several with `mergeReports`). */
export async function analyzeModel(
  model: AnalyzableModel,
  options: AnalyzeOptions,
): Promise<ComplexityReport> {
  const size = options.inputSize ?? model.config?.backbone.imgSize ?? 224;
  const timing = options.timing ?? 'whole';
  if (timing === 'hypernet' && model.hyperNet === undefined) {
    throw new Error(`analyzeModel(${options.name}): timing 'hypernet' needs a model with hyperNet()`);
  }
  const seed = options.seed ?? 1;
  const requested = options.reference ?? 'auto';
  const reference = requested === 'auto' ? (model.config ? referenceFor(model.config) : null) : requested;
  if (seed === 0) throw new Error('analyzeModel seed: tfjs treats 0 as unseeded; use a non-zero seed');
  const image = tf.randomNormal([1, size, size, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
  try {
    const params = countParameters(model.params);
    // One provenance map for every count: cached tensors derived from the parameters in the first call keep their names.
    const counting = { params: model.params, inputs: [image], paramProvenance: new Map<number, string[]>() };
    const traceWhole = () => {
      const t = traceKernels(() => tidyForward(() => model.predict(image)));
      disposeOutput(t.result);
      const context = {
        ...counting,
        backend: t.backend,
        baselineBytes: t.baselineBytes,
        peakBytes: t.peakBytes,
      };
      return { trace: t, context, count: summarizeKernels(t.kernels, context) };
    };
    // Count steady-state inference: a model may derive tensors from its parameters on its first call and cache them
    // (q/k/v weight slices, relative-position biases); then a second forward executes less.
    let traced = traceWhole();
    let coldNote: string | null = null;
    let firstCallExtra: { calls: number; macs: number; flops: number } | null = null;
    if ((traced.count.inputIndependent?.calls ?? 0) > 0) {
      const again = traceWhole();
      if (again.count.kernelCalls < traced.count.kernelCalls) {
        const first = traced.count;
        firstCallExtra = {
          calls: first.kernelCalls - again.count.kernelCalls,
          macs: first.macs - again.count.macs,
          flops: first.flops - again.count.flops,
        };
        coldNote =
          `Counts are of a repeated forward: the first one also ran ${first.kernelCalls - again.count.kernelCalls} ` +
          `kernels (${first.macs - again.count.macs} MACs, ${first.flops - again.count.flops} FLOPs) deriving ` +
          'tensors from the parameters that the model caches for later calls.';
        traced = again;
      }
    }
    const { trace, context } = traced;
    const whole = traced.count;
    const inTargetNet = (scopes: readonly string[]) => {
      const p = scopePath(scopes);
      return p === TARGET_NET_SCOPE || p.startsWith(`${TARGET_NET_SCOPE}.`);
    };
    let hyper: OpCount | null = null;
    let hyperHow: string;
    if (model.hyperNet) {
      hyper = countOps(() => model.hyperNet!(image), counting);
      hyperHow = "ops.hypernet traced from the model's HyperNet-only forward.";
    } else if (trace.kernels.some((k) => inTargetNet(k.scopes))) {
      hyper = summarizeKernels(
        trace.kernels.filter((k) => !inTargetNet(k.scopes)),
        context,
      );
      hyperHow = `ops.hypernet = the whole forward without the kernels in scope '${TARGET_NET_SCOPE}' (memory figures are the whole forward's).`;
    } else {
      hyperHow = `No HyperNet-only op count: the model has no hyperNet() and runs no '${TARGET_NET_SCOPE}' scope.`;
    }
    const forward =
      timing === 'hypernet' ? (x: tf.Tensor4D) => model.hyperNet!(x) : (x: tf.Tensor4D) => model.predict(x);
    const latency =
      options.latency === false
        ? null
        : { scope: timing, stats: await measureLatency(forward, image, options.latency ?? {}) };
    const throughput =
      options.throughput === undefined || options.throughput === false
        ? null
        : { scope: timing, entries: await measureThroughput(forward, image, options.throughput) };

    const notes = [
      'MACs: multiply-accumulates of the executed matmul/conv kernels (attention matmuls included). ' +
        'FLOPs: 2 x MACs + elementwise, activation, reduction, normalisation, softmax and pooling work ' +
        '(per-kernel convention in the @iqa-bench/complexity README).',
      `Parameters exclude buffers (${params.buffers} buffer elements, e.g. BatchNorm running statistics).`,
    ];
    notes.push(hyperHow);
    if (coldNote) notes.push(coldNote);
    if (hyper) {
      notes.push(
        `ops.whole includes the TargetNet; whole - HyperNet = ${whole.macs - hyper.macs} MACs ` +
          `(the original's complexity scripts measured the HyperNet only).`,
      );
    }
    notes.push(
      `Latency and throughput time the ${timing === 'whole' ? 'whole model (HyperNet + TargetNet)' : 'HyperNet only (as the original)'}.`,
    );
    if (whole.inputIndependent && whole.inputIndependent.flops > 0) {
      const ii = whole.inputIndependent;
      notes.push(
        `${ii.calls} kernels (${ii.macs} MACs, ${ii.flops} FLOPs) do not depend on the image (parameter ` +
          `preprocessing, e.g. a relative-position bias from its table); they are included in the totals.`,
      );
    }
    const attribution = whole.attribution.map((a) => `${a.method} ${a.calls}`).join(', ');
    notes.push(`Module attribution of kernels (method: kernels): ${attribution}.`);
    if (whole.uncounted.length > 0) {
      notes.push(
        `Kernels without a counting rule (0 FLOPs): ${whole.uncounted.map((u) => `${u.kernel} x${u.calls}`).join(', ')}.`,
      );
    }
    if (reference && !hyper) {
      notes.push(
        'Reference MAC checks use the whole model: the TargetNet (about 33.3k MACs per image) is included, far below ' +
          "the references' precision.",
      );
    }
    notes.push(...(options.notes ?? []));

    const entry: ModelComplexity = {
      name: options.name,
      ...(options.description ? { description: options.description } : {}),
      inputShape: [1, size, size, 3],
      params,
      ops: {
        whole: opRecord(whole, 'whole', 1),
        hypernet: hyper ? opRecord(hyper, 'hypernet', 1) : null,
        firstCallExtra,
      },
      latency,
      throughput,
      references: reference ? referenceChecks(reference, params, hyper ?? whole) : [],
      notes,
    };
    return makeReport([entry], options.environment);
  } finally {
    image.dispose();
  }
}

/** Wraps model entries in a report for the current environment, validated against the schema. */
export function makeReport(
  models: ModelComplexity[],
  environment: EnvironmentOptions = {},
): ComplexityReport {
  return validateComplexityReport({
    schemaVersion: SCHEMA_VERSION,
    tool: { name: '@iqa-bench/complexity', version: TOOL_VERSION },
    createdAt: new Date().toISOString(),
    environment: describeEnvironment(environment),
    models,
  });
}

/** Puts the models of several reports from the same environment side by side in one report. */
export function mergeReports(reports: readonly ComplexityReport[]): ComplexityReport {
  if (reports.length === 0) throw new Error('mergeReports: no reports');
  const first = reports[0];
  const key = (r: ComplexityReport) =>
    JSON.stringify([
      r.environment.backend,
      r.environment.tfjsVersion,
      r.environment.cpu.model,
      r.environment.gpu,
    ]);
  for (const r of reports.slice(1)) {
    if (key(r) !== key(first)) {
      throw new Error(
        `mergeReports: reports come from different environments (${key(first)} vs ${key(r)}); tabulate them separately`,
      );
    }
  }
  return validateComplexityReport({ ...first, models: reports.flatMap((r) => r.models) });
}
