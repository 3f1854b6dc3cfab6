/**
 * @iqa-bench/onnx: HyperIQA and SMART-IQA models built by @iqa-bench/model as ONNX graphs, scored by onnxruntime with the
 * same numbers as the TensorFlow.js model.
 */
export {
  BATCH_DIM,
  EXPORTER_VERSION,
  exportOnnx,
  FUSION_WEIGHTS_OUTPUT,
  INPUT_NAME,
  inputDescription,
  METADATA_KEYS,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  PRODUCER_NAME,
  PRODUCER_VERSION,
  SCORE_OUTPUT,
  writeOnnx,
  type ExportOptions,
} from './export.js';
