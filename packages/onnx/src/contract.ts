/**
 * The contract of the exported model (input and output names, metadata keys, versions): what the exporter writes and
 * what the scorers check when they open a file. No Node imports: the browser entry reads it too.
 */

/** ONNX operator set of the exported graph (Gelu is an operator from 20 on; LayerNormalization from 17). */
export const ONNX_OPSET = 20;
/** ONNX IR version that goes with opset 20. */
export const ONNX_IR_VERSION = 9;

/**
 * The version of the graph this exporter writes: it changes whenever the exported graph changes for the same model, so
 * that a cache keyed by (checkpoint sha256, EXPORTER_VERSION) never serves a stale graph.
 */
export const EXPORTER_VERSION = 'iqa-bench-onnx/2';

/** Name of the graph input. */
export const INPUT_NAME = 'image';
/** Graph outputs: `score` [batch], and for attention fusion `fusion_weights` [batch, 4]. */
export const SCORE_OUTPUT = 'score';
export const FUSION_WEIGHTS_OUTPUT = 'fusion_weights';
/** The symbolic batch dimension of the input and outputs. */
export const BATCH_DIM = 'batch';

/** Metadata keys (ModelProto.metadata_props) besides producer_name / producer_version. */
export const METADATA_KEYS = {
  checkpointSha256: 'iqa-bench.checkpoint_sha256',
  modelConfig: 'iqa-bench.model_config',
  input: 'iqa-bench.input',
  exporter: 'iqa-bench.exporter',
  source: 'iqa-bench.source',
} as const;

export const PRODUCER_NAME = '@iqa-bench/onnx';
