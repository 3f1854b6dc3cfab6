/**
 * A small ONNX graph builder over the `onnx-proto` message classes: nodes with typed attributes, float32 / int64
 * initializers (stored as little-endian raw_data), unique value names. The exporter's model code talks only to this.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** An attribute value: a number is an INT unless listed in `floats`, arrays likewise; strings are STRING. */
export type AttrValue = number | number[] | string | { float: number };

/** A dimension: a fixed size or a named symbolic one (the batch). */
export type Dim = number | string;

function attribute(name: string, value: AttrValue): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer`);
    return { name, type: T.INT, i: value };
  }
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return { name, type: T.FLOAT, f: value.float };
}

function valueInfo(name: string, dims: readonly Dim[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();
  private readonly int64Cache = new Map<string, string>();
  private counter = 0;

  constructor(readonly opset: number) {}

  /** A value name not used yet, derived from `hint`. */
  fresh(hint: string): string {
    let name = hint;
    while (this.names.has(name)) name = `${hint}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** Adds a float32 initializer (the data is referenced, not copied, until encoding). */
  float(name: string, data: Float32Array, dims: readonly number[]): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length)
      throw new Error(`initializer ${name}: ${data.length} values for shape [${dims.join(',')}]`);
    const unique = this.fresh(name);
    this.initializers.push({
      name: unique,
      dims: [...dims],
      dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: bytesOf(data),
    });
    return unique;
  }

  /** An int64 constant (shapes, axes, indices), shared between nodes that use the same values. */
  int64(
    values: readonly number[] | Int32Array,
    dims: readonly number[] = [values.length],
    hint = 'i64',
  ): string {
    const key = `${dims.join('x')}:${Array.from(values).join(',')}`;
    const hit = key.length < 256 ? this.int64Cache.get(key) : undefined;
    if (hit) return hit;
    const name = this.fresh(hint);
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: onnx.TensorProto.DataType.INT64,
      rawData: bytesOf(BigInt64Array.from(Array.from(values), (v) => BigInt(v))),
    });
    if (key.length < 256) this.int64Cache.set(key, name);
    return name;
  }

  /** A float scalar constant. */
  scalar(value: number, hint = 'c'): string {
    return this.float(hint, new Float32Array([value]), []);
  }

  /** Appends a node; returns its output names (`outputs` of them, default 1). */
  op(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    opts: { name?: string; outputs?: number; domain?: string; outputNames?: string[] } = {},
  ): string[] {
    const base = opts.name ?? opType.toLowerCase();
    const count = opts.outputNames?.length ?? opts.outputs ?? 1;
    const output =
      opts.outputNames?.map((n) => {
        if (this.names.has(n)) throw new Error(`graph value '${n}' is defined twice`);
        this.names.add(n);
        return n;
      }) ?? Array.from({ length: count }, (_, i) => this.fresh(count === 1 ? base : `${base}:${i}`));
    this.nodes.push({
      opType,
      domain: opts.domain ?? '',
      name: this.fresh(`${base}/node`),
      input: [...inputs],
      output,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** One-output node. */
  op1(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    name?: string,
  ): string {
    return this.op(opType, inputs, attrs, { name })[0];
  }

  reshape(x: string, shape: readonly number[], name?: string): string {
    return this.op1('Reshape', [x, this.int64(shape, [shape.length], 'shape')], {}, name);
  }

  transpose(x: string, perm: readonly number[], name?: string): string {
    return this.op1('Transpose', [x], { perm: [...perm] }, name);
  }

  /** Gathers positions `indices` (shape `dims`) along `axis`. */
  gather(
    x: string,
    indices: Int32Array | readonly number[],
    dims: readonly number[],
    axis: number,
    name?: string,
  ): string {
    return this.op1('Gather', [x, this.int64(indices, dims, 'idx')], { axis }, name);
  }

  /** x·W + b as MatMul then Add (the pattern onnxruntime fuses). */
  linear(x: string, w: string, b: string | null, name: string): string {
    const y = this.op1('MatMul', [x, w], {}, `${name}/matmul`);
    return b ? this.op1('Add', [y, b], {}, `${name}/add`) : y;
  }

  reduceMean(x: string, axes: readonly number[], keepdims: boolean, name?: string): string {
    // ReduceMean takes `axes` as an input from opset 18 on, as an attribute before.
    if (this.opset >= 18)
      return this.op1(
        'ReduceMean',
        [x, this.int64(axes, [axes.length], 'axes')],
        { keepdims: keepdims ? 1 : 0 },
        name,
      );
    return this.op1('ReduceMean', [x], { axes: [...axes], keepdims: keepdims ? 1 : 0 }, name);
  }

  /** Splits along `axis` into parts of the given sizes. */
  split(x: string, sizes: readonly number[], axis: number, name: string): string[] {
    return this.op(
      'Split',
      [x, this.int64(sizes, [sizes.length], 'split')],
      { axis },
      { name, outputs: sizes.length },
    );
  }

  /** The ModelProto around the nodes: graph inputs and outputs with their (symbolic) shapes. */
  model(opts: {
    graphName: string;
    inputs: { name: string; dims: readonly Dim[] }[];
    outputs: { name: string; dims: readonly Dim[] }[];
    irVersion: number;
    producerName: string;
    producerVersion: string;
    docString: string;
    metadata: Record<string, string>;
  }): Uint8Array {
    const model: onnxProto.onnx.IModelProto = {
      irVersion: opts.irVersion,
      opsetImport: [{ domain: '', version: this.opset }],
      producerName: opts.producerName,
      producerVersion: opts.producerVersion,
      docString: opts.docString,
      graph: {
        name: opts.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: opts.inputs.map((i) => valueInfo(i.name, i.dims)),
        output: opts.outputs.map((o) => valueInfo(o.name, o.dims)),
      },
      metadataProps: Object.entries(opts.metadata).map(([key, value]) => ({ key, value })),
    };
    return onnx.ModelProto.encode(model).finish();
  }
}
