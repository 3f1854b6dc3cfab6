/**
 * The HyperIQA head of the original (`HyperNet` / `TargetNet` in `smart_iqa/models/smart_iqa.py`) on top of any
 * backbone's four NHWC stage maps:
 * LDA heads → target_in_vec; fusion (single / concat / attention) → conv1 1x1 stack → Dropout → H;
 * generators (3x3 convs and linears on H) → per-image TargetNet weights; TargetNet computed batched.
 *
 * Parameter names follow the PyTorch state dict: `<lda>.lda{1..3}_pool.0.weight`, `<lda>.lda{1..4}_fc.*` (lda = 'swin'
 * or 'res'), `multiscale_attention.attention_net.{0,3}.*`, `conv1.{0,2,4}.*`, `fc1w_conv.*` … `fc5b_fc.*`.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardContext, StageFeatures } from './backbone.js';
import type { FusionMode, HyperHeadConfig } from './config.js';
import { Initializer } from './init.js';
import { permute } from './ops/layout.js';
import { conv2d } from './ops/conv.js';
import { linear } from './ops/linear.js';
import { dropout } from './ops/nn.js';
import type { ParamStore } from './params.js';

/** tf scope name of the TargetNet (the complexity package attributes its kernels by it). */
export const TARGET_NET_SCOPE = 'target_net';

export interface HeadOptions {
  /** Prefix of the LDA modules: 'swin' (SMART-IQA) or 'res' (HyperIQA). */
  ldaPrefix: string;
  stageChannels: [number, number, number, number];
  fusion: FusionMode;
  /** Dropout on H and after TargetNet layers 1-3 (0 for the original HyperIQA). */
  dropoutRate: number;
  /** Dropout inside the attention MLP (0.5 in the original). */
  attentionDropout: number;
  seed: number;
  /** false: zero-filled parameters (weights are loaded next). Default true. */
  randomInit?: boolean;
}

/** Per-image TargetNet parameters, as the original's HyperNet output dict (weights row-major [B, out, in]). */
export interface TargetParams {
  /** [B, targetInSize] (target_in_vec). */
  input: tf.Tensor2D;
  /** Layer l = 1..5: weights [B, out, in] and biases [B, out]. */
  weights: tf.Tensor3D[];
  biases: tf.Tensor2D[];
}

export interface HeadOutput {
  /** [B] quality scores. */
  score: tf.Tensor1D;
  /** [B, 4] softmax fusion weights (attention fusion only). */
  attention: tf.Tensor2D | null;
  target: TargetParams;
}

interface Lin {
  w: tf.Tensor2D;
  b: tf.Tensor1D;
}

export class HyperHead {
  private readonly lda: { conv: tf.Tensor2D | null; fc: Lin }[];
  private readonly attn: { l0: Lin; l3: Lin } | null;
  private readonly conv1: Lin[];
  private readonly wGen: { w: tf.Tensor4D; b: tf.Tensor1D; out: number; in: number }[];
  private readonly bGen: Lin[];
  private readonly fc5w: Lin;
  readonly hyperInChannels: number;

