/**
 * The cost of one executed tfjs kernel: multiply-accumulates (MACs) and floating-point operations (FLOPs).
 *
 * This file is the single place where the counting convention lives; the README's convention table describes it.
 * - MACs are counted only for multiply-accumulate kernels (matmul, convolution, einsum). FLOPs = 2 x MACs plus the
 *   other work of the kernel (a fused bias add or activation).
 * - Every other kernel has MACs 0 and FLOPs from a per-element rule (elementwise, activation, reduction,
 *   normalisation, softmax, pooling); data-movement kernels (reshape, transpose, slice, concat, pad, gather, ...) count
 *   0 FLOPs but are listed.
 * - A kernel missing from the tables is counted as 0 and reported by name as "uncounted", never guessed.
 * Costs depend only on the kernel name, its input/output shapes and its attrs, so they do not depend on the backend.
 */
import * as tf from '@tensorflow/tfjs';
import {
  GELU_GATE_KERNEL,
  MODEL_COPY_KERNELS,
  NORMALIZE_KERNEL,
  WINDOW_ATTENTION_KERNEL,
} from '@iqa-bench/model/ops';

export const OP_CATEGORIES = [
  'matmul',
  'conv',
  'elementwise',
  'activation',
  'reduction',
  'normalization',
  'softmax',
  'pooling',
  'data',
  'other',
] as const;
export type OpCategory = (typeof OP_CATEGORIES)[number];

/** Shape and dtype of a kernel input or output. */
export interface TensorMeta {
  readonly shape: readonly number[];
  readonly dtype: string;
}

/** What the cost rules need to know about one kernel call. */
export interface KernelCall {
  readonly kernel: string;
  /** Inputs by the kernel's input name (`a`, `b`, `x`, `filter`, ...); list kernels (AddN, Concat) use `0`, `1`, .... */
  readonly inputs: Readonly<Record<string, TensorMeta>>;
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly outputs: readonly TensorMeta[];
}

export interface KernelCost {
  readonly category: OpCategory;
  readonly macs: number;
  readonly flops: number;
  /** false when the kernel has no rule in this file (its FLOPs are reported as 0 and its name listed). */
  readonly counted: boolean;
}

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

function input(call: KernelCall, name: string): TensorMeta {
  const t = call.inputs[name];
  if (t === undefined) {
    throw new Error(
      `${call.kernel}: expected an input named '${name}', got [${Object.keys(call.inputs).join(', ')}]`,
    );
  }
  return t;
}

function output(call: KernelCall): TensorMeta {
  const t = call.outputs[0];
  if (t === undefined) throw new Error(`${call.kernel}: kernel produced no output`);
  return t;
}

const outSize = (call: KernelCall): number => size(output(call).shape);
const listInputs = (call: KernelCall): TensorMeta[] => Object.values(call.inputs);

function optionalAttr<T>(call: KernelCall, name: string): T | undefined {
  const v = call.attrs[name];
  return v === undefined || v === null ? undefined : (v as T);
}

function attr<T>(call: KernelCall, name: string, fallback?: T): T {
  const v = call.attrs[name];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new Error(`${call.kernel}: missing attr '${name}'`);
  }
  return v as T;
}

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Pair = number | [number, number];
type DataFormat = 'channelsFirst' | 'channelsLast';

const dataFormat2d = (call: KernelCall): DataFormat =>
  attr<string>(call, 'dataFormat', 'NHWC') === 'NCHW' ? 'channelsFirst' : 'channelsLast';

const shape4 = (shape: readonly number[], what: string): [number, number, number, number] => {
  if (shape.length !== 4) throw new Error(`${what}: expected a rank-4 shape, got [${shape.join(', ')}]`);
  return [shape[0], shape[1], shape[2], shape[3]];
};

/** Extra FLOPs per output element of a fused activation (same numbers as the stand-alone kernels below). */
function fusedActivationFlops(call: KernelCall): number {
  const activation = attr<string>(call, 'activation', 'linear');
  const perElement = ACTIVATION_FLOPS[activation];
  if (perElement === undefined) throw new Error(`${call.kernel}: unknown fused activation '${activation}'`);
  return perElement * outSize(call);
}

const ACTIVATION_FLOPS: Record<string, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  elu: 1,
  sigmoid: 1,
  leakyrelu: 2,
  prelu: 2,
};

