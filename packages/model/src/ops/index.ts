/**
 * `@iqa-bench/model/ops`: the building blocks with PyTorch's arithmetic and fast gradients on the wasm backend (for
 * custom heads, backbones and training code), and the names of the custom kernels the model registers.
 */
export { linear, matMul2d, type LinearOptions } from './linear.js';
export { dropout, dropPath, gelu, layerNorm } from './nn.js';
export { conv2d, convOutSize, type Conv2dOptions } from './conv.js';
export { batchNorm, registerBatchNorm, type BatchNormOptions, type BatchNormParams } from './batchnorm.js';
export { adaptiveAvgPool2d, avgPool2d, globalAvgPool, maxPool2d } from './pooling.js';
export {
  GELU_GATE_KERNEL,
  MODEL_COPY_KERNELS,
  MODEL_FUSED_KERNELS,
  NORMALIZE_KERNEL,
  SLICE_ROWS_KERNEL,
  WINDOW_ATTENTION_KERNEL,
  WINDOW_PARTITION_KERNEL,
  WINDOW_REVERSE_KERNEL,
} from './kernel-names.js';