  constructor(
    store: ParamStore,
    readonly config: HyperHeadConfig,
    readonly opts: HeadOptions,
  ) {
    const init = new Initializer(opts.seed, opts.randomInit ?? true);
    const cfg = config;
    const [c0, c1, c2, c3] = opts.stageChannels;
    const fs = cfg.featureSize;
    const lp = (n: string): string => `${opts.ldaPrefix}.${n}`;
    const kaimingLinear = (name: string, inF: number, outF: number): Lin => ({
      w: store.add(`${name}.weight`, init.kaimingNormal(`${name}.weight`, [inF, outF], inF), {
        layout: 'linear',
      }) as tf.Tensor2D,
      b: store.add(`${name}.bias`, init.torchDefault(`${name}.bias`, [outF], inF)) as tf.Tensor1D,
    });
    // LDA 1-3: 1x1 conv (no bias, kaiming) → AvgPool(fs, fs) → flatten (channel-major) → Linear(→ ldaOut).
    const lda3 = [c0, c1, c2].map((cin, i) => {
      const convOut = cfg.ldaOut * 2 ** i;
      const side = fs * 2 ** (3 - i);
      const pooled = side / fs;
      const convName = lp(`lda${i + 1}_pool.0.weight`);
      const conv = store.add(convName, init.kaimingNormal(convName, [cin, convOut], cin), {
        layout: 'conv1x1',
      }) as tf.Tensor2D;
      return { conv, fc: kaimingLinear(lp(`lda${i + 1}_fc`), convOut * pooled * pooled, cfg.ldaOut) };
    });
    const lda4Out = cfg.targetInSize - 3 * cfg.ldaOut;
    if (lda4Out <= 0)
      throw new Error(
        `head config: targetInSize ${cfg.targetInSize} must exceed 3·ldaOut = ${3 * cfg.ldaOut}`,
      );
    this.lda = [...lda3, { conv: null, fc: kaimingLinear(lp('lda4_fc'), c3, lda4Out) }];

    const cin = opts.fusion === 'single' ? c3 : c0 + c1 + c2 + c3;
    this.hyperInChannels = cin;
    if (opts.fusion === 'attention') {
      const a = 'multiscale_attention.attention_net';
      const h = cfg.attentionHidden;
      const normalLin = (name: string, inF: number, outF: number): Lin => ({
        w: store.add(`${name}.weight`, init.normal(`${name}.weight`, [inF, outF], 0.01), {
          layout: 'linear',
        }) as tf.Tensor2D,
        b: store.add(`${name}.bias`, init.zeros([outF])) as tf.Tensor1D,
      });
      this.attn = { l0: normalLin(`${a}.0`, c3, h), l3: normalLin(`${a}.3`, h, 4) };
    } else {
      this.attn = null;
    }
    // conv1: 1x1 convs with PyTorch's default init.
    const widths = [cin, cfg.conv1Hidden[0], cfg.conv1Hidden[1], cfg.hyperInChannels];
    this.conv1 = [0, 2, 4].map((idx, i) => {
      const name = `conv1.${idx}`;
      const inF = widths[i];
      const outF = widths[i + 1];
      return {
        w: store.add(`${name}.weight`, init.torchDefault(`${name}.weight`, [inF, outF], inF), {
          layout: 'conv1x1',
        }) as tf.Tensor2D,
        b: store.add(`${name}.bias`, init.torchDefault(`${name}.bias`, [outF], inF)) as tf.Tensor1D,
      };
    });
    // Generators: fc{l}w_conv (3x3, pad 1) and fc{l}b_fc for l = 1..4, then fc5w_fc and fc5b_fc.
    const hin = cfg.hyperInChannels;
    const sizes = [cfg.targetInSize, ...cfg.targetFc];
    this.wGen = [];
    this.bGen = [];
    for (let l = 0; l < 4; l++) {
      const inF = sizes[l];
      const outF = sizes[l + 1];
      const convOut = (inF * outF) / (fs * fs);
      if (!Number.isInteger(convOut)) {
        throw new Error(
          `head config: TargetNet layer ${l + 1} (${inF}→${outF}) has ${inF * outF} weights, not a multiple of ${fs}²`,
        );
      }
      const wn = `fc${l + 1}w_conv`;
      const fan = hin * 9;
      this.wGen.push({
        w: store.add(`${wn}.weight`, init.kaimingNormal(`${wn}.weight`, [3, 3, hin, convOut], fan), {
          layout: 'conv',
        }) as tf.Tensor4D,
        b: store.add(`${wn}.bias`, init.torchDefault(`${wn}.bias`, [convOut], fan)) as tf.Tensor1D,
        out: outF,
        in: inF,
      });
      this.bGen.push(kaimingLinear(`fc${l + 1}b_fc`, hin, outF));
    }
    this.fc5w = kaimingLinear('fc5w_fc', hin, sizes[4]);
    this.bGen.push(kaimingLinear('fc5b_fc', hin, 1));
  }

  forward(feats: StageFeatures, ctx: ForwardContext): HeadOutput {
    const hyper = this.hyperNet(feats, ctx);
    const score = tf.tidy(TARGET_NET_SCOPE, () => this.targetNet(hyper.target, ctx));
    return { score, attention: hyper.attention, target: hyper.target };
  }