/** M, N, K and batch of a (batched) matmul from its input shapes and transpose attrs; the batch comes from the output. */
export function matMulDims(call: KernelCall): { batch: number; m: number; n: number; k: number } {
  const a = input(call, 'a').shape;
  const b = input(call, 'b').shape;
  if (a.length < 2 || b.length < 2) {
    throw new Error(
      `${call.kernel}: inputs must have rank >= 2, got [${a.join(', ')}] and [${b.join(', ')}]`,
    );
  }
  const transposeA = attr<boolean>(call, 'transposeA', false);
  const transposeB = attr<boolean>(call, 'transposeB', false);
  const [ar, ac] = [a[a.length - 2], a[a.length - 1]];
  const [br, bc] = [b[b.length - 2], b[b.length - 1]];
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const kb = transposeB ? bc : br;
  const n = transposeB ? br : bc;
  if (k !== kb) {
    throw new Error(
      `${call.kernel}: inner dimensions differ (${k} vs ${kb}) for a [${a.join(', ')}]${transposeA ? 'ᵀ' : ''} x ` +
        `b [${b.join(', ')}]${transposeB ? 'ᵀ' : ''}`,
    );
  }
  const out = output(call).shape;
  const batch = size(out.slice(0, -2));
  return { batch, m, n, k };
}

function matMulCost(call: KernelCall): KernelCost {
  const { batch, m, n, k } = matMulDims(call);
  const macs = batch * m * n * k;
  let other = 0;
  if (call.inputs.bias !== undefined) other += outSize(call);
  if (call.kernel === tf._FusedMatMul) other += fusedActivationFlops(call);
  return { category: 'matmul', macs, flops: 2 * macs + other, counted: true };
}

function convInfo(
  call: KernelCall,
  xShape: readonly number[],
  filterShape: readonly number[],
  depthwise: boolean,
) {
  return tf.backend_util.computeConv2DInfo(
    shape4(xShape, `${call.kernel} input`),
    shape4(filterShape, `${call.kernel} filter`),
    attr<Pair>(call, 'strides'),
    attr<Pair>(call, 'dilations', 1),
    attr<Pad>(call, 'pad'),
    optionalAttr<'floor' | 'round' | 'ceil'>(call, 'dimRoundingMode'),
    depthwise,
    dataFormat2d(call),
  );
}

/** MACs of the forward convolution described by `info` (padding positions included, as every counter does). */
function convMacs(info: tf.backend_util.Conv2DInfo, depthwise: boolean): number {
  const perOutput = info.filterHeight * info.filterWidth * (depthwise ? 1 : info.inChannels);
  return info.batchSize * info.outHeight * info.outWidth * info.outChannels * perOutput;
}

function convCost(call: KernelCall): KernelCost {
  const k = call.kernel;
  const depthwise =
    k === tf.DepthwiseConv2dNative ||
    k === tf.FusedDepthwiseConv2D ||
    k === tf.DepthwiseConv2dNativeBackpropInput ||
    k === tf.DepthwiseConv2dNativeBackpropFilter;
  let info: tf.backend_util.Conv2DInfo;
  if (k === tf.Conv2DBackpropInput || k === tf.DepthwiseConv2dNativeBackpropInput) {
    // Gradient w.r.t. the input (also tf.conv2dTranspose): the same products as the forward conv it inverts.
    info = convInfo(call, attr<number[]>(call, 'inputShape'), input(call, 'filter').shape, depthwise);
  } else if (k === tf.Conv2DBackpropFilter || k === tf.DepthwiseConv2dNativeBackpropFilter) {
    info = convInfo(call, input(call, 'x').shape, attr<number[]>(call, 'filterShape'), depthwise);
  } else {
    info = convInfo(call, input(call, 'x').shape, input(call, 'filter').shape, depthwise);
  }
  const macs = convMacs(info, depthwise);
  let other = 0;
  if (k === tf.FusedConv2D || k === tf.FusedDepthwiseConv2D) {
    if (call.inputs.bias !== undefined) other += outSize(call);
    other += fusedActivationFlops(call);
  }
  return { category: 'conv', macs, flops: 2 * macs + other, counted: true };
}

