/**
 * The HyperIQA ResNet backbone (torchvision v1.5 Bottleneck layout) as an ONNX graph in NCHW: every conv with its
 * eval-mode BatchNorm folded into the weights and a bias (w·γ/√(var+ε), β − mean·γ/√(var+ε), computed in float64),
 * so each conv-BN-ReLU is one Conv + Relu that onnxruntime fuses; the residual Add + Relu follow the last conv.
 */
import type { ResNetBackboneConfig } from '@iqa-bench/model';
import { RESNET_EXPANSION, resnetStageSizes } from '@iqa-bench/model/resnet';
import type { GraphBuilder } from './graph.js';
import type { ParamReader } from './params.js';

/** torch BatchNorm2d eps. */
const BN_EPS = 1e-5;

/** A stage map in NCHW: [B, channels, side, side]. */
export interface NchwMap {
  value: string;
  side: number;
  channels: number;
}

function convBn(
  g: GraphBuilder,
  p: ParamReader,
  x: string,
  conv: string,
  bn: string,
  cin: number,
  cout: number,
  k: number,
  stride: number,
  relu: boolean,
): string {
  const w = p.get(`${conv}.weight`, [cout, cin, k, k]);
  const gamma = p.get(`${bn}.weight`, [cout]);
  const beta = p.get(`${bn}.bias`, [cout]);
  const mean = p.get(`${bn}.running_mean`, [cout]);
  const variance = p.get(`${bn}.running_var`, [cout]);
  const per = cin * k * k;
  const fw = new Float32Array(w.length);
  const fb = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    const s = gamma[o] / Math.sqrt(variance[o] + BN_EPS);
    for (let i = 0; i < per; i++) fw[o * per + i] = w[o * per + i] * s;
    fb[o] = beta[o] - mean[o] * s;
  }
  const pad = (k - 1) >> 1;
  const y = g.op1(
    'Conv',
    [x, g.float(`${conv}.weight+bn`, fw, [cout, cin, k, k]), g.float(`${conv}.bias+bn`, fb, [cout])],
    { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] },
    conv,
  );
  return relu ? g.op1('Relu', [y], {}, `${conv}/relu`) : y;
}

export function resnetGraph(
  g: GraphBuilder,
  p: ParamReader,
  cfg: ResNetBackboneConfig,
  prefix: string,
  image: string,
): NchwMap[] {
  const P = (n: string): string => `${prefix}.${n}`;
  const base = cfg.baseWidth;
  let x = convBn(g, p, image, P('conv1'), P('bn1'), 3, base, 7, 2, true);
  x = g.op1('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, P('maxpool'));
  const sides = resnetStageSizes(cfg.imgSize);
  let cin = base;
  const maps: NchwMap[] = [];
  cfg.layers.forEach((blocks, i) => {
    const width = base * 2 ** i;
    const cout = width * RESNET_EXPANSION;
    for (let k = 0; k < blocks; k++) {
      const stride = k === 0 && i > 0 ? 2 : 1;
      const n = (s: string): string => P(`layer${i + 1}.${k}.${s}`);
      let y = convBn(g, p, x, n('conv1'), n('bn1'), cin, width, 1, 1, true);
      y = convBn(g, p, y, n('conv2'), n('bn2'), width, width, 3, stride, true);
      y = convBn(g, p, y, n('conv3'), n('bn3'), width, cout, 1, 1, false);
      const identity =
        stride !== 1 || cin !== cout
          ? convBn(g, p, x, n('downsample.0'), n('downsample.1'), cin, cout, 1, stride, false)
          : x;
      x = g.op1('Relu', [g.op1('Add', [y, identity], {}, n('add'))], {}, n('relu'));
      cin = cout;
    }
    maps.push({ value: x, side: sides[i], channels: cout });
  });
  return maps;
}