  /** Everything but the TargetNet: LDA vector, fusion, HyperNet stack and the generated TargetNet parameters. */
  hyperNet(
    feats: StageFeatures,
    ctx: ForwardContext,
  ): { target: TargetParams; attention: tf.Tensor2D | null } {
    const cfg = this.config;
    const fs = cfg.featureSize;
    const b = feats[0].shape[0];
    feats.forEach((f, i) => {
      const side = fs * 2 ** (3 - i);
      if (f.shape[1] !== side || f.shape[2] !== side || f.shape[3] !== this.opts.stageChannels[i]) {
        throw new Error(
          `HyperHead: stage ${i} map is [${f.shape}], expected [B,${side},${side},${this.opts.stageChannels[i]}] (224 input)`,
        );
      }
    });
    // LDA → target_in_vec [B, targetInSize]
    const ldaVecs = this.lda.map((l, i) => {
      const f = feats[i];
      if (l.conv) {
        const c = linear(f, l.conv); // 1x1 conv, no bias
        const pooled = tf.avgPool(c, fs, fs, 'valid'); // [B, s, s, k]
        const flat = tf.reshape(permute(pooled, [0, 3, 1, 2]), [b, -1]) as tf.Tensor2D; // torch flatten (channel-major)
        return linear(flat, l.fc.w, l.fc.b);
      }
      const g = tf.reshape(tf.avgPool(f, fs, fs, 'valid'), [b, -1]) as tf.Tensor2D;
      return linear(g, l.fc.w, l.fc.b);
    });
    const targetIn = tf.concat(ldaVecs, 1) as tf.Tensor2D;

    // Fusion → hyper_in [B, fs, fs, Cin]
    let attention: tf.Tensor2D | null = null;
    let hyperIn: tf.Tensor4D;
    if (this.opts.fusion === 'single') {
      hyperIn = feats[3];
    } else {
      const pooled = feats.map((f, i) =>
        i === 3 ? f : tf.avgPool(f, 2 ** (3 - i), 2 ** (3 - i), 'valid'),
      ) as tf.Tensor4D[];
      if (this.attn) {
        const g = tf.reshape(tf.avgPool(feats[3], fs, fs, 'valid'), [b, -1]) as tf.Tensor2D;
        let a = linear(g, this.attn.l0.w, this.attn.l0.b, { relu: true });
        a = dropout(a, this.opts.attentionDropout, ctx, 'attention dropout');
        attention = tf.softmax(linear(a, this.attn.l3.w, this.attn.l3.b)) as tf.Tensor2D;
        const alpha = tf.split(attention, 4, 1);
        hyperIn = tf.concat(
          pooled.map((p, i) => tf.mul(p, tf.reshape(alpha[i], [b, 1, 1, 1]))),
          3,
        ) as tf.Tensor4D;
      } else {
        hyperIn = tf.concat(pooled, 3) as tf.Tensor4D;
      }
    }
    let h: tf.Tensor4D = hyperIn;
    for (const l of this.conv1) h = linear(h, l.w, l.b, { relu: true });
    h = dropout(h, this.opts.dropoutRate, ctx, 'HyperNet dropout');

    // Generators
    const gap = tf.reshape(tf.avgPool(h, fs, fs, 'valid'), [b, -1]) as tf.Tensor2D;
    const weights = this.wGen.map((g) => {
      const y = conv2d(h, g.w, g.b, 1, 1);
      // torch view of the NCHW conv output per image: [C, fs, fs] row-major → [out, in]
      return tf.reshape(permute(y, [0, 3, 1, 2]), [b, g.out, g.in]) as tf.Tensor3D;
    });
    weights.push(tf.reshape(linear(gap, this.fc5w.w, this.fc5w.b), [b, 1, -1]) as tf.Tensor3D);
    const biases = this.bGen.map((l) => linear(gap, l.w, l.b));
    return { target: { input: targetIn, weights, biases }, attention };
  }

  /** The per-image TargetNet, batched: one batched product per layer, sigmoid after 1-4, dropout after 1-3. */
  targetNet(target: TargetParams, ctx: ForwardContext): tf.Tensor1D {
    const b = target.input.shape[0];
    let q: tf.Tensor2D = target.input;
    for (let l = 0; l < 5; l++) {
      const [, out, inF] = target.weights[l].shape;
      const y = tf.add(
        tf.reshape(tf.matMul(target.weights[l], tf.reshape(q, [b, inF, 1])), [b, out]),
        target.biases[l],
      ) as tf.Tensor2D;
      if (l < 4) {
        q = tf.sigmoid(y);
        if (l < 3) q = dropout(q, this.opts.dropoutRate, ctx, 'TargetNet dropout');
      } else {
        q = y;
      }
    }
    return tf.reshape(q, [b]) as tf.Tensor1D;
  }
}
