/**
 * What the scorers check before they hand a file to onnxruntime: that the bytes are a whole ONNX model written by this
 * package's exporter (its metadata), and that its input and outputs are the ones the scorer feeds and reads. No Node
 * imports: the browser entry runs the same checks.
 */
import { parseModelConfig, validateModelConfig, type ModelConfig } from '@iqa-bench/model/browser';
import onnxProto from 'onnx-proto';
import {
  BATCH_DIM,
  FUSION_WEIGHTS_OUTPUT,
  INPUT_NAME,
  METADATA_KEYS,
  PRODUCER_NAME,
  SCORE_OUTPUT,
} from './contract.js';
import { OnnxModelError } from './errors.js';

const { onnx } = onnxProto;

/** What an exported model says about itself, checked. */
export interface OnnxModelInfo {
  config: ModelConfig;
  checkpointSha256?: string;
  /** The EXPORTER_VERSION that wrote the file. */
  exporter: string;
  /** Side of the square input crops. */
  imgSize: number;
  /** Whether the model has the `fusion_weights` output (attention fusion). */
  fusionWeights: boolean;
}

type Dim = number | string;

function dimsOf(v: onnxProto.onnx.IValueInfoProto): Dim[] | null {
  const shape = v.type?.tensorType?.shape;
  if (!shape) return null;
  return (shape.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0)));
}

const show = (dims: readonly Dim[] | null): string => (dims ? `[${dims.join(', ')}]` : 'no shape');

/** A shape with a symbolic first (batch) dimension and the given fixed ones after it. */
function fits(dims: Dim[] | null, rest: readonly number[]): boolean {
  return (
    dims !== null &&
    dims.length === rest.length + 1 &&
    typeof dims[0] === 'string' &&
    rest.every((d, i) => dims[i + 1] === d)
  );
}

/**
 * Decodes `bytes` (the whole .onnx file) and checks it against the contract of the exporter; `file` names it in
 * errors. Throws OnnxModelError saying what was found and what was expected.
 */
export function readModelInfo(bytes: Uint8Array, file: string): OnnxModelInfo {
  const fail = (msg: string, cause?: unknown): never => {
    throw new OnnxModelError(`${file}: ${msg}`, { file, cause });
  };
  if (bytes.byteLength === 0) fail('the file is empty, expected an ONNX model');
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    return fail(
      `not a readable ONNX model (truncated or corrupt protobuf: ${err instanceof Error ? err.message : String(err)})`,
      err,
    );
  }
  const graph = model.graph;
  if (!graph || (graph.node ?? []).length === 0) fail('not an ONNX model (no graph), or a truncated one');
  const meta = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const producer = model.producerName ? `producer '${model.producerName}'` : 'no producer name';
  const configText = meta.get(METADATA_KEYS.modelConfig);
  if (configText === undefined)
    fail(
      `has no '${METADATA_KEYS.modelConfig}' metadata (${producer}): expected a model exported by ${PRODUCER_NAME} ` +
        '(exportOnnx / `iqa-bench convert`), or the file is truncated',
    );
  const exporter = meta.get(METADATA_KEYS.exporter);
  if (exporter === undefined || !/^iqa-bench-onnx\/\d+$/.test(exporter))
    fail(
      `metadata '${METADATA_KEYS.exporter}' is ${exporter === undefined ? 'missing' : `'${exporter}'`}, expected ` +
        "'iqa-bench-onnx/<n>'",
    );
  let json: unknown;
  try {
    json = JSON.parse(configText!);
  } catch (err) {
    fail(`metadata '${METADATA_KEYS.modelConfig}' is not JSON`, err);
  }
  let config: ModelConfig;
  try {
    config = parseModelConfig(json, `${file} (metadata '${METADATA_KEYS.modelConfig}')`);
    validateModelConfig(config);
  } catch (err) {
    return fail(
      `metadata '${METADATA_KEYS.modelConfig}': ${err instanceof Error ? err.message : String(err)}`,
      err,
    );
  }
  const sha = meta.get(METADATA_KEYS.checkpointSha256);
  if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha))
    fail(`metadata '${METADATA_KEYS.checkpointSha256}' is '${sha}', expected 64 lowercase hex digits`);

  const size = config.backbone.imgSize;
  const initializers = new Set((graph!.initializer ?? []).map((t) => t.name));
  const inputs = (graph!.input ?? []).filter((v) => !initializers.has(v.name ?? ''));
  const expectedInput = `one float32 input '${INPUT_NAME}' [${BATCH_DIM}, 3, ${size}, ${size}]`;
  if (inputs.length !== 1 || inputs[0].name !== INPUT_NAME)
    fail(
      `has input(s) ${inputs.map((v) => `'${v.name}' ${show(dimsOf(v))}`).join(', ') || 'none'}, expected ${expectedInput}`,
    );
  const input = inputs[0];
  if (
    input.type?.tensorType?.elemType !== onnx.TensorProto.DataType.FLOAT ||
    !fits(dimsOf(input), [3, size, size])
  )
    fail(
      `input '${INPUT_NAME}' is ${show(dimsOf(input))} of element type ${input.type?.tensorType?.elemType ?? 'none'}, ` +
        `expected ${expectedInput}`,
    );

  const attention = config.fusion === 'attention';
  const want: [string, number[]][] = [[SCORE_OUTPUT, []]];
  if (attention) want.push([FUSION_WEIGHTS_OUTPUT, [4]]);
  const outputs = graph!.output ?? [];
  const expectedOutputs = want.map(([n, d]) => `'${n}' [${[BATCH_DIM, ...d].join(', ')}]`).join(' and ');
  const found = outputs.map((v) => `'${v.name}' ${show(dimsOf(v))}`).join(', ') || 'none';
  const byName = new Map(outputs.map((v) => [v.name ?? '', v]));
  if (outputs.length !== want.length)
    fail(`has output(s) ${found}, expected ${expectedOutputs} (${config.fusion} fusion)`);
  for (const [name, rest] of want) {
    const v = byName.get(name);
    if (!v || v.type?.tensorType?.elemType !== onnx.TensorProto.DataType.FLOAT || !fits(dimsOf(v), rest))
      fail(`has output(s) ${found}, expected float32 ${expectedOutputs} (${config.fusion} fusion)`);
  }
  const info: OnnxModelInfo = {
    config: config!,
    exporter: exporter!,
    imgSize: size,
    fusionWeights: attention,
  };
  if (sha !== undefined) info.checkpointSha256 = sha;
  return info;
}
