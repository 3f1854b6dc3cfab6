/**
 * The HyperIQA head as an ONNX graph, on either backbone's four stage maps: LDA vectors → target_in_vec; fusion
 * (single / concat / attention, whose softmax weights are a graph output) → 1×1 conv stack → H; the TargetNet weight
 * generators as one 3×3 Conv and the bias / last-weight generators as one MatMul on the pooled H; then the per-image
 * TargetNet as batched MatMuls ([B, out, in] · [B, in, 1]) with sigmoids between.
 */
import type { ModelConfig } from '@iqa-bench/model';
import type { GraphBuilder } from './graph.js';
import type { ParamReader } from './params.js';
import type { NchwMap } from './resnet.js';
import type { TokenMap } from './swin.js';
import { transposed } from './tensor.js';
import { poolIndices, reorderIndices, rasterOrder } from './windows.js';

export type StageMaps = { layout: 'tokens'; maps: TokenMap[] } | { layout: 'nchw'; maps: NchwMap[] };

export interface HeadOutputs {
  score: string;
  fusionWeights: string | null;
}

/** True when every row of the [rows, k] gather `idx` holds the positions row·k … row·k + k - 1 in some order. */
function contiguousRows(idx: Int32Array, k: number): boolean {
  for (let r = 0; r < idx.length / k; r++) {
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < k; j++) {
      min = Math.min(min, idx[r * k + j]);
      max = Math.max(max, idx[r * k + j]);
    }
    if (min !== r * k || max !== r * k + k - 1) return false;
  }
  return true;
}

/**
 * Average pool of stage `i` with a `cell`×`cell` kernel and stride: tokens → [B, cells, C] (cells raster);
 * NCHW → [B, C, g, g].
 */
function pool(g: GraphBuilder, stages: StageMaps, i: number, cell: number, name: string): string {
  if (stages.layout === 'nchw') {
    const m = stages.maps[i];
    if (cell === 1) return m.value;
    return g.op1('AveragePool', [m.value], { kernel_shape: [cell, cell], strides: [cell, cell] }, name);
  }
  const m = stages.maps[i];
  const L = m.side * m.side;
  if (cell === 1) {
    const idx = reorderIndices(m.order, rasterOrder(L));
    return idx ? g.gather(m.value, idx, [L], 1, name) : m.value;
  }
  const k = cell * cell;
  const cells = L / k;
  const idx = poolIndices(m.side, cell, m.order);
  // Within a cell the order does not matter: when the stream already holds the cells contiguously, reshape.
  const grouped = contiguousRows(idx, k)
    ? g.reshape(m.value, [0, cells, k, m.channels], `${name}/cells`)
    : g.gather(m.value, idx, [cells, k], 1, `${name}/cells`);
  return g.reduceMean(grouped, [2], false, name);
}