function conv3dCost(call: KernelCall): KernelCost {
  const x = input(call, 'x').shape;
  const f = input(call, 'filter').shape;
  if (x.length !== 5 || f.length !== 5) throw new Error(`${call.kernel}: expected rank-5 input and filter`);
  const info = tf.backend_util.computeConv3DInfo(
    [x[0], x[1], x[2], x[3], x[4]],
    [f[0], f[1], f[2], f[3], f[4]],
    attr<number | [number, number, number]>(call, 'strides'),
    attr<number | [number, number, number]>(call, 'dilations', 1),
    attr<'same' | 'valid'>(call, 'pad'),
    false,
    attr<string>(call, 'dataFormat', 'NDHWC') === 'NCDHW' ? 'channelsFirst' : 'channelsLast',
  );
  const macs =
    info.batchSize *
    info.outDepth *
    info.outHeight *
    info.outWidth *
    info.outChannels *
    info.filterDepth *
    info.filterHeight *
    info.filterWidth *
    info.inChannels;
  return { category: 'conv', macs, flops: 2 * macs, counted: true };
}

/** Two-operand einsum: one MAC per point of the joint index space; one operand: a reduction. */
function einsumCost(call: KernelCall): KernelCost {
  const equation = attr<string>(call, 'equation').replace(/\s+/g, '');
  const [lhs, rhs] = equation.split('->');
  const operands = lhs.split(',');
  const shapes = listInputs(call).map((t) => t.shape);
  if (operands.length !== shapes.length || rhs === undefined || equation.includes('.')) {
    return { category: 'other', macs: 0, flops: 0, counted: false };
  }
  const dims = new Map<string, number>();
  operands.forEach((labels, i) => [...labels].forEach((c, j) => dims.set(c, shapes[i][j])));
  const joint = [...dims.values()].reduce((p, d) => p * d, 1);
  if (operands.length === 2) return { category: 'matmul', macs: joint, flops: 2 * joint, counted: true };
  if (operands.length === 1)
    return { category: 'reduction', macs: 0, flops: joint - outSize(call), counted: true };
  return { category: 'other', macs: 0, flops: 0, counted: false };
}

function pool2dCost(call: KernelCall, perWindow: (window: number) => number): KernelCost {
  const info = tf.backend_util.computePool2DInfo(
    shape4(input(call, 'x').shape, `${call.kernel} input`),
    attr<Pair>(call, 'filterSize'),
    attr<Pair>(call, 'strides'),
    1,
    attr<Pad>(call, 'pad'),
    optionalAttr<'floor' | 'round' | 'ceil'>(call, 'dimRoundingMode'),
  );
  const window = info.filterHeight * info.filterWidth;
  return { category: 'pooling', macs: 0, flops: perWindow(window) * outSize(call), counted: true };
}

function pool3dCost(call: KernelCall, perWindow: (window: number) => number): KernelCost {
  const fs = attr<number | [number, number, number]>(call, 'filterSize');
  const window = typeof fs === 'number' ? fs * fs * fs : fs[0] * fs[1] * fs[2];
  return { category: 'pooling', macs: 0, flops: perWindow(window) * outSize(call), counted: true };
}

function softmaxCost(call: KernelCall, log: boolean): KernelCost {
  const logits = listInputs(call)[0];
  if (logits === undefined) throw new Error(`${call.kernel}: no input`);
  const rank = logits.shape.length;
  const dimAttr = attr<number | number[]>(call, log ? 'axis' : 'dim', -1);
  const dim = Array.isArray(dimAttr) ? dimAttr[0] : dimAttr;
  const n = logits.shape[dim < 0 ? rank + dim : dim];
  const rows = size(logits.shape) / n;
  // max (n-1), subtract (n), exp (n), sum (n-1), then divide (n) | log (1) + subtract (n).
  const perRow = log ? 5 * n - 1 : 5 * n - 2;
  return { category: 'softmax', macs: 0, flops: rows * perRow, counted: true };
}

function batchNormCost(call: KernelCall): KernelCost {
  const x = input(call, 'x').shape;
  const variance = input(call, 'variance').shape;
  // Per element: subtract mean, multiply by 1/sqrt(var+eps), [multiply scale], [add offset]; per channel: add eps, rsqrt.
  const perElement =
    2 + (call.inputs.scale !== undefined ? 1 : 0) + (call.inputs.offset !== undefined ? 1 : 0);
  return {
    category: 'normalization',
    macs: 0,
    flops: perElement * size(x) + 2 * size(variance),
    counted: true,
  };
}

const perOutputElement =
  (category: OpCategory, perElement: number) =>
  (call: KernelCall): KernelCost => ({ category, macs: 0, flops: perElement * outSize(call), counted: true });

