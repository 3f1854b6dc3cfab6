import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam, originalParamGroups } from './adam.js';
import { clipGradNorm } from './clip.js';

interface OptCase {
  kind: 'adam' | 'adamw';
  lr: Record<string, number>;
  weight_decay: number;
  clip: number | null;
  a0: number[];
  b0: number[];
  grads: { a: number[]; b: number[] }[];
  steps: { total_norm: number | null; a: number[]; b: number[] }[];
}
const goldens = JSON.parse(
  readFileSync(new URL('../../fixtures/torch-goldens.json', import.meta.url), 'utf8'),
) as {
  optimizers: OptCase[];
};

/** Float64 reference of torch.optim.Adam/AdamW + clip_grad_norm_ (the algorithm as documented by torch). */
function reference(c: OptCase): { params: Float64Array[]; norms: number[] }[] {
  const p = [Float64Array.from(c.a0), Float64Array.from(c.b0)];
  const lrs = [c.lr['swin.a'], c.lr['fc.b']];
  const m = p.map((x) => new Float64Array(x.length));
  const v = p.map((x) => new Float64Array(x.length));
  const out: { params: Float64Array[]; norms: number[] }[] = [];
  const wd = c.weight_decay;
  c.grads.forEach((gs, k) => {
    const t = k + 1;
    let g = [Float64Array.from(gs.a), Float64Array.from(gs.b)];
    const norms: number[] = [];
    if (c.clip !== null) {
      const total = Math.sqrt(g.reduce((s, x) => s + x.reduce((a, b) => a + b * b, 0), 0));
      norms.push(total);
      const coef = c.clip / (total + 1e-6);
      if (coef < 1) g = g.map((x) => x.map((e) => e * coef));
    }
    for (let i = 0; i < 2; i++) {
      const lr = lrs[i];
      for (let j = 0; j < p[i].length; j++) {
        let gj = g[i][j];
        if (c.kind === 'adam') gj += wd * p[i][j];
        else p[i][j] *= 1 - lr * wd;
        m[i][j] = 0.9 * m[i][j] + 0.1 * gj;
        v[i][j] = 0.999 * v[i][j] + 0.001 * gj * gj;
        const denom = Math.sqrt(v[i][j]) / Math.sqrt(1 - 0.999 ** t) + 1e-8;
        p[i][j] -= (lr / (1 - 0.9 ** t)) * (m[i][j] / denom);
      }
    }
    out.push({ params: p.map((x) => Float64Array.from(x)), norms });
  });
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function runTfjs(c: OptCase): { params: Float32Array[]; norms: number[] }[] {
  const a = tf.variable(tf.tensor(c.a0, [3, 4]), true);
  const b = tf.variable(tf.tensor(c.b0, [5]), true);
  const names = ['swin.a', 'fc.b'];
  const groups = originalParamGroups(names, {
    lr: c.lr['swin.a'],
    lrRatio: c.lr['fc.b'] / c.lr['swin.a'],
    weightDecay: c.weight_decay,
    backbonePrefixes: ['swin.'],
  });
  const opt = new Adam(
    [
      { name: 'swin.a', variable: a },
      { name: 'fc.b', variable: b },
    ],
    groups,
    { kind: c.kind },
  );
  const out: { params: Float32Array[]; norms: number[] }[] = [];
  for (const gs of c.grads) {
    let grads = new Map<string, tf.Tensor>([
      ['swin.a', tf.tensor(gs.a, [3, 4])],
      ['fc.b', tf.tensor(gs.b, [5])],
    ]);
    const norms: number[] = [];
    if (c.clip !== null) {
      const clipped = clipGradNorm(grads, c.clip);
      norms.push(clipped.totalNorm);
      tf.dispose([...grads.values()]);
      grads = clipped.grads;
    }
    opt.applyGradients(grads);
    tf.dispose([...grads.values()]);
    out.push({ params: [a.dataSync() as Float32Array, b.dataSync() as Float32Array], norms });
  }
  opt.dispose();
  a.dispose();
  b.dispose();
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Adam / AdamW (torch semantics)', () => {
  for (const c of goldens.optimizers) {
    it(`${c.kind}: float64 reference matches torch 1.13 over 5 steps`, () => {
      const ref = reference(c);
      c.steps.forEach((s, k) => {
        expect(maxAbsDiff(ref[k].params[0], s.a)).toBeLessThan(2e-6);
        expect(maxAbsDiff(ref[k].params[1], s.b)).toBeLessThan(2e-6);
        if (s.total_norm !== null) expect(ref[k].norms[0]).toBeCloseTo(s.total_norm, 5);
      });
    });

    it(`${c.kind}: tfjs implementation matches the float64 reference and torch`, () => {
      const ref = reference(c);
      const got = runTfjs(c);
      got.forEach((g, k) => {
        expect(maxAbsDiff(g.params[0], ref[k].params[0])).toBeLessThan(1e-6);
        expect(maxAbsDiff(g.params[1], ref[k].params[1])).toBeLessThan(1e-6);
        expect(maxAbsDiff(g.params[0], c.steps[k].a)).toBeLessThan(1e-6);
        expect(maxAbsDiff(g.params[1], c.steps[k].b)).toBeLessThan(1e-6);
        if (c.clip !== null)
          expect(Math.abs(g.norms[0] - (c.steps[k].total_norm as number))).toBeLessThan(1e-5);
      });
    });
  }

  it('clipping is applied only when the coefficient is < 1 (torch clamps it at 1)', () => {
    const small = new Map([['x', tf.tensor1d([0.3, 0.4])]]);
    const r = clipGradNorm(small, 1);
    expect(r.totalNorm).toBeCloseTo(0.5, 6);
    expect(Array.from(r.grads.get('x')!.dataSync())).toEqual(Array.from(small.get('x')!.dataSync()));
    const big = new Map([
      ['x', tf.tensor1d([3, 0])],
      ['y', tf.tensor1d([4])],
    ]);
    const rb = clipGradNorm(big, 1);
    expect(rb.totalNorm).toBeCloseTo(5, 5);
    const coef = 1 / (5 + 1e-6);
    expect(rb.grads.get('x')!.dataSync()[0]).toBeCloseTo(3 * coef, 6);
    expect(rb.grads.get('y')!.dataSync()[0]).toBeCloseTo(4 * coef, 6);
    tf.dispose([...small.values(), ...r.grads.values(), ...big.values(), ...rb.grads.values()]);
  });

  it('state is keyed by name: export, import into a fresh optimizer built in another order, continue identically', () => {
    const mk = () => ({
      a: tf.variable(tf.tensor1d([1, 2, 3]), true),
      b: tf.variable(tf.tensor1d([-1, 0.5]), true),
    });
    const grads = (k: number) =>
      new Map<string, tf.Tensor>([
        ['swin.a', tf.tensor1d([0.1 * k, -0.2, 0.3])],
        ['head.b', tf.tensor1d([0.05, -0.01 * k])],
      ]);
    const groups = originalParamGroups(['swin.a', 'head.b'], {
      lr: 0.01,
      lrRatio: 10,
      weightDecay: 0.1,
      backbonePrefixes: ['swin.'],
    });
    // uninterrupted: 4 steps
    const u = mk();
    const optU = new Adam(
      [
        { name: 'swin.a', variable: u.a },
        { name: 'head.b', variable: u.b },
      ],
      groups,
      { kind: 'adamw' },
    );
    for (let k = 1; k <= 4; k++) {
      const g = grads(k);
      optU.applyGradients(g);
      tf.dispose([...g.values()]);
    }
    // interrupted after 2 steps, state carried over into an optimizer built with the params in reverse order
    const r = mk();
    const opt1 = new Adam(
      [
        { name: 'swin.a', variable: r.a },
        { name: 'head.b', variable: r.b },
      ],
      groups,
      { kind: 'adamw' },
    );
    for (let k = 1; k <= 2; k++) {
      const g = grads(k);
      opt1.applyGradients(g);
      tf.dispose([...g.values()]);
    }
    const state = opt1.exportState();
    opt1.dispose();
    const opt2 = new Adam(
      [
        { name: 'head.b', variable: r.b },
        { name: 'swin.a', variable: r.a },
      ],
      [...groups].reverse(),
      { kind: 'adamw' },
    );
    opt2.importState(state);
    expect(opt2.step).toBe(2);
    for (let k = 3; k <= 4; k++) {
      const g = grads(k);
      opt2.applyGradients(g);
      tf.dispose([...g.values()]);
    }
    expect(Array.from(r.a.dataSync())).toEqual(Array.from(u.a.dataSync()));
    expect(Array.from(r.b.dataSync())).toEqual(Array.from(u.b.dataSync()));
    optU.dispose();
    opt2.dispose();
    tf.dispose([u.a, u.b, r.a, r.b]);
  });

  it('groups by name prefix: backbone (swin./res.) at lr, everything else at lr x ratio', () => {
    const g = originalParamGroups(
      ['swin.backbone.x', 'swin.lda1_fc.weight', 'conv1.0.weight', 'res.conv1.weight'],
      {
        lr: 1e-5,
        lrRatio: 10,
        weightDecay: 0,
        backbonePrefixes: ['swin.', 'res.'],
      },
    );
    expect(g.map((x) => [x.name, x.lr, x.params])).toEqual([
      ['backbone', 1e-5, ['swin.backbone.x', 'swin.lda1_fc.weight', 'res.conv1.weight']],
      ['head', 1e-5 * 10, ['conv1.0.weight']],
    ]);
  });

  it('rejects bad input with the parameter named', () => {
    const a = tf.variable(tf.tensor1d([1]), true);
    expect(
      () =>
        new Adam([{ name: 'a', variable: a }], [{ name: 'g', lr: 1, weightDecay: 0, params: ['b'] }], {
          kind: 'adam',
        }),
    ).toThrow(/unknown parameter 'b'/);
    const opt = new Adam(
      [{ name: 'a', variable: a }],
      [{ name: 'g', lr: 1, weightDecay: 0, params: ['a'] }],
      {
        kind: 'adam',
      },
    );
    expect(() => opt.applyGradients(new Map())).toThrow(/no gradient for parameter 'a'/);
    expect(() => opt.setLr('nope', 1)).toThrow(/no parameter group 'nope'/);
    opt.dispose();
    a.dispose();
  });
});