export function headGraph(
  g: GraphBuilder,
  p: ParamReader,
  config: ModelConfig,
  stages: StageMaps,
  ldaPrefix: string,
): HeadOutputs {
  const cfg = config.head;
  const fs = cfg.featureSize;
  const ch = stages.maps.map((m) => m.channels);
  const tokens = stages.layout === 'tokens';
  const lp = (n: string): string => `${ldaPrefix}.${n}`;
  const linear = (x: string, name: string, inF: number, outF: number): string => {
    const w = g.float(`${name}.weight`, transposed(p.get(`${name}.weight`, [outF, inF]), outF, inF), [
      inF,
      outF,
    ]);
    return g.linear(x, w, g.float(`${name}.bias`, p.get(`${name}.bias`, [outF]), [outF]), name);
  };

  // LDA 1-3: 1×1 conv (no bias) and fs×fs average pool (both linear: pooled first, the cheaper order), flattened
  // channel-major as torch does, then Linear. Token maps flatten position-major: the Linear's rows are permuted to match.
  const lda: string[] = [];
  for (let i = 0; i < 3; i++) {
    const k = cfg.ldaOut * 2 ** i;
    const cells = (stages.maps[i].side / fs) ** 2;
    const convW = p.get(lp(`lda${i + 1}_pool.0.weight`), [k, ch[i], 1, 1]);
    const pooled = pool(g, stages, i, fs, lp(`lda${i + 1}/pool`));
    let flat: string;
    const fcName = lp(`lda${i + 1}_fc`);
    const fcW = p.get(`${fcName}.weight`, [cfg.ldaOut, k * cells]); // [out, k·cells], input index c·cells + pos
    const w = new Float32Array(k * cells * cfg.ldaOut);
    if (tokens) {
      const cw = g.float(lp(`lda${i + 1}_pool.0.weight`), transposed(convW, k, ch[i]), [ch[i], k]);
      const conv = g.op1('MatMul', [pooled, cw], {}, lp(`lda${i + 1}/conv`)); // [B, cells, k]
      flat = g.reshape(conv, [0, cells * k], lp(`lda${i + 1}/flatten`));
      for (let pos = 0; pos < cells; pos++)
        for (let c = 0; c < k; c++)
          for (let o = 0; o < cfg.ldaOut; o++)
            w[(pos * k + c) * cfg.ldaOut + o] = fcW[o * k * cells + c * cells + pos];
    } else {
      const cw = g.float(lp(`lda${i + 1}_pool.0.weight`), convW, [k, ch[i], 1, 1]);
      const conv = g.op1('Conv', [pooled, cw], { kernel_shape: [1, 1] }, lp(`lda${i + 1}/conv`)); // [B, k, g, g]
      flat = g.reshape(conv, [0, k * cells], lp(`lda${i + 1}/flatten`));
      w.set(transposed(fcW, cfg.ldaOut, k * cells));
    }
    const b = g.float(`${fcName}.bias`, p.get(`${fcName}.bias`, [cfg.ldaOut]), [cfg.ldaOut]);
    lda.push(g.linear(flat, g.float(`${fcName}.weight`, w, [k * cells, cfg.ldaOut]), b, fcName));
  }
  const global = g.reshape(pool(g, stages, 3, stages.maps[3].side, lp('lda4/pool')), [0, ch[3]], lp('gap4'));
  const lda4Out = cfg.targetInSize - 3 * cfg.ldaOut;
  lda.push(linear(global, lp('lda4_fc'), ch[3], lda4Out));
  const targetIn = g.op1('Concat', lda, { axis: 1 }, 'target_in_vec');

  // Fusion → hyper_in [B, Cin, fs, fs]
  let fusionWeights: string | null = null;
  let fused: string;
  let cin: number;
  if (config.fusion === 'single') {
    fused = pool(g, stages, 3, 1, 'fusion/stage3');
    cin = ch[3];
  } else {
    const parts = [0, 1, 2, 3].map((i) => pool(g, stages, i, 2 ** (3 - i), `fusion/pool${i}`));
    cin = ch.reduce((a, b) => a + b, 0);
    if (config.fusion === 'attention') {
      const a = 'multiscale_attention.attention_net';
      const hid = cfg.attentionHidden;
      const h = g.op1('Relu', [linear(global, `${a}.0`, ch[3], hid)], {}, `${a}.1`);
      const logits = linear(h, `${a}.3`, hid, 4);
      fusionWeights = g.op('Softmax', [logits], { axis: -1 }, { outputNames: ['fusion_weights'] })[0];
      const alphas = g.split(fusionWeights, [1, 1, 1, 1], 1, 'fusion/alpha');
      parts.forEach((part, i) => {
        const alpha = g.reshape(alphas[i], tokens ? [0, 1, 1] : [0, 1, 1, 1], `fusion/alpha${i}`);
        parts[i] = g.op1('Mul', [part, alpha], {}, `fusion/weighted${i}`);
      });
    }
    fused = g.op1('Concat', parts, { axis: tokens ? 2 : 1 }, 'fusion/concat');
  }
  if (tokens) fused = g.reshape(g.transpose(fused, [0, 2, 1], 'hyper_in/nchw'), [0, cin, fs, fs], 'hyper_in');

  // conv1: three 1×1 convs with ReLU → H [B, hyperInChannels, fs, fs]
  const widths = [cin, cfg.conv1Hidden[0], cfg.conv1Hidden[1], cfg.hyperInChannels];
  let h = fused;
  [0, 2, 4].forEach((idx, i) => {
    const name = `conv1.${idx}`;
    const w = g.float(`${name}.weight`, p.get(`${name}.weight`, [widths[i + 1], widths[i], 1, 1]), [
      widths[i + 1],
      widths[i],
      1,
      1,
    ]);
    const b = g.float(`${name}.bias`, p.get(`${name}.bias`, [widths[i + 1]]), [widths[i + 1]]);
    h = g.op1('Relu', [g.op1('Conv', [h, w, b], { kernel_shape: [1, 1] }, name)], {}, `conv1.${idx + 1}`);
  });
  const hin = cfg.hyperInChannels;

  // Weight generators fc{1..4}w_conv (3×3, pad 1) as one Conv; each output viewed per image as [out, in] (torch view).
  const sizes = [cfg.targetInSize, ...cfg.targetFc];
  const convOut = [0, 1, 2, 3].map((l) => (sizes[l] * sizes[l + 1]) / (fs * fs));
  const totalOut = convOut.reduce((a, b) => a + b, 0);
  const gw = new Float32Array(totalOut * hin * 9);
  const gb = new Float32Array(totalOut);
  let at = 0;
  convOut.forEach((co, l) => {
    gw.set(p.get(`fc${l + 1}w_conv.weight`, [co, hin, 3, 3]), at * hin * 9);
    gb.set(p.get(`fc${l + 1}w_conv.bias`, [co]), at);
    at += co;
  });
  const wAll = g.op1(
    'Conv',
    [
      h,
      g.float('fc1-4w_conv.weight', gw, [totalOut, hin, 3, 3]),
      g.float('fc1-4w_conv.bias', gb, [totalOut]),
    ],
    { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
    'fc1-4w_conv',
  );
  const wParts = g.split(wAll, convOut, 1, 'fc1-4w_conv/split');
  const weights = wParts.map((w, l) => g.reshape(w, [0, sizes[l + 1], sizes[l]], `target_fc${l + 1}w`));

  // fc{1..4}b_fc, fc5w_fc, fc5b_fc on the pooled H as one MatMul + Add.
  const gap = g.reduceMean(h, [2, 3], false, 'hyper_gap');
  const lin: [string, number][] = [
    ['fc1b_fc', sizes[1]],
    ['fc2b_fc', sizes[2]],
    ['fc3b_fc', sizes[3]],
    ['fc4b_fc', sizes[4]],
    ['fc5w_fc', sizes[4]],
    ['fc5b_fc', 1],
  ];
  const outs = lin.map(([, n]) => n);
  const total = outs.reduce((a, b) => a + b, 0);
  const lw = new Float32Array(hin * total);
  const lb = new Float32Array(total);
  at = 0;
  for (const [name, n] of lin) {
    const w = transposed(p.get(`${name}.weight`, [n, hin]), n, hin); // [hin, n]
    for (let r = 0; r < hin; r++) lw.set(w.subarray(r * n, r * n + n), r * total + at);
    lb.set(p.get(`${name}.bias`, [n]), at);
    at += n;
  }
  const genLin = g.linear(
    gap,
    g.float('fc_gen.weight', lw, [hin, total]),
    g.float('fc_gen.bias', lb, [total]),
    'fc_gen',
  );
  const gen = g.split(genLin, outs, 1, 'fc_gen/split');
  weights.push(g.reshape(gen[4], [0, 1, sizes[4]], 'target_fc5w'));
  const biases = [0, 1, 2, 3].map((l) => g.reshape(gen[l], [0, sizes[l + 1], 1], `target_fc${l + 1}b`));
  biases.push(g.reshape(gen[5], [0, 1, 1], 'target_fc5b'));

  // TargetNet, batched: q [B, in, 1] → sigmoid(W·q + b) for layers 1-4, W·q + b for layer 5.
  let q = g.reshape(targetIn, [0, cfg.targetInSize, 1], 'target/q0');
  for (let l = 0; l < 5; l++) {
    const y = g.op1(
      'Add',
      [g.op1('MatMul', [weights[l], q], {}, `target/fc${l + 1}`), biases[l]],
      {},
      `target/fc${l + 1}b`,
    );
    q = l < 4 ? g.op1('Sigmoid', [y], {}, `target/sigmoid${l + 1}`) : y;
  }
  const score = g.op('Reshape', [q, g.int64([0], [1], 'shape')], {}, { outputNames: ['score'] })[0];
  return { score, fusionWeights };
}