/** Reductions: n-1 combining operations per output; Mean adds one division per output (= input elements). */
const reduction =
  (isMean: boolean) =>
  (call: KernelCall): KernelCost => {
    const inSize = size(input(call, 'x').shape);
    return { category: 'reduction', macs: 0, flops: isMean ? inSize : inSize - outSize(call), counted: true };
  };

const zero = (category: OpCategory) => (): KernelCost => ({ category, macs: 0, flops: 0, counted: true });

type Rule = (call: KernelCall) => KernelCost;

const ELEMENTWISE_1 = [
  tf.Add,
  tf.Sub,
  tf.Multiply,
  tf.RealDiv,
  tf.FloorDiv,
  tf.Mod,
  tf.Maximum,
  tf.Minimum,
  tf.Pow,
  tf.Atan2,
  tf.Neg,
  tf.Abs,
  tf.Square,
  tf.Sqrt,
  tf.Rsqrt,
  tf.Reciprocal,
  tf.Exp,
  tf.Expm1,
  tf.Log,
  tf.Log1p,
  tf.Sign,
  tf.Floor,
  tf.Ceil,
  tf.Round,
  tf.Sin,
  tf.Cos,
  tf.Tan,
  tf.Asin,
  tf.Acos,
  tf.Atan,
  tf.Sinh,
  tf.Cosh,
  tf.Asinh,
  tf.Acosh,
  tf.Atanh,
  tf.Equal,
  tf.NotEqual,
  tf.Greater,
  tf.GreaterEqual,
  tf.Less,
  tf.LessEqual,
  tf.LogicalAnd,
  tf.LogicalOr,
  tf.LogicalXor,
  tf.LogicalNot,
  tf.IsNan,
  tf.IsInf,
  tf.IsFinite,
  tf.Cumsum,
  tf.Cumprod,
  tf.ComplexAbs,
];
const ACTIVATION_1 = [tf.Relu, tf.Elu, tf.Selu, tf.Sigmoid, tf.Tanh, tf.Softplus, tf.Erf, tf.Step];
const DATA_MOVEMENT = [
  tf.Reshape,
  tf.Transpose,
  tf.Slice,
  tf.StridedSlice,
  tf.Concat,
  tf.PadV2,
  tf.MirrorPad,
  tf.GatherV2,
  tf.GatherNd,
  tf.ScatterNd,
  tf.TensorScatterUpdate,
  tf.OneHot,
  tf.Tile,
  tf.Identity,
  tf.Cast,
  tf.ExpandDims,
  tf.Reverse,
  tf.Fill,
  tf.Range,
  tf.LinSpace,
  tf.ZerosLike,
  tf.OnesLike,
  tf.Pack,
  tf.Unpack,
  tf.SplitV,
  tf.BroadcastTo,
  tf.BroadcastArgs,
  tf.Select,
  tf.DepthToSpace,
  tf.SpaceToBatchND,
  tf.BatchToSpaceND,
  tf.MatrixBandPart,
  tf.FlipLeftRight,
  tf.Diag,
  tf.ResizeNearestNeighbor,
  tf.Complex,
  tf.Real,
  tf.Imag,
];

const RULES = new Map<string, Rule>();
for (const k of [tf.BatchMatMul, tf._FusedMatMul]) RULES.set(k, matMulCost);
for (const k of [
  tf.Conv2D,
  tf.FusedConv2D,
  tf.DepthwiseConv2dNative,
  tf.FusedDepthwiseConv2D,
  tf.Conv2DBackpropInput,
  tf.Conv2DBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropInput,
  tf.DepthwiseConv2dNativeBackpropFilter,
]) {
  RULES.set(k, convCost);
}
RULES.set(tf.Conv3D, conv3dCost);
RULES.set(tf.Einsum, einsumCost);
for (const k of ELEMENTWISE_1) RULES.set(k, perOutputElement('elementwise', 1));
RULES.set(tf.SquaredDifference, perOutputElement('elementwise', 2));
RULES.set(tf.ClipByValue, perOutputElement('elementwise', 2));
RULES.set(tf.AddN, (call) => ({
  category: 'elementwise',
  macs: 0,
  flops: (listInputs(call).length - 1) * outSize(call),
  counted: true,
}));
RULES.set(tf.UnsortedSegmentSum, (call) => ({
  category: 'elementwise',
  macs: 0,
  flops: size(input(call, 'x').shape),
  counted: true,
}));
for (const k of ACTIVATION_1) RULES.set(k, perOutputElement('activation', 1));
for (const k of [tf.Relu6, tf.LeakyRelu, tf.Prelu]) RULES.set(k, perOutputElement('activation', 2));
for (const k of [tf.Sum, tf.Max, tf.Min, tf.Prod, tf.All, tf.Any, tf.ArgMax, tf.ArgMin])
  RULES.set(k, reduction(false));
