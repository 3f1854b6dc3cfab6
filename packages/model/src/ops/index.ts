/**
 * `@iqa-bench/model/ops`: the building blocks with PyTorch's arithmetic and fast gradients on the wasm backend (for
 * custom heads, backbones and training code).
 */
export { linear, matMul2d, type LinearOptions } from './linear.js';
export { dropout, dropPath, gelu, layerNorm } from './nn.js';
export { conv2d, convOutSize, type Conv2dOptions } from './conv.js';
export { batchNorm, registerBatchNorm, type BatchNormOptions, type BatchNormParams } from './batchnorm.js';
export { adaptiveAvgPool2d, avgPool2d, globalAvgPool, maxPool2d } from './pooling.js';