RULES.set(tf.Mean, reduction(true));
RULES.set(tf.FusedBatchNorm, batchNormCost);
RULES.set(tf.Softmax, (call) => softmaxCost(call, false));
RULES.set(tf.LogSoftmax, (call) => softmaxCost(call, true));
RULES.set(tf.AvgPool, (call) => pool2dCost(call, (w) => w));
RULES.set(tf.MaxPool, (call) => pool2dCost(call, (w) => w - 1));
RULES.set(tf.AvgPool3D, (call) => pool3dCost(call, (w) => w));
RULES.set(tf.MaxPool3D, (call) => pool3dCost(call, (w) => w - 1));
for (const k of DATA_MOVEMENT) RULES.set(k, zero('data'));

/**
 * The custom kernels `@iqa-bench/model` registers (their names come from the model, `@iqa-bench/model/ops`):
 * - The copy kernels (`MODEL_COPY_KERNELS`: Swin window partition / reverse with the shift roll, row slices) count 0,
 *   as the tfjs data-movement ops the model runs on other backends.
 * - The fused wasm kernels (inference) count as the tfjs ops they replace on other backends, so that a model's totals
 *   do not depend on the backend:
 *   - `IqaGeluGate` u + u·erf(u): erf, multiply, add: 3 per element.
 *   - `IqaNormalize` (x - mean)/√(var + eps) over rows of n: mean (n), subtract (n), square (n), mean (n),
 *     multiply (n), and per row add eps and rsqrt: 5n + 2 per row.
 *   - `IqaWindowAttention` softmax(q·kᵀ + bias)·v over G = windows·heads groups of n tokens and head dim d: the two
 *     products (2·G·n²·d MACs), the bias add (G·n²) and the softmax (G·n rows of n).
 */
for (const k of MODEL_COPY_KERNELS) RULES.set(k, zero('data'));
RULES.set(GELU_GATE_KERNEL, perOutputElement('activation', 3));
RULES.set(NORMALIZE_KERNEL, (call) => {
  const shape = input(call, 'x').shape;
  const n = shape[shape.length - 1];
  return { category: 'normalization', macs: 0, flops: (size(shape) / n) * (5 * n + 2), counted: true };
});
RULES.set(WINDOW_ATTENTION_KERNEL, (call) => {
  const [rows, c] = input(call, 'q').shape;
  const [, heads, n] = input(call, 'bias').shape;
  const groups = (rows / n) * heads;
  const macs = 2 * groups * n * n * (c / heads);
  const softmax = groups * n * (5 * n - 2);
  return { category: 'matmul', macs, flops: 2 * macs + groups * n * n + softmax, counted: true };
});

/** How a custom kernel is counted: a full rule, or a category with a FLOP count per output element (MACs 0). */
export type KernelCostRule =
  ((call: KernelCall) => Omit<KernelCost, 'counted'>) | { category: OpCategory; flopsPerOutput: number };

/**
 * Teaches the counter a custom kernel (one registered with `tf.registerKernel` by a model). Built-in kernels cannot be
 * redefined: the convention stays one table.
 */
export function registerKernelCost(kernelName: string, rule: KernelCostRule): void {
  if (RULES.has(kernelName))
    throw new Error(`registerKernelCost: kernel '${kernelName}' already has a counting rule`);
  if (typeof rule === 'function') {
    RULES.set(kernelName, (call) => ({ ...rule(call), counted: true }));
  } else {
    if (!(rule.flopsPerOutput >= 0)) {
      throw new Error(
        `registerKernelCost(${kernelName}): flopsPerOutput must be >= 0, got ${rule.flopsPerOutput}`,
      );
    }
    RULES.set(kernelName, perOutputElement(rule.category, rule.flopsPerOutput));
  }
}

/** The cost of one kernel call under the package's convention (see the module comment and the README). */
export function kernelCost(call: KernelCall): KernelCost {
  const rule = RULES.get(call.kernel);
  if (rule === undefined) return { category: 'other', macs: 0, flops: 0, counted: false };
  return rule(call);
}

/** Kernel names that have a counting rule. */
export function countedKernelNames(): string[] {
  return [...RULES.keys()].sort();
}
